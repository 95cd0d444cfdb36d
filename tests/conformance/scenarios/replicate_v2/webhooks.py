"""A prediction with a webhook, verified with the default signing secret the way Replicate's
docs verify it (Standard Webhooks: HMAC-SHA256 over id.timestamp.body)."""

import base64
import hashlib
import hmac
import http.server
import json
import queue
import threading

import replicate

received: "queue.Queue[tuple[dict[str, str], bytes]]" = queue.Queue()


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        received.put(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()

secret = replicate.webhooks.default.secret.get()
assert secret.key.startswith("whsec_"), secret

prediction = replicate.predictions.create(
    version="0000000000000000cde1a443fb5c271536f3fbcf69adf80bf7ecb441405a9e44",
    input={"text": "webhook"},
    webhook=f"http://127.0.0.1:{server.server_address[1]}/replicate-webhook",
    webhook_events_filter=["completed"],
)
headers, body = received.get(timeout=20)
signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
key = base64.b64decode(secret.key.split("_", 1)[1])
expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
signatures = [s.split(",", 1)[1] for s in headers["webhook-signature"].split()]
assert any(hmac.compare_digest(expected, s) for s in signatures), (expected, signatures)
payload = json.loads(body)
assert payload["id"] == prediction.id and payload["status"] == "succeeded", payload
assert payload["output"] == "hello webhook", payload
server.shutdown()
print("OK")

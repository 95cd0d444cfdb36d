"""README "Run a model in the background and get a webhook", with the default signing secret
and replicate.webhooks.validate on what arrives."""

import http.server
import json
import queue
import threading

import replicate

received: "queue.Queue[tuple[dict[str, str], str]]" = queue.Queue()


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        received.put((dict(self.headers.items()), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()
webhook_url = f"http://127.0.0.1:{server.server_address[1]}/replicate-webhook"

secret = replicate.webhooks.default.secret()
assert secret.key.startswith("whsec_"), secret
assert replicate.webhooks.default.secret().key == secret.key  # stable

prediction = replicate.predictions.create(
    version="0000000000000000cde1a443fb5c271536f3fbcf69adf80bf7ecb441405a9e44",
    input={"text": "webhook"},
    webhook=webhook_url,
    webhook_events_filter=["completed"],
)
headers, body = received.get(timeout=20)
headers = {k.lower(): v for k, v in headers.items()}
assert replicate.webhooks.validate(headers=headers, body=body, secret=secret) is None
payload = json.loads(body)
assert payload["id"] == prediction.id and payload["status"] == "succeeded", payload
assert payload["output"] == "hello webhook", payload

tampered = body.replace("hello webhook", "hello mallory")
try:
    replicate.webhooks.validate(headers=headers, body=tampered, secret=secret)
except replicate.webhook.InvalidSignatureError:
    pass
else:
    raise AssertionError("a tampered body validated")
server.shutdown()
print("OK")

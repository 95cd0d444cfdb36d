"""A minimal Replicate-shaped server: answers sync-mode creates at once, nothing else.

So the fan-out figures do not depend on the emulator, ``bench_fanout.py`` also runs against
this ``aiohttp.web`` app (in another process). It knows four routes:

* ``POST /v1/models/{owner}/{name}/predictions``: a ``succeeded`` prediction whose output is
  ``"instant: <input.text>"``, ``201``, at once (whatever ``Prefer`` says);
* ``POST /v1/predictions``: the same, for a ``version`` create;
* ``GET /v1/models/{owner}/{name}`` and ``GET /v1/models/{owner}/{name}/versions/{id}``: a
  model and a version whose output schema is a string (what clients fetch to shape output);
* ``GET /v1/predictions/{id}``: the prediction again (for clients that poll anyway).

Bodies are built from one template, so the server's own CPU per request is small (it runs in
another process: its time is not counted).

Run: ``python benchmarks/_minimal_server.py`` prints ``http://127.0.0.1:PORT/v1``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
from typing import Any

from aiohttp import web

# The emulator's id for replicate/hello-world: an emulator-made id (16 zeros first) never names a
# real version, so nothing run against this server can be mistaken for a real model's output.
VERSION = "0000000000000000cde1a443fb5c271536f3fbcf69adf80bf7ecb441405a9e44"
CREATED = "2026-01-01T00:00:00.000000Z"
SCHEMA = {
    "openapi": "3.0.2",
    "components": {
        "schemas": {
            "Input": {
                "type": "object",
                "properties": {"text": {"type": "string"}},
            },
            "Output": {"type": "string", "title": "Output"},
        }
    },
}


def _prediction(pid: str, model: str, text: str, base: str) -> dict[str, Any]:
    return {
        "id": pid,
        "model": model,
        "version": VERSION,
        "input": {"text": text},
        "logs": "",
        "output": f"instant: {text}",
        "data_removed": False,
        "error": None,
        "status": "succeeded",
        "source": "api",
        "created_at": CREATED,
        "started_at": CREATED,
        "completed_at": CREATED,
        "metrics": {"predict_time": 0.0, "total_time": 0.0},
        "urls": {
            "cancel": f"{base}/predictions/{pid}/cancel",
            "get": f"{base}/predictions/{pid}",
            "web": f"https://replicate.com/p/{pid}",
        },
    }


def make_app() -> web.Application:
    ids = itertools.count()
    seen: dict[str, bytes] = {}

    def base(request: web.Request) -> str:
        return f"http://{request.host}/v1"

    async def create(request: web.Request) -> web.Response:
        body = await request.json()
        owner = request.match_info.get("owner", "replicate")
        name = request.match_info.get("name", "instant")
        pid = f"p{next(ids):012d}"
        text = str((body.get("input") or {}).get("text", ""))
        data = json.dumps(_prediction(pid, f"{owner}/{name}", text, base(request))).encode()
        if len(seen) > 50_000:
            seen.clear()
        seen[pid] = data
        return web.Response(body=data, status=201, content_type="application/json")

    async def get_prediction(request: web.Request) -> web.Response:
        data = seen.get(request.match_info["pid"])
        if data is None:
            return web.json_response({"detail": "Not found.", "status": 404}, status=404)
        return web.Response(body=data, content_type="application/json")

    async def get_model(request: web.Request) -> web.Response:
        owner, name = request.match_info["owner"], request.match_info["name"]
        version: dict[str, Any] = {"id": VERSION, "created_at": CREATED, "cog_version": "0.9.4"}
        version["openapi_schema"] = SCHEMA
        return web.json_response(
            {
                "url": f"https://replicate.com/{owner}/{name}",
                "owner": owner,
                "name": name,
                "description": "instant",
                "visibility": "public",
                "github_url": None,
                "paper_url": None,
                "license_url": None,
                "run_count": 0,
                "cover_image_url": None,
                "default_example": None,
                "latest_version": version,
            }
        )

    async def get_version(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "id": request.match_info["vid"],
                "created_at": CREATED,
                "cog_version": "0.9.4",
                "openapi_schema": SCHEMA,
            }
        )

    app = web.Application()
    app.router.add_post("/v1/models/{owner}/{name}/predictions", create)
    app.router.add_post("/v1/predictions", create)
    app.router.add_get("/v1/predictions/{pid}", get_prediction)
    app.router.add_get("/v1/models/{owner}/{name}", get_model)
    app.router.add_get("/v1/models/{owner}/{name}/versions/{vid}", get_version)
    return app


async def serve(ready: Any = None) -> None:
    runner = web.AppRunner(make_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    port = runner.addresses[0][1]
    url = f"http://127.0.0.1:{port}/v1"
    if ready is not None:
        ready(url)
    else:
        print(url, flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        sys.exit(0)

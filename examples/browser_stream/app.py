"""Replicate's browser streaming example, served by aiohttp with ``replicate_async``.

The server creates a prediction with ``stream=True`` (it holds the API token) and returns
the prediction's id and ``urls.stream`` to the page; the page opens an ``EventSource`` on
that URL and prints the ``output`` events until ``done``. The browser never sees the token:
stream URLs are capability URLs, readable without one.

Run it on the embedded emulator with ``python -m examples.browser_stream --local`` (or
``python examples/browser_stream/app.py --local``), or against Replicate with
``REPLICATE_API_TOKEN`` set and no ``--local``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web

import replicate_async

__all__ = ["MODEL", "build_app", "main", "serve"]

MODEL = "meta/meta-llama-3-8b-instruct"
MAX_PROMPT = 4000
PAGE = Path(__file__).with_name("index.html")
CLIENT = web.AppKey("client", replicate_async.Client)


def _problem(status: int, detail: str) -> web.Response:
    return web.json_response({"detail": detail, "status": status}, status=status)


async def index(request: web.Request) -> web.Response:
    return web.Response(text=PAGE.read_text(encoding="utf-8"), content_type="text/html")


async def create_prediction(request: web.Request) -> web.Response:
    """``POST /predictions`` ``{"prompt": "..."}`` → the prediction's id and stream URL."""
    try:
        body: Any = await request.json()
    except ValueError:
        return _problem(400, "the body must be JSON")
    prompt = body.get("prompt") if isinstance(body, dict) else None
    if not isinstance(prompt, str) or not prompt.strip():
        return _problem(400, "prompt must be a non-empty string")
    if len(prompt) > MAX_PROMPT:
        return _problem(400, f"prompt must be at most {MAX_PROMPT} characters")
    client = request.app[CLIENT]
    try:
        prediction = await client.predictions.async_create(
            model=MODEL, input={"prompt": prompt}, stream=True
        )
    except replicate_async.ReplicateError as error:
        return _problem(502, f"Replicate refused the prediction: {error}")
    stream = prediction.urls.stream if prediction.urls is not None else None
    if not stream:
        return _problem(502, f"{MODEL} did not offer a stream")
    # Only what the page needs: never the token, never the API URLs.
    return web.json_response({"id": prediction.id, "urls": {"stream": stream}}, status=201)


def build_app(client: replicate_async.Client) -> web.Application:
    """The page at ``/`` and ``POST /predictions``; ``client`` stays open as long as the app."""
    app = web.Application(client_max_size=64 * 1024)
    app[CLIENT] = client
    app.router.add_get("/", index)
    app.router.add_post("/predictions", create_prediction)
    return app


@contextlib.asynccontextmanager
async def serve(
    client: replicate_async.Client, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[str]:
    """Serve the example; yields the URL to open."""
    runner = web.AppRunner(build_app(client), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1]
        yield f"http://{host}:{bound}/"
    finally:
        await runner.cleanup()


async def run(local: bool, host: str, port: int, speed: float) -> None:
    async with contextlib.AsyncExitStack() as stack:
        if local:
            from replicate_async.emulator import Emulator

            emu = await stack.enter_async_context(Emulator(speed=speed))
            client = await stack.enter_async_context(emu.client())
            where = f"the embedded emulator ({emu.url})"
        else:
            client = await stack.enter_async_context(replicate_async.Client())
            where = "Replicate"
        url = await stack.enter_async_context(serve(client, host, port))
        print(f"Streaming {MODEL} from {where}.\nOpen {url} (Ctrl-C to stop)", flush=True)
        stop = asyncio.Event()
        with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--local", action="store_true", help="run on the embedded emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--speed", type=float, default=1.0, help="emulator speed-up (with --local)")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(args.local, args.host, args.port, args.speed))


if __name__ == "__main__":
    main()

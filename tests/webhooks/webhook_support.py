"""Helpers for the webhook tests (imported by name: tests/webhooks is not a package)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from replicate_async.webhooks import sign

__all__ = [
    "CALL_TIMEOUT",
    "LLAMA3",
    "SECRET",
    "Twin",
    "post_signed",
    "prediction_body",
    "serve",
    "wait_until",
]

T = TypeVar("T")
CALL_TIMEOUT = 20.0
LLAMA3 = "meta/meta-llama-3-8b-instruct"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class Twin:
    """Calls ``obj.async_x(...)`` directly, or its blocking twin ``obj.x(...)`` in a thread."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def __repr__(self) -> str:
        return self.mode

    async def __call__(self, method: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        if self.mode == "async":
            return await asyncio.wait_for(method(*args, **kwargs), CALL_TIMEOUT)
        owner = method.__self__  # type: ignore[attr-defined]
        name = method.__name__
        assert name.startswith("async_"), name
        blocking: Callable[..., T] = getattr(owner, name.removeprefix("async_"))
        return await asyncio.wait_for(asyncio.to_thread(blocking, *args, **kwargs), CALL_TIMEOUT)


@contextlib.asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Serve ``app`` on a random loopback port; yields ``http://127.0.0.1:PORT``."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


def prediction_body(
    id: str = "ufawqhfynnddngldkgtslldrkq", status: str = "processing", **fields: Any
) -> bytes:
    """A prediction JSON body as Replicate would deliver it."""
    data = {
        "id": id,
        "model": LLAMA3,
        "version": "hidden",
        "status": status,
        "input": {"prompt": "Hi"},
        "output": fields.pop("output", ["Hello"]),
        "logs": "",
        "error": None,
        "created_at": "2024-05-01T10:00:00.000000Z",
        "urls": {"get": f"https://api.replicate.com/v1/predictions/{id}"},
        **fields,
    }
    return json.dumps(data).encode()


async def post_signed(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    *,
    secret: str = SECRET,
    msg_id: str | None = None,
    timestamp: int | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, str]:
    """POST ``body`` signed like Replicate; returns (status, text)."""
    signed = sign(body, secret, msg_id=msg_id, timestamp=timestamp)
    all_headers = {"Content-Type": "application/json", **signed, **(headers or {})}
    timeout = aiohttp.ClientTimeout(total=CALL_TIMEOUT)
    async with session.post(url, data=body, headers=all_headers, timeout=timeout) as response:
        return response.status, await response.text()


async def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``predicate`` every 10 ms; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        assert loop.time() < end, "condition not met in time"
        await asyncio.sleep(0.01)

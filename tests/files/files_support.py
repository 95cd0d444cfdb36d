"""Helpers for the file tests (imported by name; tests/files has no package)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from replicate_async import Page

__all__ = ["CALL_TIMEOUT", "Origin", "Twin", "names"]

T = TypeVar("T")
CALL_TIMEOUT = 20.0


def names(directory: Path) -> list[str]:
    """The sorted names of the entries of ``directory`` (hidden temporary files included)."""
    return sorted(p.name for p in directory.iterdir())


class Twin:
    """Calls ``obj.async_x(...)`` directly, or its blocking twin ``obj.x(...)`` in a thread
    (the emulator serves from the test's loop, which a blocking call must not block)."""

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

    async def items(self, page: Page[T]) -> list[T]:
        """Every item across pages: ``async for`` or a plain ``for`` in a thread."""
        if self.mode == "async":

            async def collect() -> list[T]:
                return [item async for item in page]

            return await asyncio.wait_for(collect(), CALL_TIMEOUT)
        return await asyncio.wait_for(asyncio.to_thread(list, page), CALL_TIMEOUT)

    async def chunks(self, source: Any, chunk_size: int | None = None) -> list[bytes]:
        """A FileOutput's chunks: ``async for`` / ``async_iter_chunks`` or their blocking twins."""
        if self.mode == "async":

            async def collect() -> list[bytes]:
                if chunk_size is None:
                    return [c async for c in source]
                return [c async for c in source.async_iter_chunks(chunk_size)]

            return await asyncio.wait_for(collect(), CALL_TIMEOUT)

        def collect_blocking() -> list[bytes]:
            if chunk_size is None:
                return list(source)
            return list(source.iter_chunks(chunk_size))

        return await asyncio.wait_for(asyncio.to_thread(collect_blocking), CALL_TIMEOUT)


class Origin:
    """A loopback HTTP origin that records every request's headers.

    ``/redirect?to=URL`` answers 302 to URL; ``/missing`` 404; ``/slow`` sends 1000 bytes and
    then holds the response open until the origin stops; anything else 200 with ``body``.
    """

    def __init__(self, body: bytes = b"payload", content_type: str = "image/png") -> None:
        self.body = body
        self.content_type = content_type
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.path, dict(request.headers)))
        if request.path == "/redirect":
            raise web.HTTPFound(request.query["to"])
        if request.path == "/slow":
            response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
            await response.prepare(request)
            await response.write(b"x" * 1000)
            await asyncio.wait_for(self._stopping.wait(), CALL_TIMEOUT)
            return response
        if request.path == "/missing":
            return web.Response(status=404, text="Not Found")
        return web.Response(body=self.body, content_type=self.content_type)

    @property
    def saw_authorization(self) -> bool:
        return any("authorization" in {k.lower() for k in h} for _, h in self.seen)

    async def __aenter__(self) -> Origin:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()

"""Helpers for the file tests (imported by name; tests/files has no package)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import support
from aiohttp import web
from support import CALL_TIMEOUT, catch_all, start_site

__all__ = ["CALL_TIMEOUT", "Origin", "Twin", "names"]


def names(directory: Path) -> list[str]:
    """The sorted names of the entries of ``directory`` (hidden temporary files included)."""
    return sorted(p.name for p in directory.iterdir())


class Twin(support.Twin):
    """The shared ``Twin``, plus the chunks of a ``FileOutput`` through either twin."""

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
        self._runner, self.url = await start_site(catch_all(self._handle))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()

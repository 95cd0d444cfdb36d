"""Shared fixtures: a scripted loopback server for the few cases where a canned answer is
simpler than the emulator. The emulator fixture ``replicate_emulator`` comes from the
package's own pytest plugin."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web


class ScriptedServer:
    """Answers each request with the next scripted response; records what it received."""

    def __init__(self) -> None:
        self.script: list[Callable[[web.Request], Any] | web.StreamResponse] = []
        self.requests: list[dict[str, Any]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    def add(
        self,
        status: int = 200,
        body: Any = None,
        headers: dict[str, str] | None = None,
        text: str | None = None,
    ) -> None:
        if text is not None:
            self.script.append(lambda _r: web.Response(status=status, text=text, headers=headers))
        else:
            self.script.append(lambda _r: web.json_response(body, status=status, headers=headers))

    def add_handler(self, handler: Callable[[web.Request], Any]) -> None:
        self.script.append(handler)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "headers": dict(request.headers),
                "body": await request.read(),
            }
        )
        if not self.script:
            return web.json_response({"detail": "no scripted response"}, status=599)
        result = self.script.pop(0)(request)  # type: ignore[operator]
        if hasattr(result, "__await__"):
            result = await result
        return result  # type: ignore[no-any-return]

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/v1"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def scripted() -> AsyncIterator[ScriptedServer]:
    server = ScriptedServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


class ThreadedScriptedServer(ScriptedServer):
    """The scripted server on its own loop thread, for tests that run several event loops."""

    def __enter__(self) -> ThreadedScriptedServer:
        import asyncio
        import threading

        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        import asyncio

        asyncio.run_coroutine_threadsafe(self.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@pytest.fixture
def threaded_scripted() -> Any:
    with ThreadedScriptedServer() as server:
        yield server

"""Helpers shared by the test folders, imported by name (``from support import Twin``).

The test folders are not packages: pytest (default ``prepend`` import mode) puts the folder of
each conftest on ``sys.path``, so the root conftest puts ``tests/`` there before any test
module is imported. A folder's own ``*_support`` module adds what only that folder needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from click.testing import CliRunner, Result

from replicate_async import Page, TokenBucketLimiter
from replicate_async.cli import cli as cli_group

__all__ = [
    "CALL_TIMEOUT",
    "CliInvoker",
    "Twin",
    "catch_all",
    "serve",
    "start_site",
    "wait_until",
]

T = TypeVar("T")
CALL_TIMEOUT = 20.0
"""Seconds any one call of a test may take (every wait is bounded)."""


class FakeTime:
    """A clock that only moves when a caller sleeps (or a test advances ``now``)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.now += delay
        await asyncio.sleep(0)


def fake_limiter(fake: FakeTime, **kwargs: float | None) -> TokenBucketLimiter:
    """A rate limiter on ``fake``'s clock and sleep."""
    return TokenBucketLimiter(clock=fake.clock, sleep=fake.sleep, **kwargs)


class Twin:
    """Calls a coroutine method directly, or its blocking twin in a thread
    (the emulator serves from the test's loop, which a blocking call must not block); both
    bounded by ``CALL_TIMEOUT``. ``mode`` is ``"async"`` or ``"blocking"``."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def __repr__(self) -> str:
        return self.mode

    @staticmethod
    def blocking_name(name: str) -> str:
        """The name of the blocking twin of the coroutine method ``name``: namespace methods
        drop ``async_`` (``async_create`` → ``create``), the client's own verbs add ``_sync``
        (``search`` → ``search_sync``)."""
        return name.removeprefix("async_") if name.startswith("async_") else f"{name}_sync"

    async def __call__(self, method: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        if self.mode == "async":
            return await asyncio.wait_for(method(*args, **kwargs), CALL_TIMEOUT)
        owner = method.__self__  # type: ignore[attr-defined]
        blocking: Callable[..., T] = getattr(owner, self.blocking_name(method.__name__))
        return await asyncio.wait_for(asyncio.to_thread(blocking, *args, **kwargs), CALL_TIMEOUT)

    async def items(self, page: Page[T]) -> list[T]:
        """Every item across pages: ``async for`` or a plain ``for`` in a thread."""
        if self.mode == "async":

            async def collect() -> list[T]:
                return [item async for item in page]

            return await asyncio.wait_for(collect(), CALL_TIMEOUT)
        return await asyncio.wait_for(asyncio.to_thread(list, page), CALL_TIMEOUT)


async def wait_until(
    predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.01
) -> None:
    """Poll ``predicate`` every ``interval`` seconds; fail the test after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


def block_until(
    predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.005
) -> None:
    """``wait_until`` for code outside any event loop."""
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("condition not met in time")
        time.sleep(interval)


def catch_all(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.Application:
    """An application that answers every method and path with ``handler``."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


async def start_site(app: web.Application, **runner_options: Any) -> tuple[web.AppRunner, str]:
    """Serve ``app`` on a free loopback port: its runner (``cleanup()`` it when done) and its
    origin, ``http://127.0.0.1:PORT``."""
    runner = web.AppRunner(app, access_log=None, **runner_options)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


@contextlib.asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Serve ``app`` on a free loopback port for the block; yields ``http://127.0.0.1:PORT``
    (connections still open at the end get one second to finish)."""
    runner, origin = await start_site(app, shutdown_timeout=1.0)
    try:
        yield origin
    finally:
        await runner.cleanup()


class CliInvoker:
    """Runs ``replicate-async`` in-process with click's runner (stdout and stderr apart)."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None) -> Result:
        return self.runner.invoke(cli_group, list(args), input=input, catch_exceptions=False)

    def json(self, *args: str) -> Any:
        """Run with ``--json`` appended and decode stdout (the command must succeed)."""
        result = self(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

"""Shared fixtures: ``client`` (a client on the emulator), ``twin`` (one test body for the
coroutines and their blocking twins), ``emu`` and ``cli`` (an emulator on a background thread
and the command line against it), and a scripted loopback server for the few cases where a
canned answer is simpler than the emulator. The emulator fixture ``replicate_emulator`` comes
from the package's own pytest plugin; helpers shared by the folders live in ``support``."""

from __future__ import annotations

import compileall
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from hypothesis import settings
from support import CliInvoker, Twin, catch_all, start_site

from replicate_async import Client
from replicate_async.emulator import Emulator
from replicate_async.emulator.pytest_plugin import FAST_DEFAULTS

# No per-example deadline anywhere: with three workers on two cores, one example can stall
# for longer than Hypothesis's default 200 ms, which fails a correct test as "unreliable".
# Each test is still bounded by pytest-timeout.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")


@pytest.fixture
async def client(replicate_emulator: Emulator) -> AsyncIterator[Client]:
    """A client on the emulator, closed (sessions on every loop) after the test."""
    async with replicate_emulator.client() as c:
        yield c


@pytest.fixture(params=["async", "blocking"])
def twin(request: pytest.FixtureRequest) -> Twin:
    """Run the test body once through the coroutines and once through the blocking twins."""
    return Twin(request.param)


@pytest.fixture
def emu() -> Iterator[Emulator]:
    """A fast emulator served from a background thread (for code that runs its own event
    loops, such as the command line)."""
    with Emulator(**FAST_DEFAULTS) as emulator:
        yield emulator


@pytest.fixture
def cli(emu: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliInvoker:
    """``cli("run", "owner/name", …)`` → click's result, against ``emu``, cwd in a tmp dir
    (token and base URL from the environment, as a user would set them)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_cli_tests")
    monkeypatch.setenv("REPLICATE_BASE_URL", emu.url)
    monkeypatch.delenv("REPLICATE_API_KEY", raising=False)
    return CliInvoker()


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
        self._runner, origin = await start_site(catch_all(self._handle))
        self.url = f"{origin}/v1"

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


# pytest caches the assertion-rewritten test modules as bytecode unless bytecode writing is
# off; where PYTHONDONTWRITEBYTECODE is set (as on CI) every worker rewrote all ~120 modules on
# every run, 6 s of CPU each. ``make test`` collects once beside the type check to fill that
# cache, so the workers read it (collection: 8 s -> 2 s per worker).
sys.dont_write_bytecode = False


def pytest_configure(config: pytest.Config) -> None:
    """Write the bytecode of the package and the tests once, before any worker starts.

    Hundreds of tests start Python processes (the console script, examples, the official
    clients' scenarios). Where ``PYTHONDONTWRITEBYTECODE`` is set (as on CI), each of them
    would compile this package from source again, about 0.25 s of CPU apiece; reading
    bytecode is not disabled by that variable, so compiling once here saves it.
    """
    if hasattr(config, "workerinput"):  # a pytest-xdist worker: the controller did it
        return
    root = Path(__file__).resolve().parent.parent
    for folder in ("replicate_async", "tests", "examples"):
        compileall.compile_dir(root / folder, quiet=2, workers=1)


# In the root conftest so that it also runs in pytest-xdist's controller, which loads only this.
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    reports = [
        r
        for key in ("passed", "failed", "skipped")
        for r in terminalreporter.stats.get(key, [])
        if getattr(r, "when", "call") in ("call", "setup")
        and "test_docs_examples.py::test_example_runs" in getattr(r, "nodeid", "")
    ]
    if not reports:
        return
    skipped = [r for r in reports if r.skipped]
    terminalreporter.write_sep("-", "documentation examples")
    terminalreporter.write_line(
        f"{len(reports) - len(skipped)} ran, {len(skipped)} skipped (each with its reason):"
    )
    for report in skipped:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        terminalreporter.write_line(f"  {reason.removeprefix('Skipped: ')}")

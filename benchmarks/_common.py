"""What the benchmarks share: the emulator in another process, the profiler switch, and how
results are saved (``benchmarks/results/<name>.json``, with the interpreter and machine).

A benchmark run as a script (``python benchmarks/bench_x.py``) makes the repository importable
first, then imports this module as ``benchmarks._common``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import platform
import sys
import time
from collections.abc import Iterator, Mapping
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

__all__ = [
    "RESULTS",
    "TOKEN",
    "EmulatorProcess",
    "MinimalServerProcess",
    "official_clients",
    "platform_info",
    "profiled",
    "save",
]

RESULTS = Path(__file__).resolve().parent / "results"
TOKEN = "r8_benchmark"


def _serve(conn: Connection, options: dict[str, Any]) -> None:
    from replicate_async.emulator import Emulator

    async def main() -> None:
        async with Emulator(**options) as emu:
            conn.send(emu.url)
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)
            conn.send(
                {"created": emu.stats.predictions_created, "rate_limited": emu.stats.rate_limited}
            )

    asyncio.run(main())


class EmulatorProcess:
    """``with EmulatorProcess(**options) as emu:`` an emulator served by a child process (its
    work does not count in this process's CPU time); ``emu.url``, and once it has stopped
    ``emu.stats`` (``created``: predictions, ``rate_limited``: 429 answers)."""

    def __init__(self, **options: Any) -> None:
        self.options = {"request_log_size": 100, **options}
        self.url = ""
        self.stats: dict[str, int] = {}
        self._conn: Connection | None = None
        self._process: Any = None

    def __enter__(self) -> EmulatorProcess:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, self.options), daemon=True)
        self._process.start()
        self._conn = parent
        deadline = time.monotonic() + 30
        while not parent.poll(0.1):
            if not self._process.is_alive() or time.monotonic() > deadline:
                self._process.kill()
                raise RuntimeError("the emulator process did not start")
        self.url = str(parent.recv())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._conn is not None:
            self._conn.send("stop")
            if self._conn.poll(10):
                self.stats = self._conn.recv()
        if self._process is not None:
            self._process.join(10)
            if self._process.is_alive():
                self._process.kill()


def _serve_minimal(conn: Connection) -> None:
    from benchmarks._minimal_server import serve

    asyncio.run(serve(conn.send))


class MinimalServerProcess:
    """``with MinimalServerProcess() as server:`` the minimal Replicate-shaped server of
    ``_minimal_server.py`` in a child process; ``server.url`` is its API root."""

    def __init__(self) -> None:
        self.url = ""
        self._process: Any = None

    def __enter__(self) -> MinimalServerProcess:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self._process = context.Process(target=_serve_minimal, args=(child,), daemon=True)
        self._process.start()
        deadline = time.monotonic() + 30
        while not parent.poll(0.1):
            if not self._process.is_alive() or time.monotonic() > deadline:
                self._process.kill()
                raise RuntimeError("the minimal server process did not start")
        self.url = str(parent.recv())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.join(10)
            if self._process.is_alive():
                self._process.kill()


@contextlib.contextmanager
def profiled(enabled: bool, *restrictions: Any) -> Iterator[None]:
    """cProfile the block when ``enabled``, then print its hottest functions, sorted by
    ``$BENCH_SORT`` (default ``tottime``) and cut by ``restrictions`` (as ``print_stats``)."""
    if not enabled:
        yield
        return
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
    stats = pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "tottime"))
    stats.print_stats(*restrictions)


def platform_info() -> dict[str, str]:
    """The interpreter version and machine, saved with every result."""
    return {"python": platform.python_version(), "machine": platform.machine()}


def save(name: str, result: Mapping[str, Any]) -> Path:
    """Write ``result`` as ``benchmarks/results/<name>.json``; returns the path.

    A ``--quick`` smoke run writes ``<name>.quick.json`` instead (not kept in git), so it never
    replaces the figures of a full run. ``measured_at`` (UTC) is added, so that a table redrawn
    later says when its figures were measured.
    """
    if "--quick" in sys.argv:
        name += ".quick"
    path = RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    measured_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    path.write_text(json.dumps({**result, "measured_at": measured_at}, indent=2) + "\n")
    return path


CONFORMANCE = Path(__file__).resolve().parent.parent / ".venv" / "conformance"
OFFICIAL_VERSIONS = {"replicate 1.0.7": "1.0.7", "replicate 2.0.0b4": "2.0.0b4"}


def official_clients() -> dict[str, str]:
    """label -> directory to put on ``PYTHONPATH``, for the official clients installed under
    ``.venv/conformance`` (``make conformance-clients``); those missing are left out."""
    found = {}
    for label, version in OFFICIAL_VERSIONS.items():
        path = CONFORMANCE / f"replicate-{version}"
        if (path / f"replicate-{version}.dist-info").is_dir():
            found[label] = str(path)
    return found

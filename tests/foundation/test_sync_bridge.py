"""Blocking twins: scripts, a running loop (Jupyter), threads, fork, and the bridge thread."""

from __future__ import annotations

import asyncio
import inspect
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from replicate_async import BlockingCallError, Client
from replicate_async._io.bridge import blocking, get_bridge_loop, run_blocking
from replicate_async.resources.models import Models, Versions
from replicate_async.resources.predictions import Predictions

TOKEN = "r8_x"


def test_twins_share_signature_and_docstring() -> None:
    for cls in (Predictions, Models, Versions):
        for name, member in vars(cls).items():
            if name.startswith("async_"):
                twin = getattr(cls, name.removeprefix("async_"))
                assert inspect.signature(twin) == inspect.signature(member), name
                assert twin.__doc__ == member.__doc__ and twin.__doc__, name


def test_blocking_in_script(threaded_scripted: Any) -> None:
    threaded_scripted.add(200, {"username": "a"})
    with Client(TOKEN, base_url=threaded_scripted.url) as client:
        assert client.account.get().username == "a"


def test_blocking_inside_running_loop_like_jupyter(threaded_scripted: Any) -> None:
    threaded_scripted.add(200, {"username": "jupyter"})
    client = Client(TOKEN, base_url=threaded_scripted.url)

    async def cell() -> str | None:
        # A notebook cell runs inside a running loop and calls the blocking API.
        return client.account.get().username

    assert asyncio.run(cell()) == "jupyter"
    client.close()


def test_blocking_from_many_threads(threaded_scripted: Any) -> None:
    for i in range(16):
        threaded_scripted.add(200, {"username": f"u{i}"})
    with Client(TOKEN, base_url=threaded_scripted.url) as client, ThreadPoolExecutor(8) as pool:
        names = list(pool.map(lambda _: client.account.get().username, range(16)))
    assert sorted(names) == sorted(f"u{i}" for i in range(16))


def test_blocking_call_from_bridge_thread_raises() -> None:
    async def inner() -> int:
        return 1

    async def on_bridge() -> str:
        coro = inner()
        try:
            run_blocking(coro)
        except BlockingCallError as exc:
            return str(exc)
        return "no error"

    message = asyncio.run_coroutine_threadsafe(on_bridge(), get_bridge_loop()).result(5)
    assert "async_" in message


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
# The fork is the point: the parent's bridge thread is running, and the child must get its own
# (Python 3.12+ warns about forking a process with threads).
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_blocking_after_fork(threaded_scripted: Any) -> None:
    threaded_scripted.add(200, {"username": "parent"})
    threaded_scripted.add(200, {"username": "child"})
    client = Client(TOKEN, base_url=threaded_scripted.url)
    assert client.account.get().username == "parent"  # the bridge now runs in the parent
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            name = client.account.get().username or ""
            os.write(write, name.encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    got = os.read(read, 100).decode()
    os.close(read)
    client.close()
    assert os.waitstatus_to_exitcode(status) == 0 and got == "child"


def test_blocking_decorator_keeps_names() -> None:
    async def async_thing(x: int) -> int:
        """Doc."""
        return x + 1

    twin = blocking(async_thing)
    assert twin(1) == 2 and twin.__name__ == "thing" and twin.__doc__ == "Doc."

"""The bridge for blocking callers: one background event-loop thread per process.

Every blocking twin (``create``, ``run_sync``, ``stream_sync`` …) runs its coroutine on this
loop and waits for the result. That works in a plain script, inside a running event loop (a
Jupyter cell: the caller's loop is never re-entered), from many threads at once, and after
``os.fork`` (the child starts a fresh bridge). A blocking call made from the bridge thread itself
would wait on itself forever, so it raises :class:`BlockingCallError` instead.

The same deadlock hides in notebooks: ``await emu.start()`` serves the emulator from the
notebook's own event loop, and a blocking call made in the next cell (``client.run_sync``)
would block that very loop while waiting for the emulator to answer. Servers on a loop
register their origins here (:func:`serve_origin`); a blocking call whose client points at an
origin served by the loop running in the calling thread raises :class:`BlockingCallError`
naming the fix, instead of hanging.

Twins are made with :func:`blocking` (one typed line per twin: ``create = blocking(async_create)``)
so ``mypy --strict`` checks both with one signature.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import os
import re
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, ParamSpec, TypeVar

from yarl import URL

from .._core.errors import ReplicateAsyncError

log = logging.getLogger("replicate_async")

__all__ = [
    "BlockingCallError",
    "blocking",
    "blocking_iter",
    "forget_origin",
    "iterate_blocking",
    "run_blocking",
    "serve_origin",
]

P = ParamSpec("P")
T = TypeVar("T")


class BlockingCallError(ReplicateAsyncError, RuntimeError):
    """A blocking call was made from the bridge's own thread, where it would deadlock."""


class _Bridge:
    """An event loop running forever in a daemon thread."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name="replicate-async-bridge", daemon=True)
        self.thread.start()
        self._ready.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._ready.set)
        self.loop.run_forever()


_lock = threading.Lock()
_bridge: _Bridge | None = None


def _forget_bridge_after_fork() -> None:
    # The thread does not exist in the child; its loop must never be touched there.
    global _bridge, _lock
    _bridge = None
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_bridge_after_fork)


def get_bridge_loop() -> asyncio.AbstractEventLoop:
    """The bridge's event loop, started on first use."""
    global _bridge
    bridge = _bridge
    if bridge is None or bridge.pid != os.getpid() or not bridge.thread.is_alive():
        with _lock:
            bridge = _bridge
            if bridge is None or bridge.pid != os.getpid() or not bridge.thread.is_alive():
                bridge = _bridge = _Bridge()
    return bridge.loop


def in_bridge_thread() -> bool:
    """Whether the caller runs on the bridge thread."""
    bridge = _bridge
    return bridge is not None and threading.current_thread() is bridge.thread


# -- servers on a caller's loop (the emulator after ``await emu.start()``) -----------------
_served: dict[tuple[str, str, int | None], weakref.ref[asyncio.AbstractEventLoop]] = {}
_served_lock = threading.Lock()


def _origin_key(url: str | URL) -> tuple[str, str, int | None] | None:
    parsed = URL(str(url))
    if not parsed.host:
        return None
    return (parsed.scheme, parsed.host.lower(), parsed.port)


def serve_origin(url: str, loop: asyncio.AbstractEventLoop) -> None:
    """Record that the origin of ``url`` is served by ``loop`` (until :func:`forget_origin`)."""
    key = _origin_key(url)
    if key is not None:
        with _served_lock:
            _served[key] = weakref.ref(loop)


def forget_origin(url: str) -> None:
    """Undo :func:`serve_origin` (the server stopped)."""
    key = _origin_key(url)
    if key is not None:
        with _served_lock:
            _served.pop(key, None)


def _base_url_of(owner: Any) -> Any:
    """The API root of the client behind a twin's ``self`` (a Client, a namespace, a
    Prediction, a FileOutput …), or None."""
    for candidate in (owner, getattr(owner, "_client", None), getattr(owner, "client", None)):
        base = getattr(candidate, "base_url", None)
        if isinstance(base, (str, URL)):
            return base
    return None


def _check_not_served_here(owner: Any, name: str) -> None:
    """Raise when a blocking call would block the loop that serves its client's API root."""
    if not _served:
        return
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        return
    base = _base_url_of(owner)
    key = _origin_key(base) if base is not None else None
    served = _served.get(key) if key is not None else None
    if served is None or served() is not running:
        return
    raise BlockingCallError(
        f"{name}() would wait forever: the server at {base} runs on this thread's event "
        "loop (as after `await emu.start()` in a notebook), which a blocking call blocks. "
        "Start the emulator in a thread instead: `emu.start_in_thread()` (or "
        "`with Emulator() as emu:`), or stay async here: `await client.run(...)` and the "
        "other `async_…` methods."
    )


CLEANUP_TIMEOUT = 30.0
"""Seconds an interrupted blocking call waits for its coroutine to clean up (cancel requests)."""


CLEANUP_TIMEOUT = 100.0
"""Seconds an interrupted blocking call waits for its coroutine to clean up: a create on its
way answers within its ``Prefer: wait`` (at most 60 s), then the cancel request goes out."""


async def _signalling(
    coro: Coroutine[Any, Any, T], started: threading.Event, ended: threading.Event
) -> T:
    started.set()
    try:
        return await coro
    finally:
        ended.set()


def run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on the bridge loop and wait for its result in the calling thread.

    Interrupting the wait (Ctrl-C) cancels the coroutine and waits (up to ``CLEANUP_TIMEOUT``,
    or until a second Ctrl-C) until it has cleaned up, so the work it started is undone (``run``
    cancels its remote prediction) before the interrupt propagates: the bridge is a daemon
    thread, and an interpreter that exits takes it down wherever it is. An interrupt that
    comes before the coroutine was handed to the bridge closes it unstarted.
    """
    if in_bridge_thread():
        coro.close()
        raise BlockingCallError(
            "a blocking replicate_async call was made from the library's own event-loop thread; "
            "use the async_… / await form inside coroutines"
        )
    started, ended = threading.Event(), threading.Event()
    wrapped = _signalling(coro, started, ended)
    future = None
    try:
        future = asyncio.run_coroutine_threadsafe(wrapped, get_bridge_loop())
        return future.result()
    except BaseException:
        if future is None:
            wrapped.close()  # interrupted before it was handed over: it never ran
            coro.close()
        elif not future.done():
            # A concurrent future is marked cancelled at once, whatever its task still does:
            # wait for the coroutine itself to end (unless it never started: nothing to undo).
            future.cancel()
            if started.is_set() and not ended.wait(CLEANUP_TIMEOUT):
                log.warning("an interrupted call is still cleaning up (canceling predictions)")
        raise


def blocking(fn: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, T]:
    """The blocking twin of a coroutine function: same signature, same docstring."""
    shown = _blocking_name(fn)

    @functools.wraps(fn)
    def twin(*args: P.args, **kwargs: P.kwargs) -> T:
        if args:
            _check_not_served_here(args[0], shown)
        return run_blocking(fn(*args, **kwargs))

    _rename(twin, fn)
    _return_iterator(twin, fn)
    return twin


def _blocking_name(fn: Callable[..., Any]) -> str:
    """How the twin is called: ``async_get`` → ``get``, ``run`` → ``run_sync``."""
    name = fn.__name__
    return name.removeprefix("async_") if name.startswith("async_") else f"{name}_sync"


def _rename(twin: Callable[..., Any], fn: Callable[..., Any]) -> None:
    """Name a twin after its coroutine without the ``async_`` prefix (``async_get`` → ``get``)."""
    name = fn.__name__.removeprefix("async_")
    twin.__name__ = name
    qualname = fn.__qualname__
    twin.__qualname__ = qualname.rsplit(".", 1)[0] + "." + name if "." in qualname else name


async def _anext(iterator: AsyncIterator[T]) -> T:
    return await iterator.__anext__()


async def _aclose(iterator: AsyncIterator[Any]) -> None:
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()


def iterate_blocking(iterator: AsyncIterator[T]) -> Iterator[T]:
    """Iterate an async iterator from blocking code, one bridge round trip per item.

    Leaving the loop early (``break``) closes the async iterator on the bridge, which closes any
    connection it holds.
    """
    try:
        while True:
            try:
                item = run_blocking(_anext(iterator))
            except StopAsyncIteration:
                return
            yield item
    finally:
        if not in_bridge_thread():
            run_blocking(_aclose(iterator))


def blocking_iter(fn: Callable[P, AsyncIterator[T]]) -> Callable[P, Iterator[T]]:
    """The blocking twin of an async generator function: same signature, same docstring."""
    shown = _blocking_name(fn)

    @functools.wraps(fn)
    def twin(*args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        if args:
            _check_not_served_here(args[0], shown)
        return iterate_blocking(fn(*args, **kwargs))

    _rename(twin, fn)
    _return_iterator(twin, fn)
    return twin


_ASYNC_ITERATORS = re.compile(
    r"^(?:AsyncGenerator|AsyncIterator|AsyncIterable)\[(.*?)(?:, None)?\]$"
)


def _return_iterator(twin: Callable[..., Any], fn: Callable[..., Any]) -> None:
    """Make ``help()`` show what the blocking twin returns: ``Iterator[X]`` where the async
    original says ``AsyncGenerator[X, None]`` (``functools.wraps`` copied the latter)."""
    annotations = dict(getattr(fn, "__annotations__", {}))
    returns = annotations.get("return")
    if isinstance(returns, str):
        match = _ASYNC_ITERATORS.match(returns)
        if match:
            annotations["return"] = f"Iterator[{match.group(1)}]"
            twin.__annotations__ = annotations
            signature = inspect.signature(fn)
            twin.__signature__ = signature.replace(  # type: ignore[attr-defined]
                return_annotation=annotations["return"]
            )

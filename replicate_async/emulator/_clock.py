"""The emulator's clock: every timer, sleep, timeout and timestamp of the emulator goes
through one of these, so that a test can drive time itself.

:class:`RealClock` (the default) is the event loop's time and ``time.time()``.
:class:`VirtualClock` stands still until :meth:`VirtualClock.advance` moves it: it then runs
every timer due in that span in order (prediction steps, ``Cancel-After`` deadlines, the
stream's ``:408`` idle end, webhook throttling and retries, retention, rate-limit refills),
letting the emulator's tasks react after each, without any real waiting::

    clock = VirtualClock()
    async with Emulator(clock=clock) as emu:
        ...                      # create a prediction
        await clock.advance(3)   # three emulated seconds pass, instantly and exactly
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["Clock", "RealClock", "TimerHandle", "VirtualClock"]


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    """What the emulator needs from a clock."""

    def time(self) -> float:
        """Wall-clock seconds since the epoch (timestamps, signatures, expiries)."""

    def time_ns(self) -> int:
        """:meth:`time` in integer nanoseconds."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (intervals, throttles, buckets)."""

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> TimerHandle:
        """Run ``callback(*args)`` after ``delay`` seconds (on the running event loop)."""

    async def sleep(self, delay: float) -> None:
        """Return after ``delay`` seconds."""

    async def wait(self, future: asyncio.Future[Any], timeout: float | None) -> bool:
        """Wait until ``future`` is done or ``timeout`` seconds pass; whether it is done.
        The future is never cancelled."""


class RealClock:
    """Real time: ``time.time()``, ``time.monotonic()`` and the running loop's timers."""

    def time(self) -> float:
        return time.time()

    def time_ns(self) -> int:
        return time.time_ns()

    def monotonic(self) -> float:
        return time.monotonic()

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> TimerHandle:
        return asyncio.get_running_loop().call_later(delay, callback, *args)

    async def sleep(self, delay: float) -> None:
        await asyncio.sleep(delay)

    async def wait(self, future: asyncio.Future[Any], timeout: float | None) -> bool:
        if timeout is not None and timeout <= 0:
            return future.done()
        done, _ = await asyncio.wait((future,), timeout=timeout)
        return bool(done)


class _Timer:
    __slots__ = ("args", "callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.when = when
        self.callback = callback
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


def _wake(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.set_result(None)


class VirtualClock:
    """A clock that moves only when told to (see the module docstring).

    ``start`` is the wall-clock time it shows first (default: the real time when made);
    :meth:`monotonic` starts at 0. Timers that fall due in the same instant run in the order
    they were set. Real I/O (HTTP requests, webhook POSTs) still takes real time: await it
    normally; only the emulator's own waits are virtual.
    """

    #: Event-loop turns given to the emulator's tasks after each timer (and before and after
    #: an advance) so that what a timer woke reaches its next wait.
    settle_turns = 50

    def __init__(self, start: float | None = None) -> None:
        self._start_ns = time.time_ns() if start is None else round(start * 1e9)
        self._elapsed_ns = 0
        self._timers: list[tuple[int, int, _Timer]] = []
        self._order = itertools.count()

    # -- reading ----------------------------------------------------------------------------
    def time(self) -> float:
        return (self._start_ns + self._elapsed_ns) / 1e9

    def time_ns(self) -> int:
        return self._start_ns + self._elapsed_ns

    def monotonic(self) -> float:
        return self._elapsed_ns / 1e9

    @property
    def pending(self) -> int:
        """How many timers are set and not cancelled."""
        return sum(1 for _, _, t in self._timers if not t.cancelled)

    def next_deadline(self) -> float | None:
        """Seconds until the next timer falls due (``None``: no timer is set)."""
        self._drop_cancelled()
        if not self._timers:
            return None
        return max(0.0, (self._timers[0][0] - self._elapsed_ns) / 1e9)

    # -- timers -----------------------------------------------------------------------------
    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> TimerHandle:
        when = self._elapsed_ns + max(0, round(delay * 1e9))
        timer = _Timer(when, callback, args)
        heapq.heappush(self._timers, (when, next(self._order), timer))
        return timer

    async def sleep(self, delay: float) -> None:
        if delay <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        handle = self.call_later(delay, _wake, future)
        try:
            await future
        finally:
            handle.cancel()

    async def wait(self, future: asyncio.Future[Any], timeout: float | None) -> bool:
        if future.done():
            return True
        if timeout is not None and timeout <= 0:
            return False
        waker: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        handle = self.call_later(timeout, _wake, waker) if timeout is not None else None
        try:
            await asyncio.wait((future, waker), return_when=asyncio.FIRST_COMPLETED)
        finally:
            if handle is not None:
                handle.cancel()
            if not waker.done():
                waker.cancel()
        return future.done()

    # -- moving time ------------------------------------------------------------------------
    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, running every timer due on the way, in order,
        each at its own instant, and letting the tasks it wakes run before the next one."""
        if seconds < 0:
            raise ValueError("time cannot go backwards")
        target = self._elapsed_ns + round(seconds * 1e9)
        await self._settle()
        while True:
            self._drop_cancelled()
            if not self._timers or self._timers[0][0] > target:
                break
            when, _, timer = heapq.heappop(self._timers)
            self._elapsed_ns = max(self._elapsed_ns, when)
            timer.callback(*timer.args)
            await self._settle()
        self._elapsed_ns = target
        await self._settle()

    async def run_until_idle(self, limit: float = 86_400.0) -> float:
        """Advance to each next timer until none is left (at most ``limit`` seconds);
        the seconds that passed."""
        start = self._elapsed_ns
        while True:
            due = self.next_deadline()
            if due is None or (self._elapsed_ns - start) / 1e9 + due > limit:
                break
            await self.advance(due)
        return (self._elapsed_ns - start) / 1e9

    def _drop_cancelled(self) -> None:
        timers = self._timers
        while timers and timers[0][2].cancelled:
            heapq.heappop(timers)

    async def _settle(self) -> None:
        for _ in range(self.settle_turns):
            await asyncio.sleep(0)

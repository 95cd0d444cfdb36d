"""What the lower layers need of the client's prediction lifetimes, and a deadline (pure).

``CreateGuard`` is the small protocol the resources see of ``_ops.lifetimes.Lifetimes`` (the
one owner of prediction lifetimes per client): a create sent through it is awaited, shielded,
even when its caller gives up, and what it made is canceled. ``GUARDED`` marks the code that
already runs inside such a create, so a create is never guarded twice.

``Deadline`` bounds a block with ``asyncio.timeout`` (the ``async-timeout`` package on Python
3.10): the block's task is cancelled when the time is up and the cancellation becomes
``TimeoutError`` at the end of the block, while a cancellation from outside is never swallowed
(the task's cancel requests are counted). ``expired`` says which of the two it was.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Protocol, TypeVar

if sys.version_info >= (3, 11):
    from asyncio import timeout as _timeout
else:  # pragma: no cover - exercised on Python 3.10 only
    from async_timeout import timeout as _timeout

__all__ = ["GUARDED", "CreateGuard", "Deadline"]

T = TypeVar("T")

GUARDED: ContextVar[bool] = ContextVar("replicate_async_guarded_create", default=False)
"""True inside a create that a ``CreateGuard`` already shields."""


class CreateGuard(Protocol):
    """Runs a create so that a caller who gives up never leaves a prediction running."""

    def guard_create(self, create: Awaitable[T], shown: str) -> Awaitable[T]:
        """Await ``create`` (its result a ``Prediction``), cancelling what it made if the
        caller is cancelled before the answer names it."""
        ...


class Deadline:
    """``async with Deadline(seconds):`` (None: no limit); ``expired`` after a timeout."""

    __slots__ = ("_cm", "expired")

    def __init__(self, seconds: float | None) -> None:
        self._cm: Any = _timeout(seconds) if seconds is not None else None
        self.expired = False

    async def __aenter__(self) -> Deadline:
        if self._cm is not None:
            await self._cm.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        if self._cm is None:
            return None
        try:
            return bool(await self._cm.__aexit__(exc_type, exc, tb))
        except asyncio.TimeoutError:
            self.expired = True
            raise

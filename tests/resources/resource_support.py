"""Helpers shared by the resource tests (imported by name; tests/resources has no package)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from replicate_async import Page
from replicate_async.emulator import Emulator

__all__ = ["CALL_TIMEOUT", "Twin", "api_requests"]

T = TypeVar("T")
CALL_TIMEOUT = 20.0


class Twin:
    """Calls ``obj.async_x(...)`` directly, or its blocking twin ``obj.x(...)`` in a thread."""

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


def api_requests(emu: Emulator, operation: str) -> list[Any]:
    """The emulator's log of answered requests for one operation id."""
    return [r for r in emu.requests if r.operation == operation]

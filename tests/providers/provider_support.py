"""Helpers shared by the provider tests (imported by name; tests/providers has no package):
the provider docs' YAML examples, the Llama Guard model's reference, and ``Call``.

``meta/llama-guard-3-8b`` is a model of the emulator's catalog: it answers ``safe``, or
``unsafe`` and the Llama Guard 3 hazard codes its keyword lists find (``"attack"`` is S1,
``"steal"`` S2, ``"hate"`` S10), classifying ``assistant`` when given, else ``prompt``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
FIXTURES = Path(__file__).parent / "fixtures"
CALL_TIMEOUT = 20.0

GUARD = "meta/llama-guard-3-8b"


class Call:
    """Awaits a coroutine method, or calls its blocking twin (``<name>_sync``) in a thread,
    the way a script would; both bounded."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def __repr__(self) -> str:
        return self.mode

    async def __call__(self, method: Callable[..., Awaitable[T]], *args: Any, **kw: Any) -> T:
        if self.mode == "async":
            return await asyncio.wait_for(method(*args, **kw), CALL_TIMEOUT)
        twin: Callable[..., T] = getattr(method.__self__, method.__name__ + "_sync")  # type: ignore[attr-defined]
        return await asyncio.wait_for(asyncio.to_thread(twin, *args, **kw), CALL_TIMEOUT)

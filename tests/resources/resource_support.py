"""Helpers shared by the resource tests (imported by name; tests/resources has no package).

The tests take ``client`` (a client on the emulator) and ``twin`` from the root conftest:
``twin`` runs one test body through both the ``async_x`` coroutine and its blocking twin ``x``.
The emulator serves from the test's own event loop, so a blocking twin is called from a worker
thread (``asyncio.to_thread``): exactly how a script would call it, without blocking the loop
the emulator answers on. Every call is bounded (``CALL_TIMEOUT``).
"""

from __future__ import annotations

from typing import Any

from support import CALL_TIMEOUT, Twin

from replicate_async.emulator import Emulator

__all__ = ["CALL_TIMEOUT", "Twin", "api_requests"]


def api_requests(emu: Emulator, operation: str) -> list[Any]:
    """The emulator's log of answered requests for one operation id."""
    return [r for r in emu.requests if r.operation == operation]

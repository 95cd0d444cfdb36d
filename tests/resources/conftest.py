"""Fixtures for the resource tests: a client on the emulator, and ``twin`` to run one test
body through both the ``async_x`` coroutine and its blocking twin ``x``.

The emulator serves from the test's own event loop, so a blocking twin is called from a worker
thread (``asyncio.to_thread``): exactly how a script would call it, without blocking the loop
the emulator answers on. Every call is bounded (``resource_support.CALL_TIMEOUT``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from resource_support import Twin

from replicate_async import Client
from replicate_async.emulator import Emulator


@pytest.fixture(params=["async", "blocking"])
def twin(request: pytest.FixtureRequest) -> Twin:
    """Run the test body once through the coroutines and once through the blocking twins."""
    return Twin(request.param)


@pytest.fixture
async def client(replicate_emulator: Emulator) -> AsyncIterator[Client]:
    """A client on the emulator, closed (sessions on every loop) after the test."""
    async with replicate_emulator.client() as c:
        yield c

"""Fixtures for the run/stream tests: ``twin`` (one body for the coroutine and its blocking
twin), a client on the emulator, and a scripted API for stream edge cases."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from run_support import ScriptedAPI, Twin

from replicate_async import Client
from replicate_async.emulator import Emulator


@pytest.fixture(params=["async", "blocking"])
def twin(request: pytest.FixtureRequest) -> Twin:
    """Run the test body once through ``run``/``stream`` and once through the blocking twins."""
    return Twin(request.param)


@pytest.fixture
async def client(replicate_emulator: Emulator) -> AsyncIterator[Client]:
    """A client on the emulator, closed (sessions on every loop) after the test."""
    async with replicate_emulator.client() as c:
        yield c


@pytest.fixture
async def api() -> AsyncIterator[ScriptedAPI]:
    """The scripted API (see ``run_support.ScriptedAPI``)."""
    async with ScriptedAPI() as server:
        yield server

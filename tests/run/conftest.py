"""Fixtures for the run/stream tests: ``twin`` (one body for the coroutine and its blocking
twin) and a scripted API for stream edge cases. ``client`` (a client on the emulator) comes
from the root conftest."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from run_support import ScriptedAPI, Twin


@pytest.fixture(params=["async", "blocking"])
def twin(request: pytest.FixtureRequest) -> Twin:
    """Run the test body once through ``run``/``stream`` and once through the blocking twins."""
    return Twin(request.param)


@pytest.fixture
async def api() -> AsyncIterator[ScriptedAPI]:
    """The scripted API (see ``run_support.ScriptedAPI``)."""
    async with ScriptedAPI() as server:
        yield server

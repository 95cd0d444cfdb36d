"""Fixtures for the file tests: ``twin`` (one body for the coroutine and its blocking twin),
a client on the emulator, and two recording loopback origins for token-leak checks."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from files_support import Origin, Twin

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


@pytest.fixture
async def origin() -> AsyncIterator[Origin]:
    """A recording origin on its own loopback port (a host other than the API's)."""
    async with Origin() as server:
        yield server


@pytest.fixture
async def other_origin() -> AsyncIterator[Origin]:
    """A second recording origin."""
    async with Origin(body=b"elsewhere", content_type="text/plain") as server:
        yield server

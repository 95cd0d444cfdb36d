"""Fixtures for the file tests: ``twin`` (one body for the coroutine and its blocking twin,
with ``chunks``), and two recording loopback origins for token-leak checks. ``client`` (a
client on the emulator) comes from the root conftest."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from files_support import Origin, Twin


@pytest.fixture(params=["async", "blocking"])
def twin(request: pytest.FixtureRequest) -> Twin:
    """Run the test body once through the coroutines and once through the blocking twins."""
    return Twin(request.param)


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

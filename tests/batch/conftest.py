"""Fixtures for the batch tests: ``collect`` runs one test body through ``batch`` and through
``batch_sync``; ``client`` is a client on the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from batch_support import Collect

from replicate_async import Client
from replicate_async.emulator import Emulator


@pytest.fixture(params=["async", "blocking"])
def collect(request: pytest.FixtureRequest) -> Collect:
    """``await collect(client, ref, inputs, **options)`` → the results, through each twin."""
    return Collect(request.param)


@pytest.fixture
async def client(replicate_emulator: Emulator) -> AsyncIterator[Client]:
    """A client on the emulator, closed (sessions on every loop) after the test."""
    async with replicate_emulator.client() as c:
        yield c

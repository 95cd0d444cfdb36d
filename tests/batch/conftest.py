"""Fixtures for the batch tests: ``collect`` runs one test body through ``batch`` and through
``batch_sync``. ``client`` (a client on the emulator) comes from the root conftest."""

from __future__ import annotations

import pytest
from batch_support import Collect


@pytest.fixture(params=["async", "blocking"])
def collect(request: pytest.FixtureRequest) -> Collect:
    """``await collect(client, ref, inputs, **options)`` → the results, through each twin."""
    return Collect(request.param)

"""Fixtures for the provider tests (helpers live in ``provider_support``)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from provider_support import Call


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No ``REPLICATE_*`` variable from the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("REPLICATE_"):
            monkeypatch.delenv(name)
    yield


@pytest.fixture(params=["async", "blocking"])
def call(request: pytest.FixtureRequest) -> Call:
    """Run the test body once through ``run`` and once through ``run_sync``."""
    return Call(request.param)

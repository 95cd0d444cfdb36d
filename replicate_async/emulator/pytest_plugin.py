"""pytest plugin: the ``replicate_emulator`` fixtures (registered via the ``pytest11`` entry
point, so installing ``replicate_async`` is enough).

``replicate_emulator`` (async, needs pytest-asyncio) yields a started :class:`Emulator` with
fast defaults; ``replicate_emulator_sync`` runs one in a background thread for plain tests.
Options come from the marker ``@pytest.mark.replicate_emulator(**options)`` or indirect
parametrization (``@pytest.mark.parametrize("replicate_emulator", [{...}], indirect=True)``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from ._server import Emulator

__all__ = ["FAST_DEFAULTS", "emulator_options", "replicate_emulator", "replicate_emulator_sync"]

# Predictions finish in milliseconds; rate limits stay on but are hard to hit by accident.
FAST_DEFAULTS: dict[str, Any] = {
    "speed": 200.0,
    "create_rate_per_minute": 60_000.0,
    "rate_per_minute": 300_000.0,
    "create_burst": 1000.0,
    "burst": 5000.0,
    "webhook_throttle": 0.05,
    "webhook_retry_delays": (0.05, 0.1, 0.2),
    "webhook_timeout": 2.0,
    "stream_idle_timeout": 5.0,
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "replicate_emulator(**options): options for the replicate_emulator fixture",
    )


def emulator_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Fast defaults, overridden by the marker, then by indirect parametrization."""
    options = dict(FAST_DEFAULTS)
    marker = request.node.get_closest_marker("replicate_emulator")
    if marker is not None:
        if marker.args and isinstance(marker.args[0], dict):
            options.update(marker.args[0])
        options.update(marker.kwargs)
    param = getattr(request, "param", None)
    if isinstance(param, dict):
        options.update(param)
    return options


try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - async fixture needs pytest-asyncio
    pytest_asyncio = None  # type: ignore[assignment]

if pytest_asyncio is not None:

    @pytest_asyncio.fixture
    async def replicate_emulator(request: pytest.FixtureRequest) -> AsyncIterator[Emulator]:
        """A started emulator on random loopback ports, stopped after the test."""
        async with Emulator(**emulator_options(request)) as emu:
            yield emu

else:  # pragma: no cover

    @pytest.fixture
    def replicate_emulator(request: pytest.FixtureRequest) -> Iterator[Emulator]:
        """Without pytest-asyncio: the emulator runs in a background thread."""
        with Emulator(**emulator_options(request)) as emu:
            yield emu


@pytest.fixture
def replicate_emulator_sync(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """An emulator served from a background thread, for synchronous tests."""
    with Emulator(**emulator_options(request)) as emu:
        yield emu

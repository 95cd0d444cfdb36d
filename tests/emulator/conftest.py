"""Fixtures for the emulator's own tests: raw HTTP with aiohttp, no client library."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from emu_helpers import AUTH

from replicate_async.emulator import Emulator
from replicate_async.emulator.pytest_plugin import FAST_DEFAULTS


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    timeout = aiohttp.ClientTimeout(total=20)
    async with aiohttp.ClientSession(headers=AUTH, timeout=timeout) as session:
        yield session


@pytest.fixture
def emulator_factory() -> Callable[..., Any]:
    """Build an emulator with the fast defaults plus overrides (use with ``async with``)."""

    def make(**options: Any) -> Emulator:
        return Emulator(**{**FAST_DEFAULTS, **options})

    return make

"""aioresponses on aiohttp ≥ 3.14.

aioresponses 0.7.9 builds ``ClientResponse`` objects without the ``stream_writer`` argument
that aiohttp 3.14 made required (it only reads ``output_size`` from it). This shim passes a
stand-in, so mocked responses work on both old and new aiohttp. Keep mocked bodies small.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import Mock

from aiohttp import ClientResponse
from aioresponses import aioresponses
from aioresponses import core as aioresponses_core


class _CompatResponse(ClientResponse):
    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", Mock(output_size=0))
        super().__init__(method, url, **kwargs)


@contextmanager
def mocked_http() -> Iterator[aioresponses]:
    """``aioresponses()`` with the shim installed for its duration."""
    original = aioresponses_core.ClientResponse
    aioresponses_core.ClientResponse = _CompatResponse  # type: ignore[misc]
    try:
        with aioresponses() as mock:
            yield mock
    finally:
        aioresponses_core.ClientResponse = original  # type: ignore[misc]

"""``client.hardware``: the hardware SKUs models and deployments run on."""

from __future__ import annotations

import builtins

from .._core.errors import InvalidResponseError
from .._core.http_types import Request
from .._io.bridge import blocking
from ..types import Hardware
from ._base import Namespace

__all__ = ["HardwareNamespace"]


class HardwareNamespace(Namespace):
    """``GET /hardware``."""

    async def async_list(self) -> builtins.list[Hardware]:
        """Every hardware SKU (``sku``, ``name``); the API answers a plain array, not a page."""
        data = await self._send(Request("GET", "/hardware"))
        if not isinstance(data, builtins.list):
            raise InvalidResponseError(
                f"expected a JSON array from GET /hardware, got {data!r:.200}"
            )
        return [Hardware.from_dict(item) for item in data]

    list = blocking(async_list)

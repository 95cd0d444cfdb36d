"""``client.account``: the account that owns the token."""

from __future__ import annotations

from .._core.http_types import Request
from .._io.bridge import blocking
from ..types import Account
from ._base import Namespace

__all__ = ["AccountNamespace"]


class AccountNamespace(Namespace):
    """``GET /account``."""

    async def async_get(self) -> Account:
        """The account that owns the token (``type``, ``username``, ``name``, ``github_url``)."""
        return Account.from_dict(await self._object(Request("GET", "/account")))

    get = blocking(async_get)

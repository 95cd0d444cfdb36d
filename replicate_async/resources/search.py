"""``client.search(query, limit=…)``: models, collections and docs pages (``GET /search``).

The endpoint needs no token (the spec gives it ``security: []``), so the request is sent with
``auth=False``: search works on a client with no token configured at all.
"""

from __future__ import annotations

from .._core.errors import ConfigurationError
from .._core.http_types import Request
from ..types import SearchResults
from ._base import Namespace

__all__ = ["SearchNamespace", "search_request"]

# Spec: `limit` is 1–50 (the server's default is 20).
MAX_LIMIT = 50


def search_request(query: str, limit: int | None = None) -> Request:
    """The ``GET /search`` request (pure); the query and limit are checked first."""
    if not isinstance(query, str) or not query.strip():
        raise ConfigurationError("search query is empty")
    params = {"query": query}
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise ConfigurationError(
                f"limit must be an integer from 1 to {MAX_LIMIT}, got {limit!r}"
            )
        params["limit"] = str(limit)
    return Request("GET", "/search", params=params, auth=False)


class SearchNamespace(Namespace):
    """The implementation behind ``client.search``/``client.async_search``."""

    async def async_search(self, query: str, *, limit: int | None = None) -> SearchResults:
        """Search public models, collections and docs pages for ``query``."""
        return SearchResults.from_dict(await self._object(search_request(query, limit)))

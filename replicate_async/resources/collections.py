"""``client.collections``: curated lists of models."""

from __future__ import annotations

from .._core.errors import ConfigurationError
from .._core.http_types import Request
from .._io.bridge import blocking
from ..types import Collection, Page
from ._base import Namespace

__all__ = ["Collections"]


class Collections(Namespace):
    """Collections: ``list`` and ``get`` (each with an ``async_`` twin)."""

    async def async_list(self) -> Page[Collection]:
        """The first page of collections (without their models); iterate it for all of them."""
        return await self._page("/collections", Collection.from_dict)

    async def async_get(self, slug: str | Collection) -> Collection:
        """A collection by slug (``"text-to-image"``) with its ``models`` as Model objects."""
        text = slug.slug if isinstance(slug, Collection) else str(slug).strip()
        if not text or "/" in text or "?" in text or "#" in text:
            raise ConfigurationError(f"not a collection slug: {slug!r}")
        return Collection.from_dict(await self._object(Request("GET", f"/collections/{text}")))

    list = blocking(async_list)
    get = blocking(async_get)

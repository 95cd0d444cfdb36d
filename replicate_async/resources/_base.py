"""What every namespace shares: access to the transport and page building."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .._errors import InvalidResponseError
from .._transport import Request
from ..types import Page

if TYPE_CHECKING:
    from .._client import Client

__all__ = ["Namespace", "split_model"]

T = TypeVar("T")


def split_model(ref: Any, name: str | None = None) -> tuple[str, str]:
    """``("owner", "name")`` from ``"owner/name"``, a Model, or two strings."""
    from .._errors import InvalidReferenceError

    if name is not None:
        owner = str(ref)
    elif hasattr(ref, "owner") and hasattr(ref, "name"):
        owner, name = str(ref.owner), str(ref.name)
    else:
        text = str(ref).strip()
        owner, _, name = text.partition("/")
        if ":" in name:
            raise InvalidReferenceError(
                f"expected a model as 'owner/name' without a version, got {text!r}"
            )
    if not owner or not name or "/" in name or "/" in owner:
        raise InvalidReferenceError(
            f"expected a model as 'owner/name' (for example 'meta/meta-llama-3-8b-instruct'), "
            f"got {ref!r}" + (f" and {name!r}" if name else "")
        )
    return owner, name


class Namespace:
    """Base of the client's namespaces (``client.predictions``, ``client.models`` …)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    async def _send(self, request: Request) -> Any:
        response = await self._client._transport.request(request)
        return response.json()

    async def _object(self, request: Request) -> dict[str, Any]:
        data = await self._send(request)
        if not isinstance(data, dict):
            raise InvalidResponseError(
                f"expected a JSON object from {request.method} {request.url}, got {data!r:.200}"
            )
        return data

    async def _page(
        self,
        url: str,
        build: Callable[[Mapping[str, Any]], T],
        params: Mapping[str, str] | None = None,
        *,
        method: str = "GET",
        content: bytes | None = None,
        content_type: str | None = None,
    ) -> Page[T]:
        """Fetch one page; the page's ``next`` URL is followed verbatim by the same builder."""
        data = await self._object(
            Request(method, url, params=params, content=content, content_type=content_type)
        )
        results = data.get("results")
        if not isinstance(results, list):
            raise InvalidResponseError(
                f"expected a page with 'results' from {url}, got {data!r:.200}"
            )

        async def fetch(next_url: str) -> Page[T]:
            return await self._page(
                next_url, build, method=method, content=content, content_type=content_type
            )

        return Page(
            results=[build(item) for item in results],
            next=data.get("next"),
            previous=data.get("previous"),
            _fetch=fetch,
        )

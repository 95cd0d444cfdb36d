"""What every namespace shares: access to the transport and page building."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

import attrs
from yarl import URL

from .._core.errors import ConfigurationError, InvalidResponseError, ReplicateError, ServerError
from .._core.http_types import Request
from .._core.lifetime import CreateGuard
from .._io.transport import Transport
from ..types import BoundClient, File, Page, Prediction

__all__ = ["Namespace", "ResourceClient", "object_id", "split_model"]


class ResourceClient(BoundClient, Protocol):
    """What the namespaces need of their client. The :class:`~replicate_async.Client` provides
    it; resources never import the client (a lower layer, ARCHITECTURE section 2)."""

    _transport: Transport

    @property
    def _lifetimes(self) -> CreateGuard:
        """The client's owner of prediction lifetimes, as creates use it."""
        ...

    @property
    def base_url(self) -> URL:
        """The API's base URL (``…/v1``)."""
        ...

    def _prediction(self, data: Mapping[str, Any]) -> Prediction:
        """A prediction built from an API answer, bound to the client."""
        ...

    async def _prepare_input(
        self, value: dict[str, Any], file_encoding: str | None, *, uploaded: list[File]
    ) -> dict[str, Any]:
        """``value`` with its file values uploaded or inlined; uploads appended to ``uploaded``."""
        ...

    async def _delete_uploads(self, files: list[File]) -> None:
        """Delete uploads that a refused create no longer needs (best effort)."""
        ...


T = TypeVar("T")


def split_model(ref: Any, name: str | None = None) -> tuple[str, str]:
    """``("owner", "name")`` from ``"owner/name"``, a Model, or two strings."""
    from .._core.errors import InvalidReferenceError

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


def object_id(value: Any, kind: str) -> str:
    """The id of a prediction or training (``value`` itself, or its ``.id``), checked to be one
    path segment; else a ``ConfigurationError`` naming ``kind``."""
    text = str(getattr(value, "id", value)).strip()
    if not text or "/" in text or "?" in text or "#" in text:
        raise ConfigurationError(f"not a {kind} id: {value!r}")
    return text


class Namespace:
    """Base of the client's namespaces (``client.predictions``, ``client.models`` …)."""

    def __init__(self, client: ResourceClient) -> None:
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

    async def _create_with_inputs(
        self, request: Request, file_encoding: str | None
    ) -> dict[str, Any]:
        """Send a create whose JSON body has an ``input``.

        File values in it (paths, bytes, binary files) are uploaded or inlined first; when the
        API then refuses the create (a 4xx: nothing was created) the uploads are deleted again,
        so a failed call leaves nothing behind. After a 5xx or a lost connection a prediction
        may exist and need them, so they are kept (they expire after a day).
        """
        uploaded: list[File] = []
        body = dict(request.json)
        prepared = await self._client._prepare_input(
            body["input"], file_encoding, uploaded=uploaded
        )
        if prepared is not body["input"]:
            request = attrs.evolve(request, json={**body, "input": prepared})
        try:
            return await self._object(request)
        except ReplicateError as exc:
            if uploaded and not isinstance(exc, ServerError):
                await self._client._delete_uploads(uploaded)
            raise

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

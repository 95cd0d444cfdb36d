"""``client.predictions``: create, get, list, cancel."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from .._core.convert import format_timestamp
from .._core.errors import ConfigurationError
from .._core.http_types import Request
from .._core.lifetime import GUARDED, CreateGuard
from .._core.refs import parse_ref
from .._core.request import cancel_after_header, check_input, prefer_header, webhook_fields
from .._io.bridge import blocking
from ..types import Model, Page, Prediction, Version
from ._base import Namespace, ResourceClient, object_id, split_model

__all__ = ["Predictions", "build_create_request", "create_target"]


def create_target(
    version: str | Version | None, model: str | Model | None, deployment: str | None = None
) -> tuple[str, dict[str, Any]]:
    """The create endpoint and the body fields that name what to run (pure).

    - ``version=``: ``owner/name``, ``owner/name:<version>`` or a bare version id →
      ``POST /predictions`` with ``version`` as given (the API accepts all three).
    - ``model=``: ``owner/name`` → ``POST /models/{owner}/{name}/predictions`` (official
      models); ``owner/name:<version>`` → ``POST /predictions``.
    - ``deployment=``: ``owner/name`` → ``POST /deployments/{owner}/{name}/predictions``.
    """
    given = [x for x in (version, model, deployment) if x is not None]
    if len(given) != 1:
        raise ConfigurationError(
            "pass exactly one of version= (owner/name:version or a version id), "
            "model= (owner/name) or deployment= (owner/name)"
        )
    if deployment is not None:
        owner, name = split_model(deployment)
        return f"/deployments/{owner}/{name}/predictions", {}
    if isinstance(version, Version):
        return "/predictions", {"version": version.id}
    if isinstance(model, Model):
        return f"/models/{model.owner}/{model.name}/predictions", {}
    ref = parse_ref(str(version if version is not None else model))
    if version is not None:
        return "/predictions", {"version": str(version).strip()}
    if ref.version is not None:
        return "/predictions", {"version": str(ref)}
    if ref.owner is None or ref.name is None:
        return "/predictions", {"version": str(ref)}
    return f"/models/{ref.owner}/{ref.name}/predictions", {}


def build_create_request(
    path: str,
    fields: Mapping[str, Any],
    input: Mapping[str, Any] | None,
    *,
    webhook: str | None = None,
    webhook_events_filter: Iterable[str] | None = None,
    stream: bool | None = None,
    wait: bool | int | None = None,
    cancel_after: str | int | float | timedelta | None = None,
    checked: bool = False,
) -> Request:
    """The create request (pure): body exactly as the spec has it, sync/deadline headers.
    ``checked``: ``input`` is a dict already checked by ``check_input`` (kept, not copied)."""
    body: dict[str, Any] = {**fields, "input": input if checked else check_input(input)}
    if webhook is not None or webhook_events_filter is not None:
        body.update(webhook_fields(webhook, webhook_events_filter))
    if stream is not None:
        body["stream"] = bool(stream)
    headers, wait_seconds = prefer_header(wait)
    if cancel_after is not None:
        headers.update(cancel_after_header(cancel_after))
    return Request("POST", path, json=body, headers=headers, wait=wait_seconds, rate_class="create")


class Predictions(Namespace):
    """Predictions: ``create``, ``get``, ``list``, ``cancel`` (each with an ``async_`` twin)."""

    def __init__(self, client: ResourceClient) -> None:
        super().__init__(client)

    def _prediction(self, data: Mapping[str, Any]) -> Prediction:
        return self._client._prediction(data)

    async def async_create(
        self,
        version: str | Version | None = None,
        input: Mapping[str, Any] | None = None,
        *,
        model: str | Model | None = None,
        deployment: str | None = None,
        webhook: str | None = None,
        webhook_events_filter: Iterable[str] | None = None,
        stream: bool | None = None,
        wait: bool | int | None = None,
        cancel_after: str | int | float | timedelta | None = None,
        file_encoding: str | None = None,
    ) -> Prediction:
        """Create a prediction and return it (it is not waited for unless ``wait`` is set).

        Name what to run with one of ``version=`` (``owner/name``, ``owner/name:<version>`` or a
        bare version id), ``model=`` (an official model, ``owner/name``) or ``deployment=``.
        ``input`` may hold ``Path``, ``bytes`` or binary file objects: they are uploaded (or
        sent as ``data:`` URIs when small). ``wait=True``/``wait=N`` holds the request open up to
        60/N seconds (``Prefer: wait``); ``cancel_after`` sets a server-side deadline
        (``"45s"``, ``"5m"``, seconds; minimum 5 s). ``webhook`` must be https (http only on
        loopback); ``webhook_events_filter`` ⊆ start, output, logs, completed.
        ``file_encoding`` (``"upload"`` or ``"data_uri"``) forces how file inputs are sent.
        """
        path, fields = create_target(version, model, deployment)
        request = build_create_request(
            path,
            fields,
            input,
            webhook=webhook,
            webhook_events_filter=webhook_events_filter,
            stream=stream,
            wait=wait,
            cancel_after=cancel_after,
        )
        if GUARDED.get():  # inside run()/stream()'s own guarded create
            return self._prediction(await self._create_with_inputs(request, file_encoding))
        # Through the client's lifetimes: a caller cancelled before the answer names the
        # prediction never learns its id, so what the create made is canceled for it.
        guard: CreateGuard = self._client._lifetimes
        return await guard.guard_create(self._create(request, file_encoding), path)

    async def _create(self, request: Request, file_encoding: str | None) -> Prediction:
        return self._prediction(await self._create_with_inputs(request, file_encoding))

    async def async_get(self, id: str) -> Prediction:
        """The prediction with this id, as it is now."""
        path = f"/predictions/{object_id(id, 'prediction')}"
        return self._prediction(await self._object(Request("GET", path)))

    async def async_list(
        self,
        *,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        source: str | None = None,
    ) -> Page[Prediction]:
        """The first page of your predictions, newest first; iterate it for all of them.

        ``created_after``/``created_before`` (datetime or ISO 8601) and ``source`` (the API
        accepts ``"web"``: predictions made on the website) filter the list; the filters carry
        over to later pages.
        """
        params: dict[str, str] = {}
        for key, value in (("created_after", created_after), ("created_before", created_before)):
            if value is not None:
                params[key] = format_timestamp(value) if isinstance(value, datetime) else value
        if source is not None:
            params["source"] = source
        return await self._page("/predictions", self._prediction, params or None)

    async def async_cancel(self, id: str) -> Prediction:
        """Cancel a prediction; one that already finished comes back unchanged."""
        path = f"/predictions/{object_id(id, 'prediction')}/cancel"
        # Cancelling twice is harmless (a finished one comes back unchanged): safe to retry.
        return self._prediction(await self._object(Request("POST", path, idempotent=True)))

    create = blocking(async_create)
    get = blocking(async_get)
    list = blocking(async_list)
    cancel = blocking(async_cancel)

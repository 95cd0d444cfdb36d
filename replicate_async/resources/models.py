"""``client.models`` with ``.versions`` and ``.predictions``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from .._core.errors import ConfigurationError
from .._core.http_types import Request
from .._core.schema_diff import SchemaDiff, diff_schemas
from .._io.bridge import blocking
from ..types import Model, Page, Prediction, Version
from ._base import Namespace, ResourceClient, split_model
from .predictions import Predictions

__all__ = ["ModelPredictions", "Models", "Versions"]

VISIBILITIES = ("public", "private")
SORT_KEYS = ("latest_version_created_at", "model_created_at")


class Versions(Namespace):
    """``client.models.versions``: ``list``, ``get``, ``delete``, ``diff``."""

    async def async_list(self, model: str | Model) -> Page[Version]:
        """The model's versions, newest first; iterate the page for all of them."""
        owner, name = split_model(model)
        return await self._page(f"/models/{owner}/{name}/versions", Version.from_dict)

    async def async_get(self, model: str | Model, id: str) -> Version:
        """One version of a model, with its ``openapi_schema``."""
        owner, name = split_model(model)
        return Version.from_dict(
            await self._object(Request("GET", f"/models/{owner}/{name}/versions/{id}"))
        )

    async def async_delete(self, model: str | Model, id: str) -> None:
        """Delete a version of one of your models (the API answers 202)."""
        owner, name = split_model(model)
        await self._send(Request("DELETE", f"/models/{owner}/{name}/versions/{id}"))

    async def async_diff(
        self, a: str | Version, b: str | Version, *, model: str | Model | None = None
    ) -> SchemaDiff:
        """What changed in the inputs (and output type) from version ``a`` to version ``b``:
        inputs added, removed, and changed (type, format, default, range, enum, required).

        ``a`` and ``b`` are ``"owner/name:<version>"``, ``Version`` objects with their schema,
        or version ids of ``model=``."""
        first, second = await self._schema_of(a, model), await self._schema_of(b, model)
        return diff_schemas(first[1], second[1], before_name=first[0], after_name=second[0])

    async def _schema_of(
        self, ref: str | Version, model: str | Model | None
    ) -> tuple[str, dict[str, Any]]:
        if isinstance(ref, Version) and isinstance(ref.openapi_schema, dict):
            return ref.id, ref.openapi_schema
        vid = ref.id if isinstance(ref, Version) else ref
        name: str | Model | None = model
        if ":" in vid:
            name, _, vid = vid.partition(":")
        if name is None or not vid:
            raise ConfigurationError(
                f"cannot tell which model version {vid!r} belongs to: pass "
                "'owner/name:<version>' or model='owner/name'"
            )
        found = await self.async_get(name, vid)
        if not isinstance(found.openapi_schema, dict):
            raise ConfigurationError(f"version {vid} has no openapi_schema to compare")
        return vid, found.openapi_schema

    list = blocking(async_list)
    get = blocking(async_get)
    delete = blocking(async_delete)
    diff = blocking(async_diff)


class ModelPredictions(Namespace):
    """``client.models.predictions.create``: run an official model (no version needed)."""

    async def async_create(
        self,
        model: str | Model,
        input: Mapping[str, Any] | None = None,
        *,
        webhook: str | None = None,
        webhook_events_filter: Iterable[str] | None = None,
        stream: bool | None = None,
        wait: bool | int | None = None,
        cancel_after: str | int | float | timedelta | None = None,
        file_encoding: str | None = None,
    ) -> Prediction:
        """Create a prediction of an official model (``POST /models/{owner}/{name}/predictions``).

        Options as in ``client.predictions.create``.
        """
        owner, name = split_model(model)
        return await Predictions(self._client).async_create(
            model=f"{owner}/{name}",
            input=input,
            webhook=webhook,
            webhook_events_filter=webhook_events_filter,
            stream=stream,
            wait=wait,
            cancel_after=cancel_after,
            file_encoding=file_encoding,
        )

    create = blocking(async_create)


def model_fields(
    *,
    visibility: str | None = None,
    hardware: str | None = None,
    description: str | None = None,
    github_url: str | None = None,
    paper_url: str | None = None,
    license_url: str | None = None,
    cover_image_url: str | None = None,
    readme: str | None = None,
    weights_url: str | None = None,
) -> dict[str, Any]:
    """The body fields given (pure); ``visibility`` checked."""
    if visibility is not None and visibility not in VISIBILITIES:
        raise ConfigurationError(f"visibility must be 'public' or 'private', got {visibility!r}")
    fields = {
        "visibility": visibility,
        "hardware": hardware,
        "description": description,
        "github_url": github_url,
        "paper_url": paper_url,
        "license_url": license_url,
        "cover_image_url": cover_image_url,
        "readme": readme,
        "weights_url": weights_url,
    }
    return {k: v for k, v in fields.items() if v is not None}


class Models(Namespace):
    """Models: ``get``, ``list``, ``create``, ``update``, ``delete``, ``search``, ``readme``,
    ``examples``; ``versions`` and ``predictions`` sub-namespaces."""

    def __init__(self, client: ResourceClient) -> None:
        super().__init__(client)
        self.versions = Versions(client)
        self.predictions = ModelPredictions(client)

    async def async_get(self, model: str | Model, name: str | None = None) -> Model:
        """A model by ``"owner/name"`` (or ``owner, name``), with its ``latest_version``."""
        owner, name = split_model(model, name)
        return Model.from_dict(await self._object(Request("GET", f"/models/{owner}/{name}")))

    async def async_list(
        self, *, sort_by: str | None = None, sort_direction: str | None = None
    ) -> Page[Model]:
        """The first page of public models; iterate it for all of them.

        ``sort_by``: ``"latest_version_created_at"`` (the API's default) or
        ``"model_created_at"``; ``sort_direction``: ``"desc"`` (default) or ``"asc"``.
        """
        params: dict[str, str] = {}
        if sort_by is not None:
            if sort_by not in SORT_KEYS:
                raise ConfigurationError(f"sort_by must be one of {SORT_KEYS}, got {sort_by!r}")
            params["sort_by"] = sort_by
        if sort_direction is not None:
            if sort_direction not in ("asc", "desc"):
                raise ConfigurationError(
                    f"sort_direction must be 'asc' or 'desc', got {sort_direction!r}"
                )
            params["sort_direction"] = sort_direction
        return await self._page("/models", Model.from_dict, params or None)

    async def async_create(
        self,
        owner: str,
        name: str,
        *,
        visibility: str,
        hardware: str,
        description: str | None = None,
        github_url: str | None = None,
        paper_url: str | None = None,
        license_url: str | None = None,
        cover_image_url: str | None = None,
    ) -> Model:
        """Create a model under your account (409 ``ConflictError`` when the name is taken)."""
        body = {
            "owner": owner,
            "name": name,
            **model_fields(
                visibility=visibility,
                hardware=hardware,
                description=description,
                github_url=github_url,
                paper_url=paper_url,
                license_url=license_url,
                cover_image_url=cover_image_url,
            ),
        }
        return Model.from_dict(
            await self._object(Request("POST", "/models", json=body, idempotent=False))
        )

    async def async_update(
        self,
        model: str | Model,
        *,
        description: str | None = None,
        github_url: str | None = None,
        paper_url: str | None = None,
        license_url: str | None = None,
        readme: str | None = None,
        weights_url: str | None = None,
    ) -> Model:
        """Update fields of one of your models (only the ones given are sent)."""
        owner, name = split_model(model)
        body = model_fields(
            description=description,
            github_url=github_url,
            paper_url=paper_url,
            license_url=license_url,
            readme=readme,
            weights_url=weights_url,
        )
        if not body:
            raise ConfigurationError("update needs at least one field to change")
        return Model.from_dict(
            await self._object(Request("PATCH", f"/models/{owner}/{name}", json=body))
        )

    async def async_delete(self, model: str | Model) -> None:
        """Delete one of your models (it must be private and have no versions)."""
        owner, name = split_model(model)
        await self._send(Request("DELETE", f"/models/{owner}/{name}"))

    async def async_search(self, query: str) -> Page[Model]:
        """Models matching ``query`` (the API's ``QUERY /models``); iterate for all pages."""
        if not query.strip():
            raise ConfigurationError("search query is empty")
        return await self._page(
            "/models",
            Model.from_dict,
            method="QUERY",
            content=query.encode(),
            content_type="text/plain",
        )

    async def async_readme(self, model: str | Model) -> str:
        """The model's README, as Markdown text."""
        owner, name = split_model(model)
        response = await self._client._transport.request(
            Request("GET", f"/models/{owner}/{name}/readme")
        )
        text = response.body.decode("utf-8", errors="replace")
        if response.headers.get("Content-Type", "").startswith("application/json"):
            try:
                decoded = json.loads(text)
            except ValueError:
                return text
            return decoded if isinstance(decoded, str) else text
        return text

    async def async_examples(self, model: str | Model) -> Page[Prediction]:
        """The model's example predictions; iterate the page for all of them."""
        owner, name = split_model(model)
        return await self._page(f"/models/{owner}/{name}/examples", self._client._prediction)

    get = blocking(async_get)
    list = blocking(async_list)
    create = blocking(async_create)
    update = blocking(async_update)
    delete = blocking(async_delete)
    search = blocking(async_search)
    readme = blocking(async_readme)
    examples = blocking(async_examples)

"""``client.trainings``: create, get, list, cancel."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .._core.errors import ConfigurationError
from .._core.http_types import Request
from .._core.refs import parse_ref
from .._core.request import check_input, webhook_fields
from .._io.bridge import blocking
from ..types import Model, Page, Training, Version
from ._base import Namespace, object_id, split_model

__all__ = ["Trainings", "training_target"]


def training_target(model: str | Model, version: str | Version | None) -> tuple[str, str, str]:
    """``(owner, name, version_id)`` from ``"owner/name:version"`` or model + version (pure)."""
    if version is not None:
        owner, name = split_model(model)
        version_id = version.id if isinstance(version, Version) else str(version).strip()
    else:
        if isinstance(model, Model):
            raise ConfigurationError("pass version= with a Model, or 'owner/name:version'")
        ref = parse_ref(str(model))
        if ref.owner is None or ref.name is None or ref.version is None:
            raise ConfigurationError(
                f"trainings need a model version: 'owner/name:<version>' or model='owner/name' "
                f"with version='<version>'; got {model!r}"
            )
        owner, name, version_id = ref.owner, ref.name, ref.version
    if not version_id:
        raise ConfigurationError("version is empty")
    return owner, name, version_id


class Trainings(Namespace):
    """Trainings: ``create``, ``get``, ``list``, ``cancel`` (each with an ``async_`` twin)."""

    def _training(self, data: Mapping[str, Any]) -> Training:
        return Training.from_dict(data, client=self._client)

    async def async_create(
        self,
        model: str | Model,
        version: str | Version | None = None,
        *,
        destination: str | Model,
        input: Mapping[str, Any] | None = None,
        webhook: str | None = None,
        webhook_events_filter: Iterable[str] | None = None,
        file_encoding: str | None = None,
    ) -> Training:
        """Start a training of ``model`` at ``version`` that writes a new version to
        ``destination`` (``owner/name``, which must exist: else ``NotFoundError``).

        ``model`` is ``"owner/name:version"``, or ``"owner/name"`` with ``version=``. ``input``
        may hold ``Path``, ``bytes`` or binary files, sent as for ``predictions.create``
        (``file_encoding="upload"|"data_uri"`` forces how). When it succeeds,
        ``training.new_version`` is the version it added to ``destination``.
        """
        owner, name, version_id = training_target(model, version)
        dest_owner, dest_name = split_model(destination)
        body: dict[str, Any] = {
            "destination": f"{dest_owner}/{dest_name}",
            "input": check_input(input),
            **webhook_fields(webhook, webhook_events_filter),
        }
        request = Request(
            "POST",
            f"/models/{owner}/{name}/versions/{version_id}/trainings",
            json=body,
            rate_class="create",
        )
        return self._training(await self._create_with_inputs(request, file_encoding))

    async def async_get(self, id: str) -> Training:
        """The training with this id, as it is now."""
        path = f"/trainings/{object_id(id, 'training')}"
        return self._training(await self._object(Request("GET", path)))

    async def async_list(self) -> Page[Training]:
        """The first page of your trainings, newest first; iterate it for all of them."""
        return await self._page("/trainings", self._training)

    async def async_cancel(self, id: str) -> Training:
        """Cancel a training; one that already finished comes back unchanged."""
        path = f"/trainings/{object_id(id, 'training')}/cancel"
        # Cancelling twice is harmless (a finished one comes back unchanged): safe to retry.
        return self._training(await self._object(Request("POST", path, idempotent=True)))

    create = blocking(async_create)
    get = blocking(async_get)
    list = blocking(async_list)
    cancel = blocking(async_cancel)

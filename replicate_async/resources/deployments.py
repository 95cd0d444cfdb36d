"""``client.deployments``: create, get, list, update, delete, and ``.predictions.create``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from .._core.errors import ConfigurationError
from .._core.http_types import Request
from .._core.refs import parse_deployment
from .._io.bridge import blocking
from ..types import Deployment, Model, Page, Prediction, Version
from ._base import Namespace, ResourceClient, split_model
from .predictions import Predictions

__all__ = ["DeploymentPredictions", "Deployments", "deployment_fields", "deployment_path"]

# Spec: deployments.create/update, `min_instances` 0–5 and `max_instances` 0–20.
INSTANCE_RANGES = {"min_instances": (0, 5), "max_instances": (0, 20)}


def deployment_path(deployment: str | Deployment) -> str:
    """``/deployments/{owner}/{name}`` from ``"owner/name"`` or a Deployment (pure)."""
    if isinstance(deployment, Deployment):
        return f"/deployments/{deployment.owner}/{deployment.name}"
    owner, name = parse_deployment(deployment)
    return f"/deployments/{owner}/{name}"


def deployment_fields(
    *,
    model: str | Model | None = None,
    version: str | Version | None = None,
    hardware: str | None = None,
    min_instances: int | None = None,
    max_instances: int | None = None,
) -> dict[str, Any]:
    """The body fields given, checked before anything is sent (pure).

    ``min_instances`` must be 0–5 and ``max_instances`` 0–20 (the spec's ranges); ``version`` a
    version id or a Version (``owner/name:<id>`` is accepted and reduced to the id).
    """
    body: dict[str, Any] = {}
    if model is not None:
        owner, name = split_model(model)
        body["model"] = f"{owner}/{name}"
    if version is not None:
        text = version.id if isinstance(version, Version) else str(version).strip()
        text = text.rpartition(":")[2]
        if not text:
            raise ConfigurationError("version is empty")
        body["version"] = text
    if hardware is not None:
        if not isinstance(hardware, str) or not hardware.strip():
            raise ConfigurationError(f"hardware must be a SKU such as 'gpu-t4', got {hardware!r}")
        body["hardware"] = hardware
    for key, value in (("min_instances", min_instances), ("max_instances", max_instances)):
        if value is None:
            continue
        low, high = INSTANCE_RANGES[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigurationError(
                f"{key} must be an integer from {low} to {high}, got {value!r}"
            )
        body[key] = value
    return body


class DeploymentPredictions(Namespace):
    """``client.deployments.predictions.create``: run a prediction on a deployment."""

    async def async_create(
        self,
        deployment: str | Deployment,
        input: Mapping[str, Any] | None = None,
        *,
        webhook: str | None = None,
        webhook_events_filter: Iterable[str] | None = None,
        stream: bool | None = None,
        wait: bool | int | None = None,
        cancel_after: str | int | float | timedelta | None = None,
        file_encoding: str | None = None,
    ) -> Prediction:
        """Create a prediction on ``deployment`` (``"owner/name"``) through
        ``POST /deployments/{owner}/{name}/predictions``.

        Options as in ``client.predictions.create`` (``wait``, ``cancel_after``, webhooks, file
        inputs).
        """
        ref = deployment_path(deployment).removeprefix("/deployments/")
        return await Predictions(self._client).async_create(
            input=input,
            deployment=ref,
            webhook=webhook,
            webhook_events_filter=webhook_events_filter,
            stream=stream,
            wait=wait,
            cancel_after=cancel_after,
            file_encoding=file_encoding,
        )

    create = blocking(async_create)


class Deployments(Namespace):
    """Deployments: ``create``, ``get``, ``list``, ``update``, ``delete``; ``predictions``."""

    def __init__(self, client: ResourceClient) -> None:
        super().__init__(client)
        self.predictions = DeploymentPredictions(client)

    async def async_create(
        self,
        *,
        name: str,
        model: str | Model,
        version: str | Version,
        hardware: str,
        min_instances: int,
        max_instances: int,
    ) -> Deployment:
        """Create a deployment of ``model`` at ``version`` on ``hardware`` under your account.

        ``min_instances`` is 0–5 and ``max_instances`` 0–20; out-of-range values raise
        ``ConfigurationError`` before anything is sent. A taken name is a ``ConflictError``.
        """
        if not isinstance(name, str) or not name.strip() or "/" in name:
            raise ConfigurationError(
                f"name must be a deployment name such as 'my-app', got {name!r}"
            )
        body = {
            "name": name,
            **deployment_fields(
                model=model,
                version=version,
                hardware=hardware,
                min_instances=min_instances,
                max_instances=max_instances,
            ),
        }
        request = Request("POST", "/deployments", json=body, idempotent=False)
        return Deployment.from_dict(await self._object(request))

    async def async_get(self, deployment: str | Deployment) -> Deployment:
        """A deployment by ``"owner/name"``, with its ``current_release``."""
        return Deployment.from_dict(await self._object(Request("GET", deployment_path(deployment))))

    async def async_list(self) -> Page[Deployment]:
        """The first page of your deployments; iterate it for all of them."""
        return await self._page("/deployments", Deployment.from_dict)

    async def async_update(
        self,
        deployment: str | Deployment,
        *,
        version: str | Version | None = None,
        hardware: str | None = None,
        min_instances: int | None = None,
        max_instances: int | None = None,
    ) -> Deployment:
        """Change a deployment (``PATCH``; only the fields given are sent, at least one).

        Every update creates a release: ``current_release.number`` goes up by one.
        """
        body = deployment_fields(
            version=version,
            hardware=hardware,
            min_instances=min_instances,
            max_instances=max_instances,
        )
        if not body:
            raise ConfigurationError(
                "update needs at least one of version, hardware, min_instances, max_instances"
            )
        request = Request("PATCH", deployment_path(deployment), json=body)
        return Deployment.from_dict(await self._object(request))

    async def async_delete(self, deployment: str | Deployment) -> None:
        """Delete a deployment (the API answers 204)."""
        await self._send(Request("DELETE", deployment_path(deployment)))

    create = blocking(async_create)
    get = blocking(async_get)
    list = blocking(async_list)
    update = blocking(async_update)
    delete = blocking(async_delete)

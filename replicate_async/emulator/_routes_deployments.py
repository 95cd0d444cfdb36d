"""Deployments: list, create (200), get, update (bumps the release number), delete (204)."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from ._catalog import HARDWARE
from ._core import CORE, Core
from ._http import check_body, json_response, operation, page_of, read_json
from ._problems import Problem, not_found, validation_problem
from ._state import Deployment
from ._util import format_ts

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_SKUS = frozenset(h["sku"] for h in HARDWARE)
_RANGES = {"min_instances": (0, 5), "max_instances": (0, 20)}
_TYPES = {
    "name": "string",
    "model": "string",
    "version": "string",
    "hardware": "string",
    "min_instances": "integer",
    "max_instances": "integer",
}


def _creator(core: Core) -> dict[str, Any]:
    account = core.options.account
    return {
        k: account[k]
        for k in ("type", "username", "name", "avatar_url", "github_url")
        if k in account
    }


def _check_config(core: Core, body: dict[str, Any], model_ref: str) -> None:
    errors = []
    if "hardware" in body and body["hardware"] not in _SKUS:
        errors.append(
            {
                "type": "enum",
                "field": "hardware",
                "description": f"hardware {body['hardware']!r} is not a valid SKU",
            }
        )
    if "version" in body:
        found = core.catalog.versions.get(body["version"])
        if found is None or found[0].ref != model_ref:
            errors.append(
                {
                    "type": "invalid_version",
                    "field": "version",
                    "description": f"version {body['version']!r} does not exist for {model_ref}",
                }
            )
    if errors:
        raise validation_problem(errors)


def _get(core: Core, request: web.Request) -> Deployment:
    key = f"{request.match_info['deployment_owner']}/{request.match_info['deployment_name']}"
    deployment = core.store.deployments.get(key)
    if deployment is None:
        raise not_found()
    return deployment


@operation("deployments.list", "GET", "/deployments")
async def deployments_list(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    items = sorted(core.store.deployments.values(), key=lambda d: -d.seq)
    page = page_of(core, request, items, "/deployments")
    return json_response(page.to_json(Deployment.to_json))


@operation("deployments.create", "POST", "/deployments")
async def deployments_create(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    body = check_body(
        await read_json(request),
        allowed=tuple(_TYPES),
        required=tuple(_TYPES),
        types=_TYPES,
        ranges=_RANGES,
    )
    if not _NAME.match(body["name"]):
        raise validation_problem(
            [
                {
                    "type": "pattern",
                    "field": "name",
                    "description": "name may contain only lowercase letters, numbers, dashes "
                    "and underscores",
                }
            ]
        )
    model = core.catalog.models.get(body["model"])
    if model is None:
        raise validation_problem(
            [
                {
                    "type": "invalid_model",
                    "field": "model",
                    "description": f"model {body['model']!r} does not exist",
                }
            ]
        )
    _check_config(core, body, model.ref)
    if body["min_instances"] > body["max_instances"]:
        raise validation_problem(
            [
                {
                    "type": "number_lte",
                    "field": "min_instances",
                    "description": "min_instances must be less than or equal to max_instances",
                }
            ]
        )
    owner = core.options.username
    key = f"{owner}/{body['name']}"
    if key in core.store.deployments:
        raise Problem(409, f"A deployment named {key} already exists", title="Conflict")
    deployment = Deployment(
        owner=owner,
        name=body["name"],
        model=model.ref,
        version=body["version"],
        hardware=body["hardware"],
        min_instances=body["min_instances"],
        max_instances=body["max_instances"],
        number=1,
        release_created_at=format_ts(core.clock.time(), core.rng),
        created_by=_creator(core),
        seq=core.store.next_seq(),
    )
    core.store.deployments[key] = deployment
    return json_response(deployment.to_json(), 200)


@operation("deployments.get", "GET", "/deployments/{deployment_owner}/{deployment_name}")
async def deployments_get(request: web.Request) -> web.StreamResponse:
    return json_response(_get(request.app[CORE], request).to_json())


@operation("deployments.update", "PATCH", "/deployments/{deployment_owner}/{deployment_name}")
async def deployments_update(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    deployment = _get(core, request)
    fields = ("hardware", "min_instances", "max_instances", "version")
    body = check_body(
        await read_json(request),
        allowed=fields,
        types={k: _TYPES[k] for k in fields},
        ranges=_RANGES,
    )
    _check_config(core, body, deployment.model)
    low = body.get("min_instances", deployment.min_instances)
    high = body.get("max_instances", deployment.max_instances)
    if low > high:
        raise validation_problem(
            [
                {
                    "type": "number_lte",
                    "field": "min_instances",
                    "description": "min_instances must be less than or equal to max_instances",
                }
            ]
        )
    for key, value in body.items():
        setattr(deployment, key, value)
    deployment.number += 1
    deployment.release_created_at = format_ts(core.clock.time(), core.rng)
    deployment.created_by = _creator(core)
    return json_response(deployment.to_json())


@operation("deployments.delete", "DELETE", "/deployments/{deployment_owner}/{deployment_name}")
async def deployments_delete(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    deployment = _get(core, request)
    del core.store.deployments[f"{deployment.owner}/{deployment.name}"]
    return web.Response(status=204)

"""Predictions: the three create endpoints, list, get and cancel."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from ._catalog import ModelSpec, VersionSpec
from ._core import CORE, Core
from ._http import (
    check_body,
    check_webhook,
    json_response,
    operation,
    page_of,
    parse_cancel_after,
    parse_prefer,
    read_json,
)
from ._jobs import Job
from ._problems import Problem, invalid_version, not_found, validation_problem
from ._util import parse_ts_ns

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_MODEL_BODY = ("input", "stream", "webhook", "webhook_events_filter")
_VERSION_BODY = ("version", *_MODEL_BODY)


def resolve_version(core: Core, ref: str) -> tuple[ModelSpec, VersionSpec, str]:
    """``owner/name``, ``owner/name:<id>`` or ``<id>`` -> (model, version, reported id)."""
    catalog = core.catalog
    if ":" in ref:
        model_ref, _, vid = ref.partition(":")
        found = catalog.versions.get(vid)
        if found is None or found[0].ref != model_ref:
            raise invalid_version()
        return found[0], found[1], vid
    if "/" in ref:
        model = catalog.models.get(ref)
        if model is None or not model.is_official or model.latest is None:
            raise invalid_version()
        return model, model.latest, model.official_version_id
    found = catalog.versions.get(ref)
    if found is None:
        raise invalid_version()
    return found[0], found[1], ref


async def create_job(
    request: web.Request,
    core: Core,
    body: dict[str, Any],
    model: ModelSpec,
    version: VersionSpec,
    reported_version: str,
    *,
    deployment: str | None = None,
) -> web.Response:
    """Shared by the three create endpoints: validate, create, maybe wait, answer 201."""
    prefer = parse_prefer(request.headers.get("Prefer"))
    cancel_after = parse_cancel_after(request.headers.get("Cancel-After"))
    webhook, events = check_webhook(body)
    given = body["input"]
    run_input, errors = version.validator.validate(given, strict=core.options.strict_inputs)
    if errors:
        raise validation_problem(errors)
    job = core.engine.create(
        kind="prediction",
        model=model,
        version=version,
        reported_version=reported_version,
        input=given,
        run_input=run_input,
        deployment=deployment,
        webhook=webhook,
        webhook_events_filter=events,
        cancel_after=cancel_after,
    )
    core.store.stats.creates += 1
    headers = {"Location": job.urls["get"]}
    if prefer is None:
        return json_response(job.to_json(), 201, headers)
    seconds, applied = prefer
    result = await core.engine.wait(job, seconds)
    headers["Preference-Applied"] = applied
    return json_response(result, 201, headers)


def _prediction_body(body: Any, allowed: tuple[str, ...], required: tuple[str, ...]) -> Any:
    return check_body(
        body,
        allowed=allowed,
        required=required,
        types={
            "input": "object",
            "stream": "boolean",
            "version": "string",
        },
    )


@operation("predictions.create", "POST", "/predictions")
async def predictions_create(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    body = _prediction_body(await read_json(request), _VERSION_BODY, ("version", "input"))
    model, version, reported = resolve_version(core, body["version"])
    return await create_job(request, core, body, model, version, reported)


@operation("models.predictions.create", "POST", "/models/{model_owner}/{model_name}/predictions")
async def models_predictions_create(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    ref = f"{request.match_info['model_owner']}/{request.match_info['model_name']}"
    model = core.catalog.models.get(ref)
    if model is None:
        raise not_found()
    body = _prediction_body(await read_json(request), _MODEL_BODY, ("input",))
    if not model.is_official or model.latest is None:
        raise invalid_version()
    return await create_job(request, core, body, model, model.latest, model.official_version_id)


@operation(
    "deployments.predictions.create",
    "POST",
    "/deployments/{deployment_owner}/{deployment_name}/predictions",
)
async def deployments_predictions_create(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    owner = request.match_info["deployment_owner"]
    name = request.match_info["deployment_name"]
    deployment = core.store.deployments.get(f"{owner}/{name}")
    if deployment is None:
        raise not_found()
    body = _prediction_body(await read_json(request), _MODEL_BODY, ("input",))
    found = core.catalog.versions.get(deployment.version)
    if found is None:
        raise invalid_version()
    return await create_job(
        request, core, body, found[0], found[1], deployment.version, deployment=f"{owner}/{name}"
    )


def _find(core: Core, job_id: str) -> Job:
    job = core.store.predictions.get(job_id) or core.store.trainings.get(job_id)
    if job is None:
        raise not_found()
    return job


@operation("predictions.list", "GET", "/predictions")
async def predictions_list(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    query = request.query
    bounds: dict[str, int | None] = {"created_after": None, "created_before": None}
    for name in bounds:
        if name in query:
            bounds[name] = parse_ts_ns(query[name])
            if bounds[name] is None:
                raise Problem(400, f"Invalid {name}: expected an ISO 8601 date-time")
    # The spec: "created at or after" created_after, "created before" created_before; both
    # compared exactly with the real creation time (the printed one may have fewer digits).
    after, before = bounds["created_after"], bounds["created_before"]
    source = query.get("source")
    if source is not None and source != "web":
        raise Problem(400, "Invalid source: the only accepted value is 'web'")
    items = [
        job
        for job in reversed(core.store.predictions.values())
        if (source is None or job.source == source)
        and (after is None or job.created_at_ns >= after)
        and (before is None or job.created_at_ns < before)
    ]
    page = page_of(core, request, items, "/predictions", key=lambda job: job.seq)
    return json_response(page.to_json(Job.to_json))


@operation("predictions.get", "GET", "/predictions/{prediction_id}")
async def predictions_get(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    return json_response(_find(core, request.match_info["prediction_id"]).to_json())


@operation("predictions.cancel", "POST", "/predictions/{prediction_id}/cancel")
async def predictions_cancel(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    job = _find(core, request.match_info["prediction_id"])
    core.engine.cancel(job)
    return json_response(job.to_json())

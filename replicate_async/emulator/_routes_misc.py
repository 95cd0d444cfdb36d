"""Account, hardware, collections, webhook secret and trainings."""

from __future__ import annotations

from aiohttp import web

from ._catalog import HARDWARE
from ._core import CORE
from ._http import check_body, check_webhook, json_response, operation, page_of, read_json
from ._jobs import Job
from ._problems import Problem, not_found, validation_problem
from ._routes_models import get_model


@operation("account.get", "GET", "/account")
async def account_get(request: web.Request) -> web.StreamResponse:
    return json_response(dict(request.app[CORE].options.account))


@operation("hardware.list", "GET", "/hardware")
async def hardware_list(request: web.Request) -> web.StreamResponse:
    return json_response(HARDWARE)


@operation("webhooks.default.secret.get", "GET", "/webhooks/default/secret")
async def webhook_secret(request: web.Request) -> web.StreamResponse:
    return json_response({"key": request.app[CORE].webhook_secret})


@operation("collections.list", "GET", "/collections")
async def collections_list(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    page = page_of(core, request, list(core.catalog.collections), "/collections")
    return json_response(
        page.to_json(lambda c: {"name": c.name, "slug": c.slug, "description": c.description})
    )


@operation("collections.get", "GET", "/collections/{collection_slug}")
async def collections_get(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    slug = request.match_info["collection_slug"]
    for c in core.catalog.collections:
        if c.slug == slug:
            models = [
                core.catalog.models[r].to_json() for r in c.models if r in core.catalog.models
            ]
            return json_response(
                {
                    "name": c.name,
                    "slug": c.slug,
                    "description": c.description,
                    "full_description": c.full_description,
                    "models": models,
                }
            )
    raise not_found()


# -- trainings ---------------------------------------------------------------------------


@operation(
    "trainings.create",
    "POST",
    "/models/{model_owner}/{model_name}/versions/{version_id}/trainings",
)
async def trainings_create(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    model = get_model(core, request)
    vid = request.match_info["version_id"]
    version = next((v for v in model.versions if v.id == vid), None)
    if version is None:
        raise not_found()
    body = check_body(
        await read_json(request),
        allowed=("destination", "input", "webhook", "webhook_events_filter"),
        required=("destination", "input"),
        types={"destination": "string", "input": "object"},
    )
    webhook, events = check_webhook(body)
    dest_ref = body["destination"]
    destination = core.catalog.models.get(dest_ref)
    if destination is None:
        raise Problem(404, f"The destination model {dest_ref} does not exist", include_title=False)
    if destination.owner != core.options.username:
        raise Problem(403, f"You do not have permission to push to {dest_ref}")
    given = body["input"]
    run_input = dict(given)
    if version.training_validator is not None:
        run_input, errors = version.training_validator.validate(given)
        if errors:
            raise validation_problem(errors)
    job = core.engine.create(
        kind="training",
        model=model,
        version=version,
        reported_version=version.id,
        input=given,
        run_input=run_input,
        webhook=webhook,
        webhook_events_filter=events,
        destination=destination,
    )
    core.store.stats.creates += 1
    return json_response(job.to_json(), 201, {"Location": job.urls["get"]})


@operation("trainings.list", "GET", "/trainings")
async def trainings_list(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    items = list(reversed(core.store.trainings.values()))
    page = page_of(core, request, items, "/trainings", key=lambda job: job.seq)
    return json_response(page.to_json(Job.to_json))


def _training(request: web.Request) -> Job:
    job = request.app[CORE].store.trainings.get(request.match_info["training_id"])
    if job is None:
        raise not_found()
    return job


@operation("trainings.get", "GET", "/trainings/{training_id}")
async def trainings_get(request: web.Request) -> web.StreamResponse:
    return json_response(_training(request).to_json())


@operation("trainings.cancel", "POST", "/trainings/{training_id}/cancel")
async def trainings_cancel(request: web.Request) -> web.StreamResponse:
    job = _training(request)
    request.app[CORE].engine.cancel(job)
    return json_response(job.to_json())

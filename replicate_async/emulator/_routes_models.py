"""Models: list, search (QUERY), get, create, update, delete, readme, examples, versions."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from ._catalog import HARDWARE, ModelSpec
from ._core import CORE, Core
from ._http import check_body, json_response, operation, page_of, read_json
from ._problems import Problem, not_found, validation_problem
from ._state import cursor_scope
from ._util import format_ts, parse_ts

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_SEARCH = "models.search:"  # cursor scope of search pages (followed by the query)
_URL_FIELDS = ("github_url", "paper_url", "license_url", "cover_image_url", "weights_url")


def get_model(core: Core, request: web.Request) -> ModelSpec:
    ref = f"{request.match_info['model_owner']}/{request.match_info['model_name']}"
    model = core.catalog.models.get(ref)
    if model is None or (model.visibility == "private" and model.owner != core.options.username):
        raise not_found()
    return model


def _visible(core: Core) -> list[ModelSpec]:
    me = core.options.username
    return [m for m in core.catalog.models.values() if m.visibility == "public" or m.owner == me]


@operation("models.list", "GET", "/models")
async def models_list(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    scope = cursor_scope(request.query.get("cursor"))
    if scope.startswith(_SEARCH):  # a search's next/previous link followed with GET
        return _search_page(core, request, scope.removeprefix(_SEARCH))
    sort_by = request.query.get("sort_by", "latest_version_created_at")
    direction = request.query.get("sort_direction", "desc")
    if sort_by not in ("model_created_at", "latest_version_created_at"):
        raise Problem(400, f"Invalid sort_by: {sort_by}")
    if direction not in ("asc", "desc"):
        raise Problem(400, f"Invalid sort_direction: {direction}")

    def key(model: ModelSpec) -> float:
        if sort_by == "model_created_at":
            stamp: str | None = model.created_at
        else:
            stamp = model.latest.created_at if model.latest else None
        return (parse_ts(stamp) or 0.0) if stamp else 0.0

    models = sorted(_visible(core), key=key, reverse=direction == "desc")
    return json_response(page_of(core, request, models, "/models").to_json(ModelSpec.to_json))


def search_models(core: Core, query: str) -> list[tuple[ModelSpec, float]]:
    """Models matching every word of ``query``, best first, with a relevance score."""
    words = [w for w in re.split(r"\W+", query.lower()) if w]
    scored: list[tuple[ModelSpec, float]] = []
    for model in _visible(core):
        haystack = " ".join(
            [model.owner, model.name, model.description or "", " ".join(model.tags)]
        ).lower()
        if all(w in haystack for w in words):
            name_hits = sum(w in model.ref for w in words)
            score = 1.0 + name_hits + min(model.run_count, 10**8) / 10**8
            scored.append((model, round(score, 4)))
    scored.sort(key=lambda pair: -pair[1])
    return scored


@operation("models.search", "QUERY", "/models")
async def models_search(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    text = (await request.text()).strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    if not text:
        raise Problem(400, "Search query must not be empty")
    return _search_page(core, request, text)


def _search_page(core: Core, request: web.Request, text: str) -> web.Response:
    # The cursors carry the query: following ``next`` continues the same search, whether the
    # client re-sends the QUERY body (then it must match) or follows the link with GET.
    models = [m for m, _ in search_models(core, text)]
    page = page_of(core, request, models, "/models", scope=_SEARCH + text)
    return json_response(page.to_json(ModelSpec.to_json))


@operation("models.get", "GET", "/models/{model_owner}/{model_name}")
async def models_get(request: web.Request) -> web.StreamResponse:
    return json_response(get_model(request.app[CORE], request).to_json())


@operation("models.create", "POST", "/models")
async def models_create(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    body = check_body(
        await read_json(request),
        allowed=None,
        required=("owner", "name", "visibility", "hardware"),
        types={
            "owner": "string",
            "name": "string",
            "visibility": "string",
            "hardware": "string",
            "description": "string",
            **{f: "string" for f in _URL_FIELDS},
        },
    )
    errors = []
    if body["visibility"] not in ("public", "private"):
        errors.append(
            {
                "type": "enum",
                "field": "visibility",
                "description": 'visibility must be one of the following: "public", "private"',
            }
        )
    if body["hardware"] not in {h["sku"] for h in HARDWARE}:
        errors.append(
            {
                "type": "enum",
                "field": "hardware",
                "description": f"hardware {body['hardware']!r} is not a valid SKU",
            }
        )
    if not _NAME.match(body["name"]):
        errors.append(
            {
                "type": "pattern",
                "field": "name",
                "description": "name may contain only lowercase letters, numbers, dashes, "
                "underscores and periods",
            }
        )
    if errors:
        raise validation_problem(errors)
    if body["owner"] != core.options.username:
        raise Problem(
            403, f"You do not have permission to create models for the owner {body['owner']}"
        )
    ref = f"{body['owner']}/{body['name']}"
    if ref in core.catalog.models:
        raise Problem(409, f"A model with the name {ref} already exists", title="Conflict")
    model = ModelSpec(
        body["owner"],
        body["name"],
        body.get("description"),
        "image",
        0.2,
        1.0,
        streams=False,
        visibility=body["visibility"],
        github_url=body.get("github_url"),
        paper_url=body.get("paper_url"),
        license_url=body.get("license_url"),
        cover_image_url=body.get("cover_image_url"),
        created_at=format_ts(core.clock.time(), core.rng),
        hardware=body["hardware"],
    )
    core.catalog.models[ref] = model
    return json_response(model.to_json(), 201)


def _own(core: Core, model: ModelSpec, action: str) -> None:
    if model.owner != core.options.username:
        raise Problem(403, f"You do not have permission to {action} this model")


@operation("models.update", "PATCH", "/models/{model_owner}/{model_name}")
async def models_update(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    model = get_model(core, request)
    body = check_body(
        await read_json(request),
        allowed=("description", "readme", *_URL_FIELDS),
        types={k: "string" for k in ("description", "readme", *_URL_FIELDS)},
    )
    _own(core, model, "update")
    for key, value in body.items():
        if key == "readme":
            model.readme = value
        elif key != "weights_url":
            setattr(model, key, value)
    return json_response(model.to_json())


@operation("models.delete", "DELETE", "/models/{model_owner}/{model_name}")
async def models_delete(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    model = get_model(core, request)
    _own(core, model, "delete")
    if model.visibility != "private":
        raise Problem(403, "You can only delete private models")
    if model.versions:
        raise Problem(
            409,
            "Cannot delete a model that has versions. Delete its versions first.",
            title="Conflict",
        )
    del core.catalog.models[model.ref]
    return web.Response(status=204)


@operation("models.readme.get", "GET", "/models/{model_owner}/{model_name}/readme")
async def models_readme(request: web.Request) -> web.StreamResponse:
    model = get_model(request.app[CORE], request)
    if not model.readme:
        raise not_found()
    return web.Response(text=model.readme, content_type="text/markdown", charset="utf-8")


@operation("models.examples.list", "GET", "/models/{model_owner}/{model_name}/examples")
async def models_examples(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    model = get_model(core, request)
    path = f"/models/{model.ref}/examples"
    page = page_of(core, request, list(model.examples), path)
    return json_response(page.to_json(dict))


@operation("models.versions.list", "GET", "/models/{model_owner}/{model_name}/versions")
async def versions_list(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    model = get_model(core, request)
    page = page_of(core, request, list(model.versions), f"/models/{model.ref}/versions")
    return json_response(page.to_json(lambda v: v.to_json()))


def _version(core: Core, request: web.Request) -> tuple[ModelSpec, Any]:
    model = get_model(core, request)
    vid = request.match_info["version_id"]
    if vid == model.official_version_id and model.is_official and model.latest is not None:
        return model, model.latest
    for version in model.versions:
        if version.id == vid:
            return model, version
    raise not_found()


@operation("models.versions.get", "GET", "/models/{model_owner}/{model_name}/versions/{version_id}")
async def versions_get(request: web.Request) -> web.StreamResponse:
    _, version = _version(request.app[CORE], request)
    return json_response(version.to_json())


@operation(
    "models.versions.delete",
    "DELETE",
    "/models/{model_owner}/{model_name}/versions/{version_id}",
)
async def versions_delete(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    model, version = _version(core, request)
    _own(core, model, "delete versions of")
    if any(d.version == version.id for d in core.store.deployments.values()):
        raise Problem(409, "You cannot delete a version that has an associated deployment")
    core.catalog.remove_version(model, version)
    return web.Response(status=202)


def _search_metadata(model: ModelSpec, score: float) -> dict[str, Any]:
    return {
        "generated_description": (model.description or model.name)
        + ". Runs locally on the replicate_async emulator.",
        "tags": list(model.tags),
        "score": score,
    }


@operation("search", "GET", "/search")
async def search(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    query = request.query.get("query", "").strip()
    if not query:
        return json_response({"detail": "The query parameter is required"}, 400)
    try:
        limit = int(request.query.get("limit", "20"))
    except ValueError:
        return json_response({"detail": "limit must be an integer"}, 400)
    if not 1 <= limit <= 50:
        return json_response({"detail": "limit must be between 1 and 50"}, 400)
    found = search_models(core, query)[:limit]
    words = [w for w in re.split(r"\W+", query.lower()) if w]
    collections = [
        {
            "name": c.name,
            "slug": c.slug,
            "description": c.description,
            "models": list(c.models),
        }
        for c in core.catalog.collections
        if any(w in f"{c.slug} {c.name} {c.description}".lower() for w in words)
    ][:limit]
    pages = [
        {"name": "Create a prediction", "href": "https://replicate.com/docs/topics/predictions"},
        {
            "name": "Streaming output",
            "href": "https://replicate.com/docs/topics/predictions/streaming",
        },
        {"name": "Webhooks", "href": "https://replicate.com/docs/topics/webhooks"},
    ]
    pages = [p for p in pages if any(w in p["name"].lower() for w in words)]
    return json_response(
        {
            "query": query,
            "models": [
                {"model": m.to_json(), "metadata": _search_metadata(m, score)} for m, score in found
            ],
            "collections": collections,
            "pages": pages,
        }
    )

"""The three aiohttp applications (API, stream, delivery) and their middleware.

The API middleware does, in order: fault injection, auth, rate limiting, the handler,
problem+json for errors, rate-limit headers, and the request log. It is a single
middleware because it sits on the hot path of every request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from . import (  # noqa: F401  (importing registers the operations)
    _routes_deployments,
    _routes_files,
    _routes_misc,
    _routes_models,
    _routes_predictions,
)
from ._core import CORE, Core
from ._faults import Fault
from ._http import OPERATIONS, Handler
from ._problems import NOT_FOUND_DETAIL, Problem, problem_response
from ._state import DeliveryRecord, RequestRecord
from ._stream_server import stream_handler

__all__ = ["build_api_app", "build_delivery_app", "build_stream_app"]

_OP_OF: dict[Handler, str] = {handler: op for op, _, _, handler in OPERATIONS}
_NO_AUTH = frozenset({"search", "files.download"})
_CREATES = frozenset(
    {
        "predictions.create",
        "models.predictions.create",
        "deployments.predictions.create",
        "trainings.create",
    }
)
_MALFORMED = b'{"id": "broken", "status": "succeeded", "output": ["tru'


def _redact(headers: Mapping[str, str]) -> dict[str, str]:
    if (
        isinstance(headers, (CIMultiDictProxy, CIMultiDict))
        and "authorization" not in headers  # case-insensitive lookups
        and "cookie" not in headers
    ):
        return dict(headers.items())
    return {
        k: ("<redacted>" if k.lower() in ("authorization", "cookie") else v)
        for k, v in headers.items()
    }


def authenticate(request: web.Request, core: Core) -> str:
    """The request's token; a 401 problem when missing or not the configured one."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() not in ("bearer", "token") or not token:
        raise Problem(401, "You did not pass a valid authentication token")
    expected = core.options.token
    if expected is not None and token != expected:
        raise Problem(401, "You did not pass a valid authentication token")
    return token


async def _apply_fault(request: web.Request, fault: Fault) -> web.StreamResponse | None:
    """Perform a fault's effects; a response to send instead of the handler's, or None."""
    core = request.app[CORE]
    core.store.stats.faults_injected += 1
    if fault.latency:
        await core.clock.sleep(fault.latency)
    if fault.reset:
        transport = request.transport
        if transport is not None:
            transport.abort()
        raise asyncio.CancelledError  # nothing can be sent on an aborted connection
    if fault.status is not None:
        body = fault.body
        headers = dict(fault.headers)
        if isinstance(body, str):
            return web.Response(status=fault.status, text=body, headers=headers)
        payload = dict(body) if body is not None else None
        if payload is None:
            payload = Problem(fault.status, "Injected fault", include_title=True).body
        return problem_response(fault.status, payload, headers)
    return None


def _not_found() -> web.Response:
    return problem_response(404, {"detail": NOT_FOUND_DETAIL, "status": 404})


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    core = request.app[CORE]
    store = core.store
    op = _OP_OF.get(request.match_info.route.handler)
    limits: Mapping[str, str] | None = None
    resp: web.StreamResponse | None = None
    try:
        fault = (
            core.faults.pick("api", op, request.method, request.path) if core.faults.rules else None
        )
        if fault is not None:
            resp = await _apply_fault(request, fault)
        if resp is None:
            if op is None:
                resp = _not_found()
            else:
                token = "" if op in _NO_AUTH else authenticate(request, core)
                limits = core.limiter.check(token, op in _CREATES)
                resp = await handler(request)
                if fault is not None and fault.malformed:
                    resp = web.Response(
                        status=200, body=_MALFORMED, content_type="application/json"
                    )
    except Problem as problem:
        resp = problem.response()
        if problem.status == 429:
            store.stats.rate_limited += 1
    except web.HTTPException as exc:
        resp = problem_response(exc.status, {"detail": exc.reason, "status": exc.status})
    if limits is not None:
        resp.headers.update(limits)
    elif "ratelimit-remaining" not in resp.headers:
        resp.headers.update(core.limiter.idle_headers())
    stats = store.stats
    stats.requests += 1
    stats.by_status[resp.status] += 1
    if op is not None:
        stats.by_operation[op] += 1
    store.requests.append(
        RequestRecord(
            "api",
            request.method,
            request.path,
            resp.status,
            _redact(request.headers),
            op,
            request.query_string,
            request.rel_url.raw_query_string,
        )
    )
    return resp


@web.middleware
async def stream_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    core = request.app[CORE]
    try:
        resp = await handler(request)
    except Problem as problem:
        resp = problem.response()
    except web.HTTPException as exc:
        resp = problem_response(exc.status, {"detail": exc.reason, "status": exc.status})
    if not resp.prepared:  # errors too, so a page can read why its stream failed
        for key, value in _CORS.items():
            resp.headers.setdefault(key, value)
    core.store.requests.append(
        RequestRecord(
            "stream",
            request.method,
            request.path,
            resp.status,
            _redact(request.headers),
            None,
            request.query_string,
            request.rel_url.raw_query_string,
        )
    )
    return resp


# ``urls.stream`` is a capability URL: browsers open it with ``EventSource`` (no headers), the
# official JavaScript client with nothing but ``Accept``. CORS lets any page read it.
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Content-Type, Cache-Control",
}
_PREFLIGHT_ALLOWED = "Accept, Authorization, Cache-Control, Last-Event-ID, Content-Type"


async def stream_entry(request: web.Request) -> web.StreamResponse:
    """Faults, then the SSE handler (``cut_after`` faults are applied by it).

    No token is needed (the unguessable path is the credential); one sent anyway is ignored.
    """
    core = request.app[CORE]
    fault = core.faults.pick("stream", "stream", request.method, request.path)
    if fault is not None and fault.cut_after is None:
        faulted = await _apply_fault(request, fault)
        if faulted is not None:
            return faulted
    return await stream_handler(request, fault.cut_after if fault is not None else None)


async def stream_preflight(request: web.Request) -> web.StreamResponse:
    """CORS preflight of a stream URL (a browser ``fetch`` with custom headers sends one)."""
    asked = request.headers.get("Access-Control-Request-Headers", "")
    return web.Response(
        status=204,
        headers={
            **_CORS,
            "Access-Control-Allow-Methods": "GET, OPTIONS",
            "Access-Control-Allow-Headers": asked.strip() or _PREFLIGHT_ALLOWED,
            "Access-Control-Max-Age": "86400",
            "Vary": "Access-Control-Request-Headers",
        },
    )


async def delivery_handler(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    store = core.store
    record = DeliveryRecord(
        request.path, "Authorization" in request.headers, _redact(request.headers)
    )
    store.delivery_requests.append(record)
    fault = core.faults.pick("delivery", "delivery", request.method, request.path)
    if fault is not None:
        faulted = await _apply_fault(request, fault)
        if faulted is not None:
            record.status = faulted.status
            return faulted
    found = store.delivery.get(request.path)
    if found is None:
        record.status = 404
        return web.Response(status=404, text="Not Found")
    data = found.content()
    return web.Response(
        body=data if request.method != "HEAD" else None,
        content_type=found.content_type,
        headers={"Cache-Control": "public, max-age=3600", "Content-Length": str(len(data))},
    )


# Routes tried first among those sharing a path prefix (aiohttp tries them in order; their
# patterns never overlap, so only the time to find them changes).
_HOT = ("models.predictions.create", "deployments.predictions.create", "predictions.get")


def build_api_app(core: Core) -> web.Application:
    app = web.Application(middlewares=[api_middleware], client_max_size=8 * 1024 * 1024)
    app[CORE] = core
    ordered = sorted(OPERATIONS, key=lambda op: op[0] not in _HOT)
    for _, method, path, handler in ordered:
        app.router.add_route(method, "/v1" + path, handler)
    return app


def build_stream_app(core: Core) -> web.Application:
    app = web.Application(middlewares=[stream_middleware])
    app[CORE] = core
    for path in ("/v1/predictions/{stream_id}", "/v1/files/{stream_id}"):
        app.router.add_get(path, stream_entry)
        app.router.add_route("OPTIONS", path, stream_preflight)
    return app


def build_delivery_app(core: Core) -> web.Application:
    app = web.Application()
    app[CORE] = core
    app.router.add_route("GET", "/{tail:.*}", delivery_handler)
    return app

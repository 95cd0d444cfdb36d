"""Request/response helpers shared by the route modules, and the operation registry."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from ._problems import Problem, validation_problem
from ._state import BadCursor, Page, paginate
from ._util import dumps
from ._validate import json_type_name

if TYPE_CHECKING:
    from ._core import Core

__all__ = [
    "OPERATIONS",
    "Handler",
    "check_body",
    "json_response",
    "operation",
    "page_of",
    "parse_cancel_after",
    "parse_prefer",
    "read_json",
]

T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# (operation id, method, path under /v1, handler), in registration order.
OPERATIONS: list[tuple[str, str, str, Handler]] = []


def operation(op_id: str, method: str, path: str) -> Callable[[Handler], Handler]:
    """Register a handler as the implementation of one OpenAPI operation."""

    def register(handler: Handler) -> Handler:
        OPERATIONS.append((op_id, method, path, handler))
        return handler

    return register


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=dumps(data).encode(),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def page_of(
    core: Core,
    request: web.Request,
    items: Sequence[T],
    path: str,
    *,
    key: Callable[[T], int] | None = None,
    scope: str = "",
) -> Page:
    """The requested page of newest-first ``items``, listed at ``path`` (400 for a bad cursor
    or one of another ``scope``); ``key`` anchors the cursors on items (see ``paginate``)."""
    try:
        return paginate(
            items,
            cursor=request.query.get("cursor"),
            page_size=core.options.page_size,
            url=core.api_url + path,
            query=request.query,
            key=key,
            scope=scope,
        )
    except BadCursor as exc:
        raise Problem(400, "Invalid cursor") from exc


async def read_json(request: web.Request, *, required: bool = True) -> Any:
    """The parsed JSON body; a 400 problem when it is not JSON."""
    raw = await request.read()
    if not raw.strip():
        if required:
            raise Problem(400, "Request body must be a JSON object", title="Invalid JSON")
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(400, f"Invalid JSON in request body: {exc}", title="Invalid JSON") from exc


def _error(kind: str, field: str, description: str) -> dict[str, str]:
    return {"type": kind, "field": field, "description": description}


def check_body(
    body: Any,
    *,
    allowed: Sequence[str] | None,
    required: Sequence[str] = (),
    types: Mapping[str, str] | None = None,
    ranges: Mapping[str, tuple[int, int]] | None = None,
) -> dict[str, Any]:
    """Validate a request body object: unknown keys (when ``allowed`` is given), required
    keys, JSON types and integer ranges, reported as a real-looking 422."""
    if not isinstance(body, dict):
        raise validation_problem(
            [
                _error(
                    "type",
                    "(root)",
                    f"Invalid type. Expected: object, given: {json_type_name(body)}",
                )
            ]
        )
    errors: list[dict[str, str]] = []
    if allowed is not None:
        for key in body:
            if key not in allowed:
                errors.append(
                    _error(
                        "additional_property_not_allowed",
                        "(root)",
                        f"Additional property {key} is not allowed",
                    )
                )
    for key in required:
        if key not in body:
            errors.append(_error("required", "(root)", f"{key} is required"))
    for key, expected in (types or {}).items():
        if key in body and body[key] is not None:
            given = json_type_name(body[key])
            if given != expected:
                errors.append(
                    _error("type", key, f"Invalid type. Expected: {expected}, given: {given}")
                )
    for key, (low, high) in (ranges or {}).items():
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            if value < low:
                errors.append(_error("number_gte", key, f"Must be greater than or equal to {low}"))
            if value > high:
                errors.append(_error("number_lte", key, f"Must be less than or equal to {high}"))
    if errors:
        raise validation_problem(errors)
    return body


_WEBHOOK_EVENTS = ("start", "output", "logs", "completed")


def check_webhook(body: Mapping[str, Any]) -> tuple[str | None, tuple[str, ...] | None]:
    """Validate ``webhook`` and ``webhook_events_filter``."""
    errors: list[dict[str, str]] = []
    webhook = body.get("webhook")
    if webhook is not None and (
        not isinstance(webhook, str) or not re.match(r"^https?://[^\s/]+", webhook)
    ):
        errors.append(_error("format", "webhook", "Does not match format 'uri'"))
    events = body.get("webhook_events_filter")
    result: tuple[str, ...] | None = None
    if events is not None:
        if not isinstance(events, list):
            errors.append(
                _error(
                    "type",
                    "webhook_events_filter",
                    f"Invalid type. Expected: array, given: {json_type_name(events)}",
                )
            )
        else:
            allowed = ", ".join(f'"{e}"' for e in _WEBHOOK_EVENTS)
            for i, event in enumerate(events):
                if event not in _WEBHOOK_EVENTS:
                    errors.append(
                        _error(
                            "enum",
                            f"webhook_events_filter.{i}",
                            f"webhook_events_filter.{i} must be one of the following: {allowed}",
                        )
                    )
            result = tuple(dict.fromkeys(events))
    if errors:
        raise validation_problem(errors)
    return (webhook or None), result


_PREFER = re.compile(r"^\s*wait(?:\s*=\s*(\d+))?\s*$", re.IGNORECASE)


_PREFER_SEEN: dict[str, tuple[float, str] | None] = {}


def parse_prefer(value: str | None) -> tuple[float, str] | None:
    """``Prefer: wait`` / ``wait=N`` (1-60) -> (seconds, text to echo); None when absent.

    Other preferences are ignored (RFC 7240); an out-of-range wait is a 400.
    """
    if not value:
        return None
    try:
        return _PREFER_SEEN[value]
    except KeyError:
        pass
    result = _parse_prefer(value)  # raises for an invalid wait: never remembered
    if len(_PREFER_SEEN) < 256:
        _PREFER_SEEN[value] = result
    return result


def _parse_prefer(value: str) -> tuple[float, str] | None:
    for part in value.split(","):
        match = _PREFER.match(part.split(";")[0])
        if match is None:
            continue
        if match.group(1) is None:
            return 60.0, "wait"
        seconds = int(match.group(1))
        if not 1 <= seconds <= 60:
            raise Problem(
                400,
                "Prefer: wait must be between 1 and 60 seconds",
                title="Invalid Prefer header",
            )
        return float(seconds), f"wait={seconds}"
    return None


_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$")


def parse_cancel_after(value: str | None) -> float | None:
    """``Cancel-After: 30|45s|5m|1h30m`` -> seconds (minimum 5); a 422 when invalid."""
    if value is None:
        return None
    text = value.strip().lower()
    match = _DURATION.match(text)
    if not text or match is None or not any(match.groups()):
        raise Problem(
            422,
            f"Invalid Cancel-After duration {value!r}: use a number of seconds or units "
            "like 45s, 5m, 1h30m",
            title="Invalid Cancel-After header",
        )
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total < 5:
        raise Problem(
            422,
            "Cancel-After must be at least 5 seconds",
            title="Invalid Cancel-After header",
        )
    return float(total)

"""RFC 7807 problem details, the way Replicate sends them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from ._util import dumps

__all__ = [
    "NOT_FOUND_DETAIL",
    "Problem",
    "invalid_version",
    "not_found",
    "problem_response",
    "validation_problem",
]

PROBLEM_JSON = "application/problem+json"
NOT_FOUND_DETAIL = "The requested resource could not be found."

_TITLES = {
    400: "Bad Request",
    401: "Unauthenticated",
    402: "Insufficient credit",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request Entity Too Large",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def problem_response(
    status: int,
    body: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    return web.Response(
        status=status,
        body=dumps(body).encode(),
        content_type=PROBLEM_JSON,
        headers=headers,
    )


class Problem(Exception):
    """Raised by handlers; the middleware turns it into a problem+json response."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        headers: Mapping[str, str] | None = None,
        include_title: bool = True,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.headers = dict(headers or {})
        body: dict[str, Any] = {}
        if include_title:
            body["title"] = title or _TITLES.get(status, "Error")
        body["detail"] = detail
        body["status"] = status
        body.update(extensions)
        self.body = body

    def response(self) -> web.Response:
        return problem_response(self.status, self.body, self.headers)


def not_found(detail: str = NOT_FOUND_DETAIL) -> Problem:
    return Problem(404, detail, include_title=False)


def invalid_version() -> Problem:
    return Problem(
        422,
        "The specified version does not exist (or perhaps you don't have permission to use it?)",
        title="Invalid version or not permitted",
    )


def validation_problem(errors: Sequence[Mapping[str, str]]) -> Problem:
    """422 with one ``- <field>: <message>`` line per problem and ``invalid_fields``."""
    detail = "".join(f"- {e['field']}: {e['description']}\n" for e in errors)
    return Problem(
        422,
        detail,
        title="Input validation failed",
        invalid_fields=[dict(e) for e in errors],
    )

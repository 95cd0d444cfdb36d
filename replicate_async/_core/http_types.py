"""Pure descriptions of HTTP exchanges: what resources hand the transport and get back.

No I/O here (rule 1): a :class:`Request` says what to send, a :class:`Response` what came
back, :class:`ByteStream` and :class:`RateLimiter` are the shapes the transport works with.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Protocol

import attrs

from .errors import InvalidResponseError

__all__ = ["IDEMPOTENT_METHODS", "ByteStream", "Part", "RateLimiter", "Request", "Response"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "QUERY"})


@attrs.frozen
class Part:
    """One part of a multipart body. ``value`` may be bytes, str, a path or a binary file."""

    name: str
    value: bytes | str | Path | IO[bytes]
    filename: str | None = None
    content_type: str | None = None


@attrs.frozen
class Request:
    """A pure description of one API call.

    ``url`` is a path under the API root (``"/predictions"``) or an absolute URL (a ``next``
    cursor, ``urls.get``). ``wait`` is the ``Prefer: wait=N`` value, which sets the read timeout
    above N. ``rate_class`` tells a client-side rate limiter which bucket the call draws from.
    ``auth=False`` sends no token and never resolves one (``GET /search`` needs none).
    """

    method: str
    url: str
    params: Mapping[str, str] | None = None
    json: Any = None
    content: bytes | None = None
    content_type: str | None = None
    multipart: Sequence[Part] | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    wait: float | None = None
    timeout: float | None = None
    idempotent: bool | None = None
    rate_class: str = "other"
    auth: bool = True

    @property
    def is_idempotent(self) -> bool:
        """Whether repeating the call is safe (creates are not)."""
        if self.idempotent is not None:
            return self.idempotent
        return self.method.upper() in IDEMPOTENT_METHODS


@attrs.frozen
class Response:
    """Status, headers and body of an API answer."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str
    method: str = "GET"

    def json(self) -> Any:
        """The body decoded as JSON; a body that is not JSON raises ``InvalidResponseError``."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise InvalidResponseError(
                f"the API answered {self.method} {self.url} with {self.status} and a body that "
                f"is not valid JSON: {self.body[:200]!r}",
                method=self.method,
                url=self.url,
            ) from exc


class ByteStream(Protocol):
    """An open streaming response."""

    status: int
    headers: Mapping[str, str]
    url: str

    def chunks(self) -> AsyncIterator[bytes]:
        """Body bytes as they arrive (no line-length limit)."""
        ...

    async def read(self) -> bytes:
        """The whole remaining body."""
        ...


class RateLimiter(Protocol):
    """A client-side limiter that every API call passes through."""

    async def acquire(self, rate_class: str) -> None:
        """Wait until a call of this class may be sent."""

    def observe(self, rate_class: str, status: int, headers: Mapping[str, str]) -> None:
        """Learn from an answer (``ratelimit-remaining``/``ratelimit-reset``, 429s)."""

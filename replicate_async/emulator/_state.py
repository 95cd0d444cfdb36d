"""In-memory stores, pagination cursors and the records tests introspect."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

from ._jobs import Job

__all__ = [
    "DeliveryFile",
    "DeliveryRecord",
    "Deployment",
    "Page",
    "RequestRecord",
    "Stats",
    "Store",
    "UploadedFile",
    "cursor_scope",
    "paginate",
]

T = TypeVar("T")


@dataclass
class RequestRecord:
    """One request an origin answered (``headers`` has credential values redacted).

    ``query`` is the query string percent-decoded; ``raw_query`` is exactly as received.
    """

    origin: str
    method: str
    path: str
    status: int
    headers: dict[str, str]
    operation: str | None = None
    query: str = ""
    raw_query: str = ""


@dataclass
class DeliveryRecord:
    """One request to the delivery origin; ``had_authorization`` proves where tokens went."""

    path: str
    had_authorization: bool
    headers: dict[str, str]
    status: int = 200


@dataclass
class Stats:
    """Counters for tests and benchmarks."""

    requests: int = 0
    creates: int = 0
    predictions_created: int = 0
    trainings_created: int = 0
    rate_limited: int = 0
    faults_injected: int = 0
    webhooks_sent: int = 0
    webhook_failures: int = 0
    stream_connections: int = 0
    stream_disconnects: int = 0  # streams the client closed before they ended
    by_status: Counter[int] = field(default_factory=Counter)
    by_operation: Counter[str] = field(default_factory=Counter)


@dataclass
class DeliveryFile:
    """An output file served by the delivery origin; rendered lazily on first request."""

    content_type: str
    data: bytes | None = None
    render: Callable[[], bytes] | None = None

    def content(self) -> bytes:
        # Drawn at most once per caller; a thread drawing it for a waiting create and a
        # download at the same moment would both get the same bytes.
        data = self.data
        if data is None:
            assert self.render is not None
            data = self.data = self.render()
        return data


@dataclass
class UploadedFile:
    id: str
    name: str
    content_type: str
    data: bytes
    sha256: str
    metadata: dict[str, Any]
    created_at: float
    created_at_str: str
    expires_at_str: str
    seq: int
    get_url: str
    md5: str = ""

    def __post_init__(self) -> None:
        if not self.md5:
            self.md5 = hashlib.md5(self.data, usedforsecurity=False).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "content_type": self.content_type,
            "size": len(self.data),
            # As recorded (file-operations.yaml): the etag is the unquoted MD5.
            "etag": self.md5,
            "checksums": {"sha256": self.sha256, "md5": self.md5},
            "metadata": self.metadata,
            "created_at": self.created_at_str,
            "expires_at": self.expires_at_str,
            "urls": {"get": self.get_url},
        }


@dataclass
class Deployment:
    owner: str
    name: str
    model: str
    version: str
    hardware: str
    min_instances: int
    max_instances: int
    number: int
    release_created_at: str
    created_by: dict[str, Any]
    seq: int

    def to_json(self) -> dict[str, Any]:
        return {
            "owner": self.owner,
            "name": self.name,
            "current_release": {
                "number": self.number,
                "model": self.model,
                "version": self.version,
                "created_at": self.release_created_at,
                "created_by": self.created_by,
                "configuration": {
                    "hardware": self.hardware,
                    "min_instances": self.min_instances,
                    "max_instances": self.max_instances,
                },
            },
        }


class Store:
    """Everything the API creates, in creation order."""

    def __init__(self, request_log_size: int) -> None:
        self.predictions: dict[str, Job] = {}
        self.trainings: dict[str, Job] = {}
        self.files: dict[str, UploadedFile] = {}
        self.deployments: dict[str, Deployment] = {}
        self.delivery: dict[str, DeliveryFile] = {}
        self.streams: dict[str, Job] = {}  # stream-origin path -> job (capability URLs)
        self.requests: deque[RequestRecord] = deque(maxlen=request_log_size)
        self.delivery_requests: list[DeliveryRecord] = []
        self.stats = Stats()
        self._seq = 0

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq


# -- pagination ------------------------------------------------------------------------


@dataclass
class Page:
    results: list[Any]
    next: str | None
    previous: str | None

    def to_json(self, render: Callable[[Any], Any]) -> dict[str, Any]:
        return {
            "next": self.next,
            "previous": self.previous,
            "results": [render(item) for item in self.results],
        }


def _encode(mode: str, value: int, scope: str = "") -> str:
    raw = f"{mode}={value}" + (f"\n{scope}" if scope else "")
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str | None) -> tuple[str, int, str] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        head, _, scope = raw.partition("\n")
        mode, _, value = head.partition("=")
        if mode not in ("o", "b", "a"):
            return None
        return mode, int(value), scope
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def cursor_scope(cursor: str | None) -> str:
    """The scope a cursor was issued for (``""`` for plain lists or an invalid cursor)."""
    decoded = _decode(cursor)
    return decoded[2] if decoded else ""


class BadCursor(ValueError):
    """A cursor that is malformed or was issued for another listing."""


def paginate(
    items: Sequence[T],
    *,
    cursor: str | None,
    page_size: int,
    url: str,
    query: Mapping[str, str],
    key: Callable[[T], int] | None = None,
    scope: str = "",
) -> Page:
    """Slice newest-first ``items``; ``next``/``previous`` are absolute URLs keeping ``query``.

    With ``key`` (a creation sequence, descending along ``items``) cursors are anchored on
    items, so pages stay stable while new items arrive; otherwise they hold an offset.
    ``scope`` is carried inside the cursors (a search's query, say): a cursor issued for
    another scope is a :class:`BadCursor`.
    """
    decoded = _decode(cursor)
    if cursor and (decoded is None or decoded[2] != scope):
        raise BadCursor(cursor)
    mode, value, _ = decoded or ("o", 0, scope)
    n = len(items)
    if mode == "o" or key is None:
        start = max(0, value) if mode == "o" else 0
    elif mode == "b":
        start = next((i for i in range(n) if key(items[i]) < value), n)
    else:  # "a": the page just newer than the anchor
        newer = next((i for i in range(n) if key(items[i]) <= value), n)
        start = max(0, newer - page_size)
    results = list(items[start : start + page_size])
    base = {k: v for k, v in query.items() if k != "cursor"}

    def link(mode: str, val: int) -> str:
        return f"{url}?{urlencode({**base, 'cursor': _encode(mode, val, scope)})}"

    nxt = prev = None
    if start + page_size < n and results:
        nxt = link("b", key(results[-1])) if key else link("o", start + page_size)
    if start > 0:
        prev = (
            link("a", key(results[0])) if key and results else link("o", max(0, start - page_size))
        )
    return Page(results, nxt, prev)

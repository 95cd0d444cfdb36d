"""The one exception tree of replicate_async.

::

    ReplicateAsyncError                      base of everything this library raises
    ├── ConfigurationError (+ ValueError)     no token, bad base URL, bad option values
    ├── InvalidReferenceError (+ ValueError)  a model/version/deployment ref we cannot parse
    ├── ReplicateError                        the API answered with an error (problem details)
    │   ├── BadRequestError                   400
    │   ├── AuthenticationError               401
    │   ├── PaymentRequiredError              402
    │   ├── PermissionDeniedError             403
    │   ├── NotFoundError                     404
    │   ├── ConflictError                     409
    │   ├── PayloadTooLargeError              413
    │   ├── UnprocessableEntityError          422 (``invalid_fields``)
    │   ├── RateLimitError                    429 (``retry_after``)
    │   └── ServerError                       5xx
    ├── TransportError                        no usable HTTP answer (``__cause__`` is aiohttp's)
    │   ├── APIConnectionError                connecting or reading failed
    │   ├── APITimeoutError (+ TimeoutError)  a per-request timeout expired
    │   └── InvalidResponseError              the answer was not what the API sends (bad JSON)
    ├── PredictionError                       a prediction ended without output
    │   ├── ModelError                        status ``failed`` (or a stream ``error`` event)
    │   ├── PredictionCanceledError           status ``canceled``
    │   └── PredictionAbortedError            status ``aborted`` (deadline passed before start)
    └── RunTimeoutError (+ TimeoutError)      ``run(timeout=…)`` expired; carries the prediction id

Defined next to the code that raises them, in the same tree: ``BlockingCallError``
(+ RuntimeError; ``_sync``), ``FileInputError`` (a ConfigurationError; file inputs),
``BatchStoppedError`` (a PredictionCanceledError; ``batch``), ``InvalidProviderIdError`` (an
InvalidReferenceError) and ``ModerationOutputError`` (``providers``), and
``webhooks.WebhookVerificationError`` with its subclasses.

Every error has a readable ``str(e)`` and non-empty ``e.args``. None of them ever holds the
API token: messages are built from response bodies and URLs, never from request headers.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol, TypeVar

from .hints import api_root_hint

__all__ = [
    "APIConnectionError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "InvalidReferenceError",
    "InvalidResponseError",
    "ModelError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "PredictionAbortedError",
    "PredictionCanceledError",
    "PredictionError",
    "RateLimitError",
    "ReplicateAsyncError",
    "ReplicateError",
    "RunTimeoutError",
    "ServerError",
    "TransportError",
    "UnprocessableEntityError",
    "auth_hint",
    "error_from_response",
    "raise_for_status",
]


class Prediction(Protocol):
    """The prediction (or training) an error carries: a :class:`replicate_async.Prediction`
    (or ``Training``). Described here by what it has, so that this pure module needs no import
    of the data classes (a higher layer)."""

    id: str
    status: str
    model: str | None
    version: str | None
    input: dict[str, Any] | None
    output: Any
    logs: str | None
    error: Any
    metrics: dict[str, Any] | None
    created_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None


class ReplicateAsyncError(Exception):
    """Base class of every exception raised by replicate_async."""


class ConfigurationError(ReplicateAsyncError, ValueError):
    """The client was configured in a way that cannot work (for example: no API token)."""


class InvalidReferenceError(ReplicateAsyncError, ValueError):
    """A model, version or deployment reference could not be understood."""


class ReplicateError(ReplicateAsyncError):
    """The API answered with an error status.

    Carries the RFC 7807 problem-details fields (``type``, ``title``, ``status``, ``detail``,
    ``instance``), ``invalid_fields`` for validation errors, the request id and the rate-limit
    headers of the response, and the method and URL of the request (without credentials).
    ``hint`` says what to do about it when the library can tell (it ends the first line block
    of the message too): for a 401, which token was refused and where it came from.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        type: str | None = None,
        title: str | None = None,
        detail: str | None = None,
        instance: str | None = None,
        invalid_fields: list[dict[str, Any]] | None = None,
        request_id: str | None = None,
        method: str | None = None,
        url: str | None = None,
        ratelimit_remaining: int | None = None,
        ratelimit_reset: float | None = None,
        retry_after: float | None = None,
        body: Any = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.title = title
        self.detail = detail
        self.instance = instance
        self.invalid_fields: list[dict[str, Any]] = list(invalid_fields or [])
        self.request_id = request_id
        self.method = method
        self.url = url
        self.ratelimit_remaining = ratelimit_remaining
        self.ratelimit_reset = ratelimit_reset
        self.retry_after = retry_after
        self.body = body
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, message={self.message!r})"


class BadRequestError(ReplicateError):
    """400: the request was malformed."""


class AuthenticationError(ReplicateError):
    """401: the API token is missing, wrong or revoked."""


class PaymentRequiredError(ReplicateError):
    """402: the account has insufficient credit."""


class PermissionDeniedError(ReplicateError):
    """403: the token may not do this."""


class NotFoundError(ReplicateError):
    """404: the resource does not exist (or is not visible to this token)."""


class ConflictError(ReplicateError):
    """409: the resource already exists (for example a model name that is taken)."""


class PayloadTooLargeError(ReplicateError):
    """413: the body is too large (files must be under 100 MB)."""


class UnprocessableEntityError(ReplicateError):
    """422: the request was understood but is invalid; see ``invalid_fields``."""


class RateLimitError(ReplicateError):
    """429: throttled. ``retry_after`` says how many seconds to wait, when the API said so."""


class ServerError(ReplicateError):
    """5xx: the API failed. A create that ends here may still have created a prediction."""


class TransportError(ReplicateAsyncError):
    """No usable HTTP answer came back. ``__cause__`` holds the underlying aiohttp error."""

    def __init__(self, message: str, *, method: str | None = None, url: str | None = None):
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url

    def __str__(self) -> str:
        return self.message


class APIConnectionError(TransportError):
    """Connecting to the API, sending the request or reading the answer failed."""


class APITimeoutError(TransportError, TimeoutError):
    """A per-request timeout expired before the API answered."""


class InvalidResponseError(TransportError):
    """The API answered with a body that cannot be what it sends (for example broken JSON)."""


class PredictionError(ReplicateAsyncError):
    """A prediction (or training) ended without producing its output."""

    def __init__(self, message: str, prediction: Prediction | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.prediction = prediction

    @property
    def prediction_id(self) -> str | None:
        """The id of the prediction, when one exists."""
        return self.prediction.id if self.prediction is not None else None

    @property
    def logs(self) -> str | None:
        """The logs of the prediction, when known."""
        return self.prediction.logs if self.prediction is not None else None

    def __str__(self) -> str:
        return self.message


class ModelError(PredictionError):
    """The model failed: the prediction's status is ``failed`` (``error`` holds its text)."""

    def __init__(
        self, message: str, prediction: Prediction | None = None, *, error: Any = None
    ) -> None:
        super().__init__(message, prediction)
        self.error = error if error is not None else getattr(prediction, "error", None)


class PredictionCanceledError(PredictionError):
    """The prediction was canceled (by a user, or a deadline passed while it ran)."""


class PredictionAbortedError(PredictionError):
    """The prediction was aborted: its deadline passed before it started (not billed)."""


class RunTimeoutError(ReplicateAsyncError, TimeoutError):
    """``run(timeout=…)`` expired. The remote prediction was canceled when ``canceled`` is true."""

    def __init__(
        self, message: str, *, prediction_id: str | None = None, canceled: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.prediction_id = prediction_id
        self.canceled = canceled

    def __str__(self) -> str:
        return self.message


_STATUS_CLASSES: dict[int, type[ReplicateError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def error_class_for_status(status: int) -> type[ReplicateError]:
    """The exception class for an HTTP error status."""
    if status in _STATUS_CLASSES:
        return _STATUS_CLASSES[status]
    if status >= 500:
        return ServerError
    return ReplicateError


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    return value


def _to_int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _to_float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    method: str | None = None,
    url: str | None = None,
    retry_after: float | None = None,
    credential: str | None = None,
    api_root: str | None = None,
) -> ReplicateError:
    """Build the typed error for an error response (pure: status, headers and body in).

    The message reads ``"<status> <title>: <detail>"`` followed by one line per invalid field,
    and ends with the request id when the API sent one. ``credential`` describes the token
    that was sent (its source and first characters, never the token: ``Secret.describe()``);
    a 401 names it, since "not valid" alone reads as "not set". ``api_root`` is the client's
    API root: a 404 under it says when the root itself looks wrong (no ``/v1``, or an answer
    that is not the API's).
    """
    parsed: Any = None
    text = body.decode("utf-8", errors="replace").strip()
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = None
    fields: dict[str, Any] = parsed if isinstance(parsed, dict) else {}

    def _str(key: str) -> str | None:
        value = fields.get(key)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value)

    title = _str("title")
    detail = _str("detail")
    if detail is None and not fields and text:
        detail = text[:500]
    invalid = fields.get("invalid_fields")
    invalid_fields = (
        [f for f in invalid if isinstance(f, dict)] if isinstance(invalid, list) else []
    )
    request_id = _header(headers, "X-Request-Id") or _header(headers, "Replicate-Request-Id")

    head = f"{status} {title}" if title else f"{status} {_reason(status)}"
    message = f"{head}: {detail}" if detail else head
    for item in invalid_fields:
        line = f"  - {item.get('field', '?')}: {item.get('description', item.get('type', ''))}"
        if line.strip() not in message:
            message += "\n" + line
    hint = auth_hint(credential) if status == 401 and credential else None
    if status == 404 and api_root and url and url.startswith(api_root.rstrip("/") + "/"):
        hint = api_root_hint(api_root, parsed)
    if hint:
        message += f"\n  {hint}"
    if method and url:
        message += f"\n  ({method} {url})"
    if request_id:
        message += f"\n  request id: {request_id}"

    cls = error_class_for_status(status)
    return cls(
        message,
        status=status,
        type=_str("type"),
        title=title,
        detail=detail,
        instance=_str("instance"),
        invalid_fields=invalid_fields,
        request_id=request_id,
        method=method,
        url=url,
        ratelimit_remaining=_to_int(_header(headers, "ratelimit-remaining")),
        ratelimit_reset=_to_float(_header(headers, "ratelimit-reset")),
        retry_after=retry_after,
        body=parsed if parsed is not None else (text or None),
        hint=hint,
    )


def auth_hint(credential: str) -> str:
    """What to do about a refused token; ``credential`` is ``Secret.describe()`` (its source
    and first characters, never the token)."""
    return (
        f"The API refused the token from {credential}: it is set, but wrong, revoked or "
        "for another server. Check it at https://replicate.com/account/api-tokens (or, "
        "against the emulator, use the emulator's token)."
    )


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


E = TypeVar("E", bound=ReplicateError)


def with_hint(exc: E, hint: str) -> E:
    """A copy of ``exc`` whose message starts with ``hint`` (the original message follows,
    indented) and whose ``hint`` attribute is ``hint``; every other field is kept."""
    new = copy.copy(exc)
    new.message = f"{hint}\n  {exc.message}"
    new.args = (new.message,)
    new.hint = hint
    new.__traceback__ = None
    return new


def raise_for_status(prediction: Prediction) -> None:
    """Raise the error a terminal, unsuccessful prediction stands for (PEER-DEFECTS 4, 6)."""
    status = prediction.status
    if status == "succeeded":
        return
    if status == "failed":
        error = prediction.error
        raise ModelError(
            f"prediction {prediction.id} failed: {error if error else 'no error text'}"
            " (the prediction, with its logs, is on the exception)",
            prediction,
        )
    if status == "canceled":
        raise PredictionCanceledError(f"prediction {prediction.id} was canceled", prediction)
    if status == "aborted":
        raise PredictionAbortedError(
            f"prediction {prediction.id} was aborted: its deadline passed before it started",
            prediction,
        )

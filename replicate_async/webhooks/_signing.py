"""Webhook signatures (pure): verify what Replicate sends, sign what your tests send.

The public names are re-exported by :mod:`replicate_async.webhooks`, which documents them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeAlias

from .._core.errors import ConfigurationError, ReplicateAsyncError

if TYPE_CHECKING:
    from .._client import Client
    from ..types import Prediction

__all__ = [
    "DEFAULT_TOLERANCE",
    "HasKey",
    "Headers",
    "InvalidHeaderError",
    "InvalidPayloadError",
    "InvalidSecretError",
    "InvalidSignatureError",
    "InvalidTimestampError",
    "MissingHeaderError",
    "Secret",
    "SupportsItems",
    "TimestampOutOfToleranceError",
    "WebhookVerificationError",
    "sign",
    "verify",
    "verify_payload",
    "webhook_header",
]

DEFAULT_TOLERANCE = 300.0
"""Seconds a ``webhook-timestamp`` may be off from the local clock (either way)."""


class SupportsItems(Protocol):
    """Anything with ``.items()`` yielding (name, value): dicts, multidicts, Starlette's
    ``Headers``, Werkzeug's ``EnvironHeaders``, Django's ``HttpHeaders``…"""

    def items(self) -> Iterable[tuple[str, str]]:
        """The (name, value) pairs."""
        ...


Headers: TypeAlias = SupportsItems | Iterable[tuple[str, str]] | Iterable[tuple[bytes, bytes]]
"""Any header collection: an object with ``.items()``, or (name, value) pairs (str or bytes)."""


class HasKey(Protocol):
    """An object holding the secret in ``.key``: what ``client.webhooks.default_secret.get()``
    returns (:class:`~replicate_async.types.WebhookSecret`)."""

    @property
    def key(self) -> str:
        """The ``whsec_…`` secret."""
        ...


Secret: TypeAlias = str | HasKey
"""The signing secret: the ``whsec_…`` string, or the object ``default_secret.get()`` returns."""

_SECRET_PREFIX = "whsec_"
# Unix seconds: ASCII digits only (not \d: that also matches non-ASCII digits), and at most 15
# of them (year 30 million), so that no int or float conversion can overflow or be refused.
_TIMESTAMP = re.compile(r"[0-9]{1,15}")


class WebhookVerificationError(ReplicateAsyncError, ValueError):
    """A webhook request could not be verified: do not trust its body (answer 400 or 401)."""


class MissingHeaderError(WebhookVerificationError):
    """A required ``webhook-*`` header is absent or empty."""


class InvalidHeaderError(WebhookVerificationError):
    """``webhook-id`` or ``webhook-timestamp`` is repeated with different values."""


class InvalidTimestampError(WebhookVerificationError):
    """``webhook-timestamp`` is not an integer number of seconds (at most 15 digits)."""


class TimestampOutOfToleranceError(WebhookVerificationError):
    """``webhook-timestamp`` is too old (a possible replay) or too far in the future.

    ``timestamp`` is the header's time, ``now`` the local time, ``skew`` = ``now - timestamp``
    (positive when too old) and ``tolerance`` the allowed difference, all in seconds.
    """

    def __init__(self, message: str, *, timestamp: int, now: float, tolerance: float) -> None:
        super().__init__(message)
        self.timestamp = timestamp
        self.now = now
        self.tolerance = tolerance
        self.skew = now - timestamp


class InvalidSignatureError(WebhookVerificationError):
    """No ``v1`` signature in ``webhook-signature`` matches the body: it was not sent by the
    holder of the secret, or the body was changed (re-encoded JSON, for instance)."""


class InvalidSecretError(WebhookVerificationError):
    """The signing secret is empty or not base64 after its ``whsec_`` prefix."""


class InvalidPayloadError(WebhookVerificationError):
    """The body was signed correctly but is not a JSON object."""


def _secret_key(secret: Secret) -> bytes:
    """The HMAC key: the base64-decoded part of ``secret`` after the optional ``whsec_``."""
    if not isinstance(secret, str) and isinstance(getattr(secret, "key", None), str):
        secret = secret.key
    if not isinstance(secret, str):
        raise InvalidSecretError(f"the webhook secret must be a str, got {type(secret).__name__}")
    encoded = secret.strip()
    if encoded.startswith(_SECRET_PREFIX):
        encoded = encoded[len(_SECRET_PREFIX) :]
    if not encoded:
        raise InvalidSecretError("the webhook secret is empty (expected 'whsec_<base64>')")
    try:
        # Missing padding is tolerated; anything outside the base64 alphabet is not.
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        # The secret itself is never echoed: it would end up in logs.
        raise InvalidSecretError(
            "the webhook secret is not valid base64 after 'whsec_' (copy the whole 'key' from "
            "GET /webhooks/default/secret)"
        ) from None
    if not key:
        raise InvalidSecretError("the webhook secret decodes to an empty key")
    return key


def _body_bytes(body: bytes | str) -> bytes:
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    raise TypeError(f"body must be the raw request body as bytes or str, not {type(body).__name__}")


def _signature(key: bytes, msg_id: str, timestamp: str, body: bytes) -> bytes:
    # surrogatepass: a str header holding a lone surrogate still gives bytes (that never match).
    signed = f"{msg_id}.{timestamp}.".encode("utf-8", "surrogatepass") + body
    return hmac.new(key, signed, hashlib.sha256).digest()


def _collect_headers(headers: Headers) -> dict[str, list[str]]:
    """Header values by lowercased name, from a mapping-like object or (name, value) pairs."""
    if isinstance(headers, (str, bytes)):
        raise TypeError("headers must be a mapping or (name, value) pairs, not a string")
    items: Iterable[Any] = headers.items() if hasattr(headers, "items") else headers
    found: dict[str, list[str]] = {}
    for name, value in items:
        if isinstance(name, bytes):  # raw ASGI scope headers are bytes pairs
            name = name.decode("latin-1")
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        found.setdefault(str(name).lower(), []).append(str(value))
    return found


def _required(found: dict[str, list[str]], name: str) -> str:
    """The one value of a ``webhook-*`` header: the rule both :func:`verify_payload` and the
    receiver use. Blank values are ignored (some proxies add empty copies); none left is a
    :class:`MissingHeaderError`, different values left an :class:`InvalidHeaderError`."""
    values = {v.strip() for v in found.get(name, ()) if v.strip()}
    if not values:
        raise MissingHeaderError(f"missing {name} header: this request was not signed by Replicate")
    if len(values) > 1:
        raise InvalidHeaderError(f"{name} is repeated with different values: refusing to guess")
    return values.pop()


def _check_timestamp(raw: str, tolerance: float | None, now: float | None) -> None:
    if not _TIMESTAMP.fullmatch(raw):
        raise InvalidTimestampError(
            f"webhook-timestamp {raw[:40]!r} is not an integer number of unix seconds"
        )
    if tolerance is None:
        return
    if not tolerance >= 0:  # also catches NaN
        raise ConfigurationError(f"tolerance must be seconds >= 0 or None, got {tolerance!r}")
    timestamp = int(raw)
    current = time.time() if now is None else now
    skew = current - timestamp
    if skew > tolerance:
        raise TimestampOutOfToleranceError(
            f"webhook-timestamp {timestamp} is {skew:.0f}s old, more than the {tolerance:g}s "
            "tolerance: a delayed or replayed delivery",
            timestamp=timestamp,
            now=current,
            tolerance=tolerance,
        )
    if -skew > tolerance:
        raise TimestampOutOfToleranceError(
            f"webhook-timestamp {timestamp} is {-skew:.0f}s in the future, more than the "
            f"{tolerance:g}s tolerance: check the clocks",
            timestamp=timestamp,
            now=current,
            tolerance=tolerance,
        )


def webhook_header(headers: Headers, name: str) -> str:
    """The value of one ``webhook-*`` header by the rule :func:`verify` reads it with: blank
    copies ignored, copies with different values refused (:class:`InvalidHeaderError`), none
    left a :class:`MissingHeaderError`. Use it for the ``webhook-id`` you remember to drop
    repeats: ``headers["webhook-id"]`` may be a blank copy a replayer put in front."""
    return _required(_collect_headers(headers), name.lower())


class _Verified(NamedTuple):
    """What verification established: the payload and the header values it was signed with."""

    payload: dict[str, Any]
    msg_id: str
    timestamp: int


def verify_payload(
    headers: Headers,
    body: bytes | str,
    secret: Secret,
    *,
    tolerance: float | None = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> dict[str, Any]:
    """Verify a webhook request and return its JSON body as a dict.

    ``headers``: any header collection (matched case-insensitively). ``body``: the raw body,
    exactly as received (str bodies are encoded as UTF-8; re-serialised JSON will not verify).
    ``secret``: the signing secret, with or without its ``whsec_`` prefix, or the object
    ``client.webhooks.default_secret.get()`` returns. ``tolerance``:
    seconds the timestamp may be off (None disables the check). ``now``: unix time to check
    against (default ``time.time()``).

    Raises a :class:`WebhookVerificationError` subclass when anything does not check out, and
    nothing else for any headers and body (a ``TypeError`` only for a body that is neither
    bytes nor str).
    """
    return _verify(headers, body, secret, tolerance=tolerance, now=now).payload


def _verify(
    headers: Headers,
    body: bytes | str,
    secret: Secret,
    *,
    tolerance: float | None = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> _Verified:
    key = _secret_key(secret)
    raw = _body_bytes(body)
    found = _collect_headers(headers)
    msg_id = _required(found, "webhook-id")
    timestamp = _required(found, "webhook-timestamp")
    signatures = " ".join(found.get("webhook-signature", ())).split()
    if not signatures:
        raise MissingHeaderError(
            "missing webhook-signature header: this request was not signed by Replicate"
        )
    _check_timestamp(timestamp, tolerance, now)
    expected = _signature(key, msg_id, timestamp, raw)
    matched = False
    for entry in signatures:
        version, sep, encoded = entry.partition(",")
        if version != "v1" or not sep:
            continue  # other schemes (v1a: asymmetric, future versions) are not ours to check
        try:
            candidate = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        kinds = sorted({s.partition(",")[0] for s in signatures})
        hint = "" if "v1" in kinds else f" (no v1 entry; found {', '.join(kinds)[:80]})"
        raise InvalidSignatureError(
            f"webhook-signature does not match the body for webhook-id {msg_id[:80]!r}{hint}: "
            "wrong secret, or the body was altered"
        )
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidPayloadError(f"the webhook body is not valid UTF-8 JSON: {exc}") from None
    except RecursionError:  # nested deeper than the interpreter's stack
        raise InvalidPayloadError("the webhook body is JSON nested too deeply") from None
    if not isinstance(payload, dict):
        raise InvalidPayloadError(
            f"the webhook body is JSON {type(payload).__name__}, expected an object"
        )
    return _Verified(payload, msg_id, int(timestamp))


def verify(
    headers: Headers,
    body: bytes | str,
    secret: Secret,
    *,
    tolerance: float | None = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> Prediction:
    """Verify a webhook request (see :func:`verify_payload`) and return its :class:`Prediction`.

    Trainings arrive the same way (their extra fields, such as ``destination``, land in
    ``extra``). A signed body that is not a prediction raises :class:`InvalidPayloadError`.
    The prediction is not bound to a client; bind one with ``Prediction.from_dict(payload,
    client)`` on the result of :func:`verify_payload` to ``reload`` or ``cancel`` it.
    """
    payload = verify_payload(headers, body, secret, tolerance=tolerance, now=now)
    return _to_prediction(payload)


def _to_prediction(payload: dict[str, Any], client: Client | None = None) -> Prediction:
    """The payload as a Prediction (bound to ``client`` when given)."""
    from .._core.errors import InvalidResponseError
    from ..types import Prediction  # imported here: types pulls in more of the package

    try:
        return Prediction.from_dict(payload, client=client)
    except (InvalidResponseError, ValueError, TypeError, RecursionError) as exc:
        raise InvalidPayloadError(
            f"the webhook body was signed correctly but is not a prediction: {exc}"[:500]
        ) from None


def sign(
    body: bytes | str,
    secret: Secret,
    *,
    msg_id: str | None = None,
    timestamp: int | None = None,
) -> dict[str, str]:
    """The three ``webhook-*`` headers Replicate would send with ``body`` (for your tests).

    ``msg_id`` defaults to a random ``msg_…`` id, ``timestamp`` to the current unix time.
    """
    key = _secret_key(secret)
    msg_id = msg_id if msg_id is not None else "msg_" + secrets.token_urlsafe(18)
    ts = str(int(time.time()) if timestamp is None else int(timestamp))
    digest = _signature(key, msg_id, ts, _body_bytes(body))
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": ts,
        "webhook-signature": "v1," + base64.b64encode(digest).decode("ascii"),
    }

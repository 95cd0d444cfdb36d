"""Webhook signatures: verify what Replicate sends, sign what your tests send (Standard Webhooks).

Replicate signs every webhook delivery (https://www.standardwebhooks.com/, API-FACTS "Webhooks")
with three headers: ``webhook-id`` (stable across retries: use it to drop duplicates),
``webhook-timestamp`` (unix seconds) and ``webhook-signature`` (space-separated ``v1,<base64>``
entries). The signature is HMAC-SHA256 over ``"{id}.{timestamp}.{raw body}"`` keyed with the
base64-decoded part of the signing secret after ``whsec_`` (``GET /webhooks/default/secret``).

Unlike other clients (PEER-DEFECT 24) verification here checks the timestamp by default (five
minutes either way, so a captured delivery cannot be replayed later), accepts only ``v1``
entries, compares in constant time and takes headers from any framework::

    from replicate_async.webhooks import verify

    prediction = verify(request.headers, raw_body, secret)  # raises WebhookVerificationError

This module is pure (no I/O, no aiohttp import). :class:`WebhookReceiver`, a ready aiohttp
handler that also drops repeated and stale deliveries, is importable from here too; it lives in
``webhooks._receiver`` and is loaded only when first used. See ``docs/webhooks.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._signing import (
    DEFAULT_TOLERANCE,
    HasKey,
    Headers,
    InvalidHeaderError,
    InvalidPayloadError,
    InvalidSecretError,
    InvalidSignatureError,
    InvalidTimestampError,
    MissingHeaderError,
    Secret,
    SupportsItems,
    TimestampOutOfToleranceError,
    WebhookVerificationError,
    sign,
    verify,
    verify_payload,
    webhook_header,
)

if TYPE_CHECKING:
    from ._receiver import WebhookReceiver

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
    "WebhookReceiver",
    "WebhookVerificationError",
    "sign",
    "verify",
    "verify_payload",
    "webhook_header",
]


def __getattr__(name: str) -> Any:
    # WebhookReceiver imports aiohttp.web: load it on first use so this module stays pure.
    if name == "WebhookReceiver":
        from ._receiver import WebhookReceiver

        return WebhookReceiver
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

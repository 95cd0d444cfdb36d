"""Helpers for the webhook tests (imported by name: tests/webhooks is not a package)."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from support import CALL_TIMEOUT, Twin, serve, wait_until

from replicate_async.webhooks import sign

__all__ = [
    "CALL_TIMEOUT",
    "LLAMA3",
    "SECRET",
    "Twin",
    "post_signed",
    "prediction_body",
    "serve",
    "wait_until",
]

LLAMA3 = "meta/meta-llama-3-8b-instruct"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def prediction_body(
    id: str = "ufawqhfynnddngldkgtslldrkq", status: str = "processing", **fields: Any
) -> bytes:
    """A prediction JSON body as Replicate would deliver it."""
    data = {
        "id": id,
        "model": LLAMA3,
        "version": "hidden",
        "status": status,
        "input": {"prompt": "Hi"},
        "output": fields.pop("output", ["Hello"]),
        "logs": "",
        "error": None,
        "created_at": "2024-05-01T10:00:00.000000Z",
        "urls": {"get": f"https://api.replicate.com/v1/predictions/{id}"},
        **fields,
    }
    return json.dumps(data).encode()


NOW = 1_767_225_600
"""A fixed instant: deliveries are signed at it and the receivers' clock stands still at it,
so timestamp checks are exact and never depend on how long the suite has been running."""


def CLOCK() -> float:
    """The receivers' clock in these tests: always ``NOW``."""
    return float(NOW)


async def post_signed(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    *,
    secret: str = SECRET,
    msg_id: str | None = None,
    timestamp: int | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, str]:
    """POST ``body`` signed like Replicate; returns (status, text)."""
    signed = sign(body, secret, msg_id=msg_id, timestamp=NOW if timestamp is None else timestamp)
    all_headers = {"Content-Type": "application/json", **signed, **(headers or {})}
    timeout = aiohttp.ClientTimeout(total=CALL_TIMEOUT)
    async with session.post(url, data=body, headers=all_headers, timeout=timeout) as response:
        return response.status, await response.text()

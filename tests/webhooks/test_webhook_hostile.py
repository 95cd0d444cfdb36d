"""Hostile webhook input: whatever the headers and body, ``verify`` raises a
``WebhookVerificationError`` (the payload one for a signed body that is not a prediction) and
the receiver answers 401 or 400, never 500; repeated headers are read by one rule, shared by
``verify`` and the receiver, so a replay cannot slip past the receiver's memory of ids."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDict
from webhook_support import CALL_TIMEOUT, CLOCK, NOW, SECRET, prediction_body, serve, wait_until

from replicate_async import Prediction
from replicate_async.webhooks import (
    InvalidHeaderError,
    InvalidPayloadError,
    InvalidTimestampError,
    MissingHeaderError,
    WebhookReceiver,
    WebhookVerificationError,
    sign,
    verify,
    webhook_header,
)
from replicate_async.webhooks._signing import _secret_key, _signature

BODY = prediction_body(status="succeeded")
DEEP = b'{"id": "x", "status": "succeeded", "input": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


def signed_with_timestamp(timestamp: str, body: bytes = BODY) -> dict[str, str]:
    """Headers whose signature covers ``timestamp`` verbatim (sign() takes ints only): what a
    holder of the secret can send."""
    digest = _signature(_secret_key(SECRET), "msg_ts", timestamp, body)
    return {
        "webhook-id": "msg_ts",
        "webhook-timestamp": timestamp,
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }


HOSTILE_TIMESTAMPS = [
    pytest.param("9" * 401, id="401-digits-overflows-a-float"),
    pytest.param("9" * 5000, id="5000-digits-beyond-int-parsing"),
    pytest.param("1" * 16, id="16-digits"),
    pytest.param("١٧٠٠٠٠٠٠٠٠", id="arabic-indic-digits"),
    pytest.param("-1700000000", id="negative"),
    pytest.param("1700000000.5", id="fractional"),
]


@pytest.mark.parametrize("timestamp", HOSTILE_TIMESTAMPS)
@pytest.mark.parametrize("tolerance", [300.0, None])
def test_a_hostile_timestamp_is_an_invalid_timestamp(
    timestamp: str, tolerance: float | None
) -> None:
    with pytest.raises(InvalidTimestampError):
        verify(signed_with_timestamp(timestamp), BODY, SECRET, tolerance=tolerance)


def test_a_signed_body_nested_100k_deep_is_a_payload_error() -> None:
    with pytest.raises(InvalidPayloadError, match="nested too deeply"):
        verify(sign(DEEP, SECRET), DEEP, SECRET)


@pytest.mark.parametrize(
    "payload",
    [
        {"id": "x", "status": "succeeded", "urls": "not an object"},
        {"id": ["x"], "status": 3},
        {"id": "x", "status": "succeeded", "created_at": "yesterday-ish"},
        {"id": "x", "status": "succeeded", "metrics": [1, 2]},
    ],
)
def test_a_signed_body_of_the_wrong_shape_is_a_payload_error(payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    try:
        prediction = verify(sign(body, SECRET), body, SECRET)
    except WebhookVerificationError as exc:
        assert isinstance(exc, InvalidPayloadError)
    else:  # tolerated shapes are fine, as long as nothing else escapes
        assert isinstance(prediction, Prediction)


def test_blank_copies_of_a_header_are_ignored_by_verify() -> None:
    headers = sign(BODY, SECRET, msg_id="msg_1")
    pairs = [("webhook-id", ""), ("webhook-timestamp", "  "), *headers.items()]
    assert verify(pairs, BODY, SECRET).id == "ufawqhfynnddngldkgtslldrkq"


def test_conflicting_copies_of_a_header_are_refused() -> None:
    headers = sign(BODY, SECRET, msg_id="msg_1")
    pairs = [("webhook-id", "msg_other"), *headers.items()]
    with pytest.raises(InvalidHeaderError):
        verify(pairs, BODY, SECRET)
    pairs = [*headers.items(), ("webhook-timestamp", str(NOW + 1))]
    with pytest.raises(InvalidHeaderError):
        verify(pairs, BODY, SECRET)
    with pytest.raises(MissingHeaderError):
        verify(
            [("webhook-id", " ")] + [p for p in headers.items() if p[0] != "webhook-id"],
            BODY,
            SECRET,
        )


# -- the receiver ------------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.seen: list[Prediction] = []

    async def __call__(self, prediction: Prediction) -> None:
        self.seen.append(prediction)


async def _post(
    session: aiohttp.ClientSession, url: str, body: bytes, headers: Any
) -> tuple[int, str]:
    timeout = aiohttp.ClientTimeout(total=CALL_TIMEOUT)
    async with session.post(url, data=body, headers=headers, timeout=timeout) as response:
        return response.status, await response.text()


async def test_the_receiver_answers_hostile_input_with_401_or_400_never_500() -> None:
    handler = Recorder()
    receiver = WebhookReceiver(SECRET, handler, clock=CLOCK)
    async with serve(receiver.app()) as base, aiohttp.ClientSession() as session:
        url = f"{base}/hook"
        for timestamp in ("9" * 401, "9" * 5000):
            status, _ = await _post(session, url, BODY, signed_with_timestamp(timestamp))
            assert status == 401
        status, _ = await _post(session, url, DEEP, sign(DEEP, SECRET, timestamp=NOW))
        assert status == 400
        await receiver.join()
    assert handler.seen == [] and receiver.failures == 0


async def test_a_replay_with_a_blank_webhook_id_in_front_is_still_a_repeat() -> None:
    handler = Recorder()
    receiver = WebhookReceiver(SECRET, handler, clock=CLOCK)
    captured = sign(BODY, SECRET, msg_id="msg_captured", timestamp=NOW)
    async with serve(receiver.app()) as base, aiohttp.ClientSession() as session:
        url = f"{base}/hook"
        assert await _post(session, url, BODY, captured) == (200, "accepted")
        replay = CIMultiDict([("webhook-id", ""), *captured.items()])
        assert await _post(session, url, BODY, replay) == (200, "ignored: repeated webhook-id")
        await wait_until(lambda: len(handler.seen) == 1)
        await receiver.join()
    assert len(handler.seen) == 1


async def test_a_blank_leading_timestamp_is_read_like_verify_reads_it() -> None:
    handler = Recorder()
    receiver = WebhookReceiver(SECRET, handler, clock=CLOCK)
    headers = sign(BODY, SECRET, msg_id="msg_ts_blank", timestamp=NOW)
    async with serve(receiver.app()) as base, aiohttp.ClientSession() as session:
        url = f"{base}/hook"
        blank_first = CIMultiDict([("webhook-timestamp", ""), *headers.items()])
        assert await _post(session, url, BODY, blank_first) == (200, "accepted")
        conflicting = CIMultiDict([("webhook-id", "msg_else"), *headers.items()])
        assert (await _post(session, url, BODY, conflicting))[0] == 401
        await receiver.join()
    await asyncio.sleep(0)
    assert len(handler.seen) == 1


def test_webhook_header_reads_by_the_rule_verify_uses() -> None:
    headers = sign(BODY, SECRET, msg_id="msg_1")
    pairs = [("webhook-id", " "), *headers.items()]
    assert webhook_header(pairs, "webhook-id") == "msg_1"
    assert webhook_header(CIMultiDict(pairs), "Webhook-ID") == "msg_1"
    with pytest.raises(InvalidHeaderError):
        webhook_header([("webhook-id", "msg_2"), *pairs], "webhook-id")
    with pytest.raises(MissingHeaderError):
        webhook_header([("webhook-id", "")], "webhook-id")

"""Tests of webhook signing and verification (Standard Webhooks, as Replicate uses them)."""

from __future__ import annotations

import base64
import hmac
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from replicate_async._core.errors import ConfigurationError, ReplicateAsyncError
from replicate_async.types import WebhookSecret
from replicate_async.webhooks import (
    InvalidPayloadError,
    InvalidSecretError,
    InvalidSignatureError,
    InvalidTimestampError,
    MissingHeaderError,
    TimestampOutOfToleranceError,
    WebhookVerificationError,
    sign,
    verify,
    verify_payload,
)

# The Standard Webhooks test vector (API-FACTS): valid only with the timestamp check off.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = '{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
VECTOR = {"webhook-id": MSG_ID, "webhook-timestamp": str(TIMESTAMP), "webhook-signature": SIGNATURE}

NOW = 1_700_000_000
PREDICTION = {
    "id": "ufawqhfynnddngldkgtslldrkq",
    "model": "replicate/hello-world",
    "version": "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa",
    "status": "succeeded",
    "input": {"text": "Alice"},
    "output": "hello Alice",
    "logs": "",
    "error": None,
    "created_at": "2023-09-08T16:19:34.765994Z",
    "urls": {"get": "https://api.replicate.com/v1/predictions/ufawqhfynnddngldkgtslldrkq"},
    "webhook_completed": "2023-09-08T16:19:35Z",
}


def signed(body: bytes | str, timestamp: int = NOW, **kwargs: Any) -> dict[str, str]:
    return sign(body, SECRET, msg_id="msg_test", timestamp=timestamp, **kwargs)


def test_standard_webhooks_test_vector() -> None:
    assert verify_payload(VECTOR, BODY, SECRET, tolerance=None) == {"test": 2432232314}
    assert verify_payload(VECTOR, BODY.encode(), SECRET, tolerance=None) == {"test": 2432232314}
    assert sign(BODY, SECRET, msg_id=MSG_ID, timestamp=TIMESTAMP) == VECTOR


def test_test_vector_fails_with_the_default_tolerance__peer_defect_24() -> None:
    with pytest.raises(TimestampOutOfToleranceError):
        verify_payload(VECTOR, BODY, SECRET)  # 2021: years old


def test_secret_with_or_without_prefix() -> None:
    bare = SECRET.removeprefix("whsec_")
    assert verify_payload(VECTOR, BODY, bare, tolerance=None) == {"test": 2432232314}
    assert verify_payload(VECTOR, BODY, f"  {SECRET}\n", tolerance=None)
    unpadded = base64.b64encode(b"0123456789").decode().rstrip("=")
    headers = sign(BODY, unpadded, timestamp=NOW)
    assert verify_payload(headers, BODY, unpadded + "==", now=NOW)


def test_replay_with_an_old_timestamp_is_rejected__peer_defect_24() -> None:
    headers = signed(BODY, timestamp=NOW - 301)
    with pytest.raises(TimestampOutOfToleranceError, match=r"301s old.*300s tolerance") as info:
        verify_payload(headers, BODY, SECRET, now=NOW)
    assert (info.value.timestamp, info.value.now, info.value.skew) == (NOW - 301, NOW, 301)
    assert verify_payload(signed(BODY, timestamp=NOW - 300), BODY, SECRET, now=NOW)


def test_future_timestamp_is_rejected__peer_defect_24() -> None:
    headers = signed(BODY, timestamp=NOW + 600)
    with pytest.raises(TimestampOutOfToleranceError, match="600s in the future") as info:
        verify_payload(headers, BODY, SECRET, now=NOW)
    assert info.value.skew == -600
    assert verify_payload(signed(BODY, timestamp=NOW + 299), BODY, SECRET, now=NOW)


def test_custom_and_disabled_tolerance() -> None:
    old = signed(BODY, timestamp=NOW - 3600)
    assert verify_payload(old, BODY, SECRET, tolerance=None, now=NOW)
    assert verify_payload(old, BODY, SECRET, tolerance=7200, now=NOW)
    with pytest.raises(TimestampOutOfToleranceError):
        verify_payload(old, BODY, SECRET, tolerance=60, now=NOW)


def test_default_now_is_the_clock() -> None:
    assert verify_payload(sign(BODY, SECRET), BODY, SECRET) == {"test": 2432232314}


@pytest.mark.parametrize(
    "signature",
    [
        "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        "V1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        "v1,",
        "v1,not base64!",
        "v1,AAAA",
        ",g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    ],
)
def test_wrong_version_or_unprefixed_signature_is_rejected__peer_defect_24(signature: str) -> None:
    with pytest.raises(InvalidSignatureError):
        verify_payload({**VECTOR, "webhook-signature": signature}, BODY, SECRET, tolerance=None)


def test_several_signatures_with_one_valid_pass() -> None:
    header = f"v1,AAAA v2,xyz {SIGNATURE} v1a,abc"
    assert verify_payload({**VECTOR, "webhook-signature": header}, BODY, SECRET, tolerance=None)
    # the same as repeated headers in a list of pairs
    pairs = [
        ("webhook-id", MSG_ID),
        ("webhook-timestamp", str(TIMESTAMP)),
        ("webhook-signature", "v1,AAAA"),
        ("webhook-signature", SIGNATURE),
    ]
    assert verify_payload(pairs, BODY, SECRET, tolerance=None)


def test_tampered_body_or_headers_fail() -> None:
    headers = signed(BODY)
    for body in ('{"test": 2432232315}', BODY + " ", json.dumps(json.loads(BODY), indent=1)):
        with pytest.raises(InvalidSignatureError, match="msg_test"):
            verify_payload(headers, body, SECRET, now=NOW)
    with pytest.raises(InvalidSignatureError):
        verify_payload({**headers, "webhook-id": "msg_other"}, BODY, SECRET, now=NOW)
    with pytest.raises(InvalidSignatureError):
        verify_payload({**headers, "webhook-timestamp": str(NOW + 1)}, BODY, SECRET, now=NOW)
    other = "whsec_" + base64.b64encode(b"another secret key").decode()
    with pytest.raises(InvalidSignatureError, match="wrong secret"):
        verify_payload(headers, BODY, other, now=NOW)


class Headers:
    """A framework-style header object: case-insensitive, ``.items()``, not a dict."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def items(self) -> Iterator[tuple[str, str]]:
        return iter(self._pairs)


def test_headers_in_any_case_and_any_container__peer_defect_24() -> None:
    upper = {k.upper(): v for k, v in VECTOR.items()}
    title = {k.title(): v for k, v in VECTOR.items()}
    for headers in (
        upper,
        title,
        list(VECTOR.items()),
        tuple(title.items()),
        Headers(list(upper.items())),
        [(k.encode(), v.encode()) for k, v in VECTOR.items()],  # raw ASGI pairs
    ):
        assert verify_payload(headers, BODY, SECRET, tolerance=None) == {"test": 2432232314}


def test_framework_header_objects__peer_defect_24() -> None:
    multidict = pytest.importorskip("multidict")
    headers = multidict.CIMultiDict(VECTOR)
    assert verify_payload(headers, BODY, SECRET, tolerance=None)
    assert verify_payload(multidict.CIMultiDictProxy(headers), BODY, SECRET, tolerance=None)


def test_str_and_bytes_bodies() -> None:
    text = '{"output": "h\u00e9llo \U0001f600"}'
    headers = signed(text)
    assert verify_payload(headers, text, SECRET, now=NOW) == {"output": "h\u00e9llo \U0001f600"}
    assert verify_payload(headers, text.encode(), SECRET, now=NOW)
    assert verify_payload(headers, bytearray(text.encode()), SECRET, now=NOW)  # type: ignore[arg-type]
    assert verify_payload(signed(text.encode()), text, SECRET, now=NOW)
    with pytest.raises(TypeError):
        verify_payload(headers, {"output": "x"}, SECRET, now=NOW)  # type: ignore[arg-type]


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_headers(missing: str) -> None:
    headers = {k: v for k, v in VECTOR.items() if k != missing}
    with pytest.raises(MissingHeaderError, match=missing):
        verify_payload(headers, BODY, SECRET, tolerance=None)
    with pytest.raises(MissingHeaderError, match=missing):
        verify_payload({**VECTOR, missing: "  "}, BODY, SECRET, tolerance=None)


@pytest.mark.parametrize("value", ["abc", "1614265330.5", "-1614265330", "1e9", "\uff11\uff12"])
def test_invalid_timestamps(value: str) -> None:
    with pytest.raises(InvalidTimestampError, match="not an integer"):
        verify_payload({**VECTOR, "webhook-timestamp": value}, BODY, SECRET, tolerance=None)


@pytest.mark.parametrize("secret", ["", "whsec_", "whsec_not*base64!", "whsec_A", "   "])
def test_invalid_secrets(secret: str) -> None:
    with pytest.raises(InvalidSecretError) as info:
        verify_payload(VECTOR, BODY, secret, tolerance=None)
    assert "not*base64" not in str(info.value)  # the secret is never echoed
    with pytest.raises(InvalidSecretError):
        sign(BODY, secret)


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "not json", b"\xff\xfe"])
def test_signed_body_that_is_not_a_json_object(body: str | bytes) -> None:
    with pytest.raises(InvalidPayloadError):
        verify_payload(signed(body), body, SECRET, now=NOW)


def test_error_tree() -> None:
    for cls in (
        MissingHeaderError,
        InvalidTimestampError,
        TimestampOutOfToleranceError,
        InvalidSignatureError,
        InvalidSecretError,
        InvalidPayloadError,
    ):
        assert issubclass(cls, WebhookVerificationError)
    assert issubclass(WebhookVerificationError, ReplicateAsyncError)
    assert issubclass(WebhookVerificationError, ValueError)


def test_sign_defaults() -> None:
    headers = sign(b"{}", SECRET)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-id"].startswith("msg_") and len(headers["webhook-id"]) > 10
    assert headers["webhook-id"] != sign(b"{}", SECRET)["webhook-id"]
    assert headers["webhook-timestamp"].isdigit()
    assert headers["webhook-signature"].startswith("v1,")


def test_verify_returns_a_prediction() -> None:
    body = json.dumps(PREDICTION)
    prediction = verify(signed(body), body, SECRET, now=NOW)
    from replicate_async.types import Prediction

    assert isinstance(prediction, Prediction)
    assert (prediction.id, prediction.status, prediction.output) == (
        PREDICTION["id"],
        "succeeded",
        "hello Alice",
    )
    with pytest.raises(InvalidSignatureError):
        verify(signed(body), body + " ", SECRET, now=NOW)


def test_signatures_are_compared_in_constant_time__peer_defect_24(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    header = f"v1,AAAA {SIGNATURE} v1,{base64.b64encode(b'x' * 32).decode()} v2,zzzz"
    assert verify_payload({**VECTOR, "webhook-signature": header}, BODY, SECRET, tolerance=None)
    # Every v1 entry went through compare_digest (no early exit, no ==); v2 was skipped.
    assert len(compared) == 3
    assert all(len(expected) == 32 for expected, _ in compared)


class StarletteStyleHeaders:
    """Like ``starlette.datastructures.Headers``: raw byte pairs plus a lowercase ``.items()``."""

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self.raw = raw

    def items(self) -> list[tuple[str, str]]:
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self.raw]


class WerkzeugStyleHeaders:
    """Like Flask's ``request.headers`` (``EnvironHeaders``): Title-Case names, iterable pairs."""

    def __init__(self, environ: dict[str, str]) -> None:
        self.environ = environ

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for key, value in self.environ.items():
            if key.startswith("HTTP_"):
                yield key[5:].replace("_", "-").title(), value

    def items(self) -> Iterator[tuple[str, str]]:
        return iter(self)


def test_framework_style_header_objects__peer_defect_24() -> None:
    raw = [(k.encode(), v.encode()) for k, v in VECTOR.items()]
    environ = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in VECTOR.items()}
    environ["CONTENT_TYPE"] = "application/json"
    for headers in (StarletteStyleHeaders(raw), WerkzeugStyleHeaders(environ)):
        assert verify_payload(headers, BODY, SECRET, tolerance=None) == {"test": 2432232314}


def test_secret_object_from_default_secret_get() -> None:
    secret = WebhookSecret(key=SECRET)
    assert verify_payload(VECTOR, BODY, secret, tolerance=None) == {"test": 2432232314}
    assert sign(BODY, secret, msg_id=MSG_ID, timestamp=TIMESTAMP) == VECTOR
    assert SECRET not in repr(secret)
    with pytest.raises(InvalidSecretError):
        verify_payload(VECTOR, BODY, WebhookSecret(key=""), tolerance=None)


@pytest.mark.parametrize("tolerance", [-1, float("nan")])
def test_bad_tolerance_is_a_configuration_error(tolerance: float) -> None:
    with pytest.raises(ConfigurationError, match="tolerance"):
        verify_payload(signed(BODY), BODY, SECRET, tolerance=tolerance, now=NOW)
    assert verify_payload(signed(BODY), BODY, SECRET, tolerance=0, now=NOW)


@pytest.mark.parametrize("body", ['{"test": 1}', '{"id": "x", "created_at": "yesterday"}'])
def test_verify_of_a_signed_body_that_is_not_a_prediction(body: str) -> None:
    with pytest.raises(InvalidPayloadError, match="not a prediction"):
        verify(signed(body), body, SECRET, now=NOW)


def test_training_deliveries_parse_too() -> None:
    training = {**PREDICTION, "destination": "me/my-lora", "output": {"version": "abc"}}
    body = json.dumps(training)
    prediction = verify(signed(body), body, SECRET, now=NOW)
    assert prediction.extra["destination"] == "me/my-lora"
    assert prediction.output == {"version": "abc"}


def test_the_receiver_is_loaded_only_when_used() -> None:
    code = (
        "import sys, replicate_async.webhooks as w\n"
        "assert 'replicate_async.webhooks._receiver' not in sys.modules\n"
        "assert w.WebhookReceiver.__name__ == 'WebhookReceiver'\n"
        "assert 'replicate_async.webhooks._receiver' in sys.modules\n"
        "try:\n    w.nope\nexcept AttributeError:\n    pass\nelse:\n    raise SystemExit(1)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr

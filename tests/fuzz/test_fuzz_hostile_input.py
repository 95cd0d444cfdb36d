"""Bounded, derandomized property tests of the parsers that meet hostile input:

* the SSE decoder on random bytes split at random points: the same events (and last id and
  retry) whether the bytes come whole or split, and never an exception (none is documented);
* webhook ``verify`` and the receiver on random headers, bodies and secrets: only
  ``WebhookVerificationError`` subclasses (the receiver: only 401 or 400), and never an
  unsigned or altered delivery accepted;
* model references: only ``InvalidReferenceError``, and canonical forms round-trip.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

from replicate_async import InvalidReferenceError
from replicate_async._core.refs import ModelRef, parse_deployment, parse_ref
from replicate_async._core.sse import SSEDecoder
from replicate_async.webhooks import (
    InvalidPayloadError,
    WebhookReceiver,
    WebhookVerificationError,
    sign,
    verify,
    verify_payload,
)

BOUNDED = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow],
)
SECRET = "whsec_" + base64.b64encode(b"fuzzing-secret-32-bytes-long!!!!").decode()
NOW = 1_700_000_000

# -- SSE ---------------------------------------------------------------------------------------

SSE_TOKENS = [
    b"data:",
    b"data: ",
    b"event: ",
    b"id: ",
    b"retry: ",
    b":",
    b" ",
    b"x",
    b"\xef\xbb\xbf",
]
SSE_TOKENS += [b"\n", b"\r", b"\r\n", b"\x00", b"\xff", b"\xc3", b"\xa9", b"12", b"\xe2\x82"]
sse_bytes = st.binary(max_size=300) | st.lists(st.sampled_from(SSE_TOKENS), max_size=80).map(
    b"".join
)


@st.composite
def split_points(draw: st.DrawFn, length: int) -> list[int]:
    inner = draw(st.lists(st.integers(0, length), max_size=15))
    return [0, *sorted(inner), length]


@BOUNDED
@given(st.data(), sse_bytes)
def test_sse_decoder_same_events_whole_or_split(data: st.DataObject, stream: bytes) -> None:
    whole = SSEDecoder()
    expected = whole.feed(stream) + whole.close()
    split = SSEDecoder()
    points = data.draw(split_points(len(stream)))
    events = [ev for a, b in itertools.pairwise(points) for ev in split.feed(stream[a:b])]
    events += split.close()
    assert events == expected
    assert (split.last_event_id, split.retry) == (whole.last_event_id, whole.retry)
    for event in events:  # always text, whatever the bytes
        assert isinstance(event.data, str) and isinstance(event.id, str)


# -- webhooks ----------------------------------------------------------------------------------

header_names = st.sampled_from(
    ["webhook-id", "webhook-timestamp", "webhook-signature", "Webhook-Id", "WEBHOOK-TIMESTAMP"]
) | st.text(max_size=12)
header_values = (
    st.text(max_size=40)
    | st.from_regex(r"v1,[A-Za-z0-9+/=]{0,50}", fullmatch=True)
    | st.from_regex(r"[0-9]{1,450}", fullmatch=True)
    | st.just("")
)
timestamps = (
    st.integers(NOW - 400, NOW + 400).map(str)
    | st.sampled_from([309, 401, 4301, 5000]).map(lambda n: "9" * n)  # overflows a float, or
    # is over int()'s digit limit
    | st.from_regex(r"[0-9]{1,30}", fullmatch=True)
)


@st.composite
def headers_st(draw: st.DrawFn) -> list[tuple[str, str]]:
    """Mostly the three webhook headers (so the checks past "missing" are reached), some
    repeated or blank, in random order, among random other headers."""
    pairs = draw(st.lists(st.tuples(header_names, header_values), max_size=4))
    for name, values in (
        ("webhook-id", st.from_regex(r"msg_[a-z0-9]{1,8}", fullmatch=True) | header_values),
        ("webhook-timestamp", timestamps),
        ("webhook-signature", header_values),
    ):
        pairs += [(name, v) for v in draw(st.lists(values, min_size=1, max_size=2))]
    return draw(st.permutations(pairs))


secrets_st = st.just(SECRET) | st.text(max_size=30) | st.from_regex(r"whsec_[A-Za-z0-9+/=]{0,30}")
bodies = st.binary(max_size=200) | st.builds(
    lambda v: json.dumps(v).encode(),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=12,
    ),
)


@BOUNDED
@given(headers_st(), bodies, secrets_st, st.sampled_from([300.0, None]))
def test_verify_raises_only_webhook_errors(
    headers: list[tuple[str, str]], body: bytes, secret: str, tolerance: float | None
) -> None:
    try:
        verify(headers, body, secret, tolerance=tolerance, now=NOW)
    except WebhookVerificationError:
        pass


def prediction(status: str) -> bytes:
    return json.dumps({"id": "p1", "status": status, "input": {}, "output": None}).encode()


ALTERATIONS = ["body", "id", "timestamp", "signature", "drop-signature", "drop-id", "secret"]


@BOUNDED
@given(
    st.sampled_from(["starting", "processing", "succeeded"]),
    st.sampled_from(ALTERATIONS),
    st.integers(0, 10**6),
    st.text(min_size=1, max_size=10),
)
def test_verify_never_accepts_an_altered_delivery(
    status: str, alteration: str, where: int, extra: str
) -> None:
    body = prediction(status)
    headers = sign(body, SECRET, msg_id="msg_1", timestamp=NOW)
    assert verify(headers, body, SECRET, now=NOW).status == status  # the genuine one passes
    secret = SECRET
    if alteration == "body":
        i = where % len(body)
        body = body[:i] + bytes([body[i] ^ (1 + where % 255)]) + body[i + 1 :]
    elif alteration == "id":
        headers["webhook-id"] += extra
    elif alteration == "timestamp":
        headers["webhook-timestamp"] = str(NOW + 1 + where % 200)
    elif alteration == "signature":
        raw = bytearray(base64.b64decode(headers["webhook-signature"][3:]))
        raw[where % len(raw)] ^= 1 + where % 255
        headers["webhook-signature"] = "v1," + base64.b64encode(bytes(raw)).decode()
    elif alteration == "drop-signature":
        del headers["webhook-signature"]
    elif alteration == "drop-id":
        del headers["webhook-id"]
    else:
        secret = "whsec_" + base64.b64encode(extra.encode() + b"-another-key").decode()
    with pytest.raises(WebhookVerificationError):
        verify_payload(headers, body, secret, now=NOW)


class FakeRequest:
    """What the receiver reads of an aiohttp request: the headers and the raw body."""

    def __init__(self, headers: list[tuple[str, str]], body: bytes) -> None:
        self.headers = CIMultiDictProxy(CIMultiDict(headers))
        self._body = body

    async def read(self) -> bytes:
        return self._body


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    running = asyncio.new_event_loop()
    yield running
    running.close()


# Random extra headers, blank copies of the webhook ones among them (put in front of a genuine
# signature, they must neither break the receiver nor let a replay in).
blank_copies = st.sampled_from(
    [("webhook-id", ""), ("webhook-timestamp", " "), ("Webhook-Signature", "")]
)
loose_headers = st.lists(blank_copies | st.tuples(header_names, header_values), max_size=4)


@settings(BOUNDED, max_examples=150)
@given(
    loose_headers | headers_st(),
    st.builds(prediction, st.just("processing")) | bodies,
    st.booleans(),
)
def test_the_receiver_answers_401_or_400_and_never_runs_the_handler_on_hostile_input(
    loop: asyncio.AbstractEventLoop,
    headers: list[tuple[str, str]],
    body: bytes,
    signed: bool,
) -> None:
    seen: list[Any] = []

    async def handler(p: Any) -> None:
        seen.append(p)

    async def deliver() -> int:
        receiver = WebhookReceiver(SECRET, handler, tolerance=None)
        sent = list(headers)
        if signed:  # a genuine signature, but the random headers first: still only one rule
            sent += list(sign(body, SECRET, msg_id="msg_f", timestamp=NOW).items())
        response = await receiver.handle(FakeRequest(sent, body))  # type: ignore[arg-type]
        await receiver.aclose()
        return response.status

    status = loop.run_until_complete(deliver())
    if not signed:
        assert status == 401 and seen == []
    else:
        assert status in (200, 400, 401)
        if status != 200:
            assert seen == []
        else:  # accepted: exactly what verify accepts for the same input
            payload = verify_payload(
                headers + list(sign(body, SECRET, msg_id="msg_f", timestamp=NOW).items()),
                body,
                SECRET,
                tolerance=None,
            )
            assert len(seen) == 1 and seen[0].id == payload["id"]


def test_payload_errors_are_verification_errors() -> None:
    assert issubclass(InvalidPayloadError, WebhookVerificationError)


# -- model references --------------------------------------------------------------------------

NAME = r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}"
names = st.from_regex(NAME, fullmatch=True)
hex64 = st.from_regex(r"[0-9a-fA-F]{64}", fullmatch=True)
versions = hex64 | st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True)


@BOUNDED
@given(st.text(max_size=80) | st.from_regex(r"[\w./:@ -]{0,80}", fullmatch=True))
def test_any_text_parses_or_raises_invalid_reference(text: str) -> None:
    try:
        ref = parse_ref(text)
    except InvalidReferenceError as exc:
        assert str(exc)
    else:
        assert parse_ref(str(ref)) == ref  # whatever parses has a canonical form
    try:
        owner, name = parse_deployment(text)
    except InvalidReferenceError:
        pass
    else:
        assert parse_ref(f"{owner}/{name}") == ModelRef(owner, name)


@BOUNDED
@given(names, names, st.none() | versions, st.sampled_from(["", " ", "\t", "\n "]))
def test_canonical_forms_round_trip(owner: str, name: str, version: str | None, pad: str) -> None:
    text = f"{owner}/{name}" + (f":{version}" if version is not None else "")
    ref = parse_ref(pad + text + pad)
    assert (ref.owner, ref.name) == (owner, name)
    canonical = version.lower() if version and len(version) == 64 and _is_hex(version) else version
    assert ref.version == canonical
    assert parse_ref(str(ref)) == ref
    assert str(ref) == (text if version == canonical else f"{owner}/{name}:{canonical}")


@settings(BOUNDED, max_examples=100)
@given(hex64)
def test_a_bare_version_round_trips_lowercase(version: str) -> None:
    ref = parse_ref(version)
    assert ref == ModelRef(None, None, version.lower())
    assert str(ref) == version.lower() and parse_ref(str(ref)) == ref


def _is_hex(text: str) -> bool:
    try:
        int(text, 16)
    except ValueError:
        return False
    return True

"""Webhook deliveries: real POSTs to a loopback receiver, signed like Replicate's."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from emu_helpers import AUTH, HELLO, LLAMA3, SDXL, call, poll, wait_until

from replicate_async.emulator import Emulator, RealClock, VirtualClock, WebhookDelivery, sign
from replicate_async.emulator.pytest_plugin import FAST_DEFAULTS


class Receiver:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses: list[int] = []  # answers to give, in order; then 200
        self.url = ""
        self.runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.received.append(
            {
                "headers": dict(request.headers),
                "raw": raw,
                "body": json.loads(raw),
                "path": request.path,
            }
        )
        status = self.statuses.pop(0) if self.statuses else 200
        if status in (301, 302, 307):
            return web.Response(status=status, headers={"Location": self.url + "/elsewhere"})
        return web.Response(status=status)


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    recv = Receiver()
    app = web.Application()
    app.router.add_post("/{tail:.*}", recv.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    recv.url = f"http://{host}:{port}"
    recv.runner = runner
    yield recv
    await runner.cleanup()


def verify(secret: str, headers: dict[str, str], raw: bytes) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + raw
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(sig.split(",", 1)[1], expected)
        for sig in headers["webhook-signature"].split()
    )


def test_signature_test_vector() -> None:
    sig = sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert sig == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


async def test_all_events_signed_and_ordered(
    replicate_emulator: Emulator, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    emu = replicate_emulator
    _, secret, _ = await call(http, "GET", f"{emu.url}/webhooks/default/secret", expect=200)
    assert secret["key"].startswith("whsec_") and secret["key"] == emu.webhook_secret
    _, pred, _ = await call(
        http,
        "POST",
        f"{emu.url}/models/{LLAMA3}/predictions",
        json={"input": {"prompt": "hi"}, "webhook": receiver.url + "/hook"},
        expect=201,
    )
    await wait_until(lambda: any(r["body"]["status"] == "succeeded" for r in receiver.received))
    await emu.wait_for_webhooks()
    for item in receiver.received:
        assert verify(secret["key"], item["headers"], item["raw"])
        assert item["body"]["id"] == pred["id"] and item["path"] == "/hook"
    assert receiver.received[0]["body"]["status"] == "starting"
    assert receiver.received[-1]["body"]["status"] == "succeeded"
    events = [d.event for d in emu.webhook_deliveries]
    assert events[0] == "start" and events[-1] == "completed"
    assert {"output", "logs"} & set(events)
    # throttled: far fewer deliveries than tokens
    assert len(events) < len(receiver.received[-1]["body"]["output"])


async def test_events_filter(
    replicate_emulator: Emulator, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    emu = replicate_emulator
    await call(
        http,
        "POST",
        f"{emu.url}/predictions",
        json={
            "version": HELLO,
            "input": {"text": "a"},
            "webhook": receiver.url,
            "webhook_events_filter": ["completed"],
        },
        expect=201,
    )
    await wait_until(lambda: len(receiver.received) == 1)
    await emu.wait_for_webhooks()
    assert len(receiver.received) == 1
    assert receiver.received[0]["body"]["status"] == "succeeded"
    assert [d.event for d in emu.webhook_deliveries] == ["completed"]


async def test_only_completed_is_retried_with_stable_id(
    replicate_emulator: Emulator, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    emu = replicate_emulator
    receiver.statuses = [500, 503, 500, 200]  # start fails once; completed fails twice
    await call(
        http,
        "POST",
        f"{emu.url}/predictions",
        json={
            "version": HELLO,
            "input": {"text": "a"},
            "webhook": receiver.url,
            "webhook_events_filter": ["start", "completed"],
        },
        expect=201,
    )
    await wait_until(lambda: len(receiver.received) == 4)
    await emu.wait_for_webhooks()
    deliveries = emu.webhook_deliveries
    assert [(d.event, d.status, d.attempt) for d in deliveries] == [
        ("start", 500, 0),
        ("completed", 503, 0),
        ("completed", 500, 1),
        ("completed", 200, 2),
    ]
    completed_ids = {d.webhook_id for d in deliveries if d.event == "completed"}
    assert len(completed_ids) == 1
    assert deliveries[0].webhook_id not in completed_ids
    assert emu.stats.webhook_failures == 3


async def test_redirects_not_followed_and_unreachable(
    replicate_emulator: Emulator, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    emu = replicate_emulator
    receiver.statuses = [302, 302, 302, 302]
    await call(
        http,
        "POST",
        f"{emu.url}/predictions",
        json={
            "version": HELLO,
            "input": {"text": "a"},
            "webhook": receiver.url,
            "webhook_events_filter": ["completed"],
        },
        expect=201,
    )
    await wait_until(lambda: len(emu.webhook_deliveries) == 4)
    assert all(r["path"] == "/" for r in receiver.received)
    assert [d.status for d in emu.webhook_deliveries] == [302] * 4
    # nothing listens on port 9: connection errors are recorded, not raised
    await call(
        http,
        "POST",
        f"{emu.url}/predictions",
        json={"version": HELLO, "input": {"text": "a"}, "webhook": "http://127.0.0.1:9/x"},
        expect=201,
    )
    await wait_until(lambda: any(d.error for d in emu.webhook_deliveries), timeout=10)


@pytest.mark.replicate_emulator(webhook_duplicate=True, webhook_shuffle=True)
async def test_duplicates_and_stale_after_completed(
    replicate_emulator: Emulator, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    emu = replicate_emulator
    await call(
        http,
        "POST",
        f"{emu.url}/predictions",
        json={
            "version": SDXL,
            "input": {"prompt": "x", "width": 8, "height": 8},
            "webhook": receiver.url,
        },
        expect=201,
    )
    await wait_until(lambda: any(d.stale for d in emu.webhook_deliveries))
    await emu.wait_for_webhooks()
    ids = [r["headers"]["webhook-id"] for r in receiver.received]
    assert any(ids.count(i) == 2 for i in ids)  # every delivery repeated with the same id
    statuses = [r["body"]["status"] for r in receiver.received]
    last_completed = max(i for i, s in enumerate(statuses) if s == "succeeded")
    assert "processing" in statuses[last_completed + 1 :]  # a stale event after completed


async def test_instant_prediction_start_before_completed(
    replicate_emulator: Emulator, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    emu = replicate_emulator
    for _ in range(3):
        await call(
            http,
            "POST",
            f"{emu.url}/models/replicate/instant/predictions",
            json={"input": {}, "webhook": receiver.url},
            expect=201,
        )
    await wait_until(lambda: len(receiver.received) == 9)
    by_id: dict[str, list[str]] = {}
    for item in receiver.received:
        by_id.setdefault(item["body"]["id"], []).append(item["body"]["status"])
    assert all(s == ["starting", "processing", "succeeded"] for s in by_id.values())


THROTTLE = 0.05  # the fixture's webhook_throttle
PROGRESS = ("output", "logs")


def first_attempts(emu: Emulator) -> list[WebhookDelivery]:
    return [d for d in emu.webhook_deliveries if not d.duplicate and not d.stale and not d.attempt]


@pytest.mark.replicate_emulator(model_timings={LLAMA3: (0.0, 24.0)})
async def test_throttled_deliveries_are_spaced_exactly(
    replicate_emulator: Emulator, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    emu = replicate_emulator
    _, pred, _ = await call(
        http,
        "POST",
        f"{emu.url}/models/{LLAMA3}/predictions",
        json={"input": {"prompt": "hi", "max_tokens": 64}, "webhook": receiver.url},
        expect=201,
    )
    await poll(http, pred["urls"]["get"])
    await emu.wait_for_webhooks()
    progress = [d for d in first_attempts(emu) if d.event in PROGRESS]
    assert len(progress) >= 2
    # sent_at is when the throttle let each one through: never closer than the throttle.
    gaps = [b.sent_at - a.sent_at for a, b in itertools.pairwise(progress)]
    assert min(gaps) >= THROTTLE, gaps


class SecondsClock(RealClock):
    """Real timers, but a wall clock that moves one second per reading, so every delivery is
    signed in a later second than the one before it (the emulator reads all time through
    its ``clock``)."""

    def __init__(self) -> None:
        self.now = 1_700_000_000

    def time(self) -> float:
        self.now += 1
        return float(self.now)

    def time_ns(self) -> int:
        return int(self.time()) * 10**9


@pytest.mark.replicate_emulator(
    seed=1,
    webhook_shuffle=True,
    model_timings={LLAMA3: (0.0, 24.0)},
    clock=SecondsClock(),
)
async def test_shuffle_sends_a_held_progress_delivery_after_a_newer_one(
    replicate_emulator: Emulator,
    http: aiohttp.ClientSession,
    receiver: Receiver,
) -> None:
    emu = replicate_emulator
    _, pred, _ = await call(
        http,
        "POST",
        f"{emu.url}/models/{LLAMA3}/predictions",
        json={"input": {"prompt": "hi", "max_tokens": 64}, "webhook": receiver.url},
        expect=201,
    )
    await poll(http, pred["urls"]["get"])
    await emu.wait_for_webhooks()
    deliveries = emu.webhook_deliveries
    completed = next(i for i, d in enumerate(deliveries) if d.event == "completed")
    late = [i for i, d in enumerate(deliveries[:completed]) if d.stale]
    assert late, [(d.event, d.timestamp, d.stale) for d in deliveries]
    held = deliveries[late[0]]
    assert held.event in PROGRESS
    newer = [d for d in deliveries[: late[0]] if not d.stale and d.timestamp > held.timestamp]
    assert newer  # it went out after a delivery signed later...
    progress = [(len(d.body["output"] or []), len(d.body["logs"])) for d in (held, newer[-1])]
    assert all(a <= b for a, b in zip(*progress, strict=True))  # ...carrying older state
    # The receiver got it in that order, with its original signature.
    signed = [int(r["headers"]["webhook-timestamp"]) for r in receiver.received]
    assert signed.index(held.timestamp) > signed.index(newer[-1].timestamp)
    assert deliveries[-1].stale  # and the stale copy after completed, as before


async def instant_patterns(url: str, **options: Any) -> list[list[tuple[str, bool, bool]]]:
    """Per prediction of ``replicate/instant``, its deliveries as (event, stale, duplicate)."""
    async with (
        Emulator(**{**FAST_DEFAULTS, **options}) as emu,
        aiohttp.ClientSession(headers=AUTH) as http,
    ):
        ids = []
        for _ in range(8):
            _, pred, _ = await call(
                http,
                "POST",
                f"{emu.url}/models/replicate/instant/predictions",
                json={"input": {}, "webhook": url},
                expect=201,
            )
            ids.append(pred["id"])
        await emu.wait_for_webhooks()
        deliveries = emu.webhook_deliveries
    return [[(d.event, d.stale, d.duplicate) for d in deliveries if d.body["id"] == i] for i in ids]


async def test_shuffle_and_repeats_are_reproducible_under_seed(receiver: Receiver) -> None:
    options = {"seed": 7, "webhook_shuffle": True, "webhook_duplicate": True}
    patterns = await instant_patterns(receiver.url, **options)
    assert patterns == await instant_patterns(receiver.url, **options)
    assert patterns != await instant_patterns(receiver.url, **{**options, "seed": 8})
    stale_output = ("output", True, False)
    for pattern in patterns:
        originals = [event for event, stale, repeat in pattern if not stale and not repeat]
        assert originals in (["start", "output", "completed"], ["start", "completed"])
        assert pattern[-1] == stale_output  # the stale copy comes last
    # Some output was held back and sent after completed (before the stale copy)...
    held = [p for p in patterns if p.count(stale_output) == 2]
    assert held and all(p.index(stale_output) > p.index(("completed", False, False)) for p in held)
    # ...and some repeat came after a later delivery instead of right after its original.
    assert any(
        p[i][2] and p[i - 1] != (p[i][0], False, False) for p in patterns for i in range(len(p))
    )


@pytest.mark.replicate_emulator(model_timings={LLAMA3: (0.0, 10.0)})
async def test_empty_events_filter_means_every_event(
    replicate_emulator: Emulator, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    # The API's behaviour for [] is not documented; the emulator's choice is "all events".
    emu = replicate_emulator
    _, pred, _ = await call(
        http,
        "POST",
        f"{emu.url}/models/{LLAMA3}/predictions",
        json={"input": {"prompt": "hi"}, "webhook": receiver.url, "webhook_events_filter": []},
        expect=201,
    )
    assert pred["webhook_events_filter"] == ["start", "output", "logs", "completed"]
    await poll(http, pred["urls"]["get"])
    await emu.wait_for_webhooks()
    events = {d.event for d in emu.webhook_deliveries}
    assert {"start", "completed"} <= events and events & set(PROGRESS)


async def test_throttle_and_retries_are_exact_on_a_virtual_clock(
    http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    """One token every 0.1 emulated seconds, a 0.5 s throttle: progress deliveries are
    decided exactly 0.5 s apart; the failing completed delivery is retried after exactly
    the configured delays."""
    clock = VirtualClock()
    async with Emulator(
        clock=clock,
        rate_limit=False,
        webhook_throttle=0.5,
        webhook_retry_delays=(2.0, 4.0),
        model_timings={LLAMA3: (0.0, 4.0)},
    ) as emu:
        _, pred, _ = await call(
            http,
            "POST",
            f"{emu.url}/models/{LLAMA3}/predictions",
            json={
                "input": {"prompt": "hi", "max_tokens": 40, "min_tokens": 40},
                "webhook": receiver.url,
            },
            expect=201,
        )
        for _ in range(40):
            await clock.advance(0.1)
            await emu.wait_for_webhooks()
        job = emu.predictions[pred["id"]]
        # The last step ends at exactly 4 s; what it set off (a webhook POST is real I/O) may
        # need real loop turns to finish on a loaded machine. Time does not move meanwhile.
        for _ in range(500):
            if job.status == "succeeded":
                break
            await asyncio.sleep(0.01)
            await clock.advance(0)
            await emu.wait_for_webhooks()
        assert clock.monotonic() == 4.0
        assert job.status == "succeeded"
        progress = [d for d in first_attempts(emu) if d.event in PROGRESS]
        gaps = [b.sent_at - a.sent_at for a, b in itertools.pairwise(progress)]
        assert gaps and all(g == pytest.approx(0.5, abs=1e-9) for g in gaps), gaps
        # Make the completed delivery fail twice, then watch its retries on the clock.
        receiver.statuses = [500, 500]
        _, again, _ = await call(
            http,
            "POST",
            f"{emu.url}/models/{LLAMA3}/predictions",
            json={
                "input": {"prompt": "x", "max_tokens": 1},
                "webhook": receiver.url,
                "webhook_events_filter": ["completed"],
            },
            expect=201,
        )

        def attempts() -> list[WebhookDelivery]:
            return [d for d in emu.webhook_deliveries if d.body["id"] == again["id"]]

        await clock.advance(4.0)  # the prediction runs 4 s, then its completed delivery fails
        await wait_until(lambda: len(attempts()) == 1)
        await clock.advance(1.999)
        assert len(attempts()) == 1
        await clock.advance(0.001)  # the first retry, exactly 2 s later
        await wait_until(lambda: len(attempts()) == 2)
        await clock.advance(4.0)
        await emu.wait_for_webhooks()
        completed = [d for d in emu.webhook_deliveries if d.body["id"] == again["id"]]
        assert [(d.attempt, d.status) for d in completed] == [(0, 500), (1, 500), (2, 200)]
        assert completed[1].sent_at - completed[0].sent_at == pytest.approx(2.0, abs=1e-9)
        assert completed[2].sent_at - completed[1].sent_at == pytest.approx(4.0, abs=1e-9)

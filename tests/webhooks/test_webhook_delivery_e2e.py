"""End to end: the emulator delivers real, signed webhooks to a ``WebhookReceiver`` on loopback.

The receiver gets its secret the way an app would (``GET /webhooks/default/secret`` through the
client), the emulator throttles output/logs deliveries as Replicate does (500 ms), repeats every
delivery and sends a stale one after the terminal one, and the handler still sees the completed
prediction exactly once, last.
"""

from __future__ import annotations

import asyncio
import itertools

import pytest
from aiohttp import web
from webhook_support import CALL_TIMEOUT, LLAMA3, Twin, serve

from replicate_async import Client, Prediction
from replicate_async.emulator import Emulator, WebhookDelivery
from replicate_async.webhooks import WebhookReceiver

THROTTLE = 0.5  # API-FACTS: output/logs deliveries at most once every 500 ms
# A delivery's send time is taken when its task first runs, a loop iteration after the
# throttle decided to send it; allow that much scheduling jitter, far below a broken
# throttle's spacing (one delivery per token, 25 ms here).
JITTER = 0.01
INPUT = {"prompt": "Tell me a story", "max_tokens": 64}


class Collector:
    """The user's handler: records every prediction; ``done`` is set at the terminal one."""

    def __init__(self) -> None:
        self.seen: list[Prediction] = []
        self.done = asyncio.Event()

    async def __call__(self, prediction: Prediction) -> None:
        self.seen.append(prediction)
        if prediction.terminal:
            self.done.set()


def secret_fetches(emu: Emulator) -> int:
    return sum(1 for r in emu.requests if r.operation == "webhooks.default.secret.get")


def first_attempts(emu: Emulator) -> list[WebhookDelivery]:
    """Each delivery once: no duplicates, no retries, no stale replays."""
    return [d for d in emu.webhook_deliveries if not d.duplicate and not d.stale and d.attempt == 0]


@pytest.mark.replicate_emulator(
    speed=1.0,
    model_timings={LLAMA3: (0.0, 1.6)},
    webhook_throttle=THROTTLE,
    webhook_duplicate=True,
    webhook_shuffle=True,
)
async def test_streaming_model_deliveries_throttled_repeated_reordered_handled_once(
    replicate_emulator: Emulator, client: Client
) -> None:
    emu = replicate_emulator
    handler = Collector()
    receiver = WebhookReceiver(client, handler)
    async with serve(receiver.app()) as base:
        prediction = await client.predictions.async_create(
            model=LLAMA3,
            input=INPUT,
            stream=True,
            webhook=f"{base}/hook",
            webhook_events_filter=["start", "output", "logs", "completed"],
        )
        await asyncio.wait_for(handler.done.wait(), CALL_TIMEOUT)
        await emu.wait_for_webhooks(CALL_TIMEOUT)  # the repeats and the stale replay too
        await receiver.join()
        await receiver.aclose()

    deliveries = emu.webhook_deliveries
    # The emulator really repeated and reordered, and the receiver said 2xx to everything.
    assert any(d.duplicate for d in deliveries)
    assert any(d.stale for d in deliveries) and deliveries[-1].stale
    assert all(d.ok for d in deliveries), [(d.event, d.status) for d in deliveries]
    assert {d.webhook_id for d in deliveries if d.duplicate} <= {
        d.webhook_id for d in first_attempts(emu)
    }

    # Every event kind, in order: start first, completed last (before the stale replay).
    kinds = [d.event for d in first_attempts(emu)]
    assert kinds[0] == "start" and kinds[-1] == "completed"
    progress = [d for d in first_attempts(emu) if d.event in ("output", "logs")]
    assert len(progress) >= 2, kinds

    # Throttled as Replicate throttles: at least 500 ms between output/logs deliveries.
    gaps = [b.sent_at - a.sent_at for a, b in itertools.pairwise(progress)]
    assert gaps and min(gaps) >= THROTTLE - JITTER, gaps

    # The handler saw each distinct delivery once, in order, and the completed one exactly once.
    assert len(handler.seen) == len(first_attempts(emu))
    terminal = [p for p in handler.seen if p.terminal]
    assert len(terminal) == 1 and handler.seen[-1] is terminal[0]
    final = await client.predictions.async_get(prediction.id)
    assert terminal[0].status == final.status == "succeeded"
    assert terminal[0].output == final.output and len(final.output) > 1
    assert [p.status for p in handler.seen[:-1]] == ["starting"] + ["processing"] * len(progress)
    # Outputs only grow: no stale state reached the handler.
    lengths = [len(p.output or []) for p in handler.seen]
    assert lengths == sorted(lengths)

    # Verified with the secret the API serves, fetched once.
    assert secret_fetches(emu) == 1


@pytest.mark.replicate_emulator(webhook_retry_delays=(0.05, 0.1, 0.2))
async def test_terminal_delivery_retried_after_a_500_is_handled_once(
    replicate_emulator: Emulator, client: Client, twin: Twin
) -> None:
    emu = replicate_emulator
    handler = Collector()
    receiver = WebhookReceiver(client, handler)
    answered: list[int] = []

    async def flaky_front(request: web.Request) -> web.StreamResponse:
        # The app's first answer to the terminal delivery is a 500 (say, a deploy in progress).
        body = await request.json()
        if body["status"] == "succeeded" and 500 not in answered:
            answered.append(500)
            return web.Response(status=500)
        response = await receiver.handle(request)
        answered.append(response.status)
        return response

    app = web.Application()
    app.router.add_post("/hook", flaky_front)
    async with serve(app) as base:
        await twin(
            client.predictions.async_create,
            model=LLAMA3,
            input=INPUT,
            webhook=f"{base}/hook",
            webhook_events_filter=["completed"],
        )
        await asyncio.wait_for(handler.done.wait(), CALL_TIMEOUT)
        await emu.wait_for_webhooks(CALL_TIMEOUT)
        await receiver.aclose()

    attempts = [(d.event, d.attempt, d.status) for d in emu.webhook_deliveries]
    assert attempts == [("completed", 0, 500), ("completed", 1, 200)]
    assert len({d.webhook_id for d in emu.webhook_deliveries}) == 1  # stable across retries
    assert answered == [500, 200]
    assert [p.status for p in handler.seen] == ["succeeded"]


@pytest.mark.replicate_emulator(webhook_duplicate=True)
async def test_wrong_secret_means_401_on_every_delivery(
    replicate_emulator: Emulator, client: Client
) -> None:
    emu = replicate_emulator
    handler = Collector()
    other = "whsec_" + "c2VjcmV0LW9mLWFub3RoZXItYWNjb3VudA=="
    async with (
        WebhookReceiver(other, handler) as receiver,
        serve(receiver.app()) as base,
    ):
        prediction = await client.predictions.async_create(
            model=LLAMA3, input=INPUT, webhook=f"{base}/hook", webhook_events_filter=["completed"]
        )
        await prediction.async_wait(timeout=CALL_TIMEOUT)
        await emu.wait_for_webhooks(CALL_TIMEOUT)  # every retry of the terminal delivery
    statuses = {d.status for d in emu.webhook_deliveries}
    assert statuses == {401}
    assert len(emu.webhook_deliveries) > 2  # the terminal delivery was retried
    assert handler.seen == []

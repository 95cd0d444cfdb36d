"""The aiohttp ``WebhookReceiver``: verify, drop repeats and stale deliveries, answer at once,
run the handler in the background (errors logged), close cleanly, bounded memory."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from webhook_support import (
    CALL_TIMEOUT,
    CLOCK,
    LLAMA3,
    NOW,
    SECRET,
    post_signed,
    prediction_body,
    serve,
    wait_until,
)

from replicate_async import Prediction
from replicate_async.emulator import Emulator
from replicate_async.types import WebhookSecret
from replicate_async.webhooks import WebhookReceiver, sign


class Recorder:
    """A handler that records what it saw; ``gate`` (when set) holds it until released."""

    def __init__(self) -> None:
        self.seen: list[Prediction] = []
        self.gate: asyncio.Event | None = None
        self.running = 0
        self.most_running = 0

    async def __call__(self, prediction: Prediction) -> None:
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            if self.gate is not None:
                await asyncio.wait_for(self.gate.wait(), CALL_TIMEOUT)
            self.seen.append(prediction)
        finally:
            self.running -= 1

    @property
    def statuses(self) -> list[tuple[str, str]]:
        return [(p.id, p.status) for p in self.seen]


@contextlib.asynccontextmanager
async def mounted(
    receiver: WebhookReceiver,
) -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    """The receiver at ``/hook`` on loopback, and a session to post to it."""
    async with serve(receiver.app()) as base, aiohttp.ClientSession() as session:
        yield f"{base}/hook", session


@pytest.fixture
def handler() -> Recorder:
    return Recorder()


@pytest.fixture
async def hook(handler: Recorder) -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    async with mounted(WebhookReceiver(SECRET, handler, clock=CLOCK)) as endpoint:
        yield endpoint


async def test_answers_before_the_handler_finishes(handler: Recorder) -> None:
    handler.gate = asyncio.Event()
    receiver = WebhookReceiver(SECRET, handler, clock=CLOCK)
    async with mounted(receiver) as (url, session):
        status, text = await post_signed(session, url, prediction_body(status="starting"))
        assert (status, text) == (200, "accepted")
        await wait_until(lambda: handler.running == 1)
        assert receiver.pending == 1 and handler.seen == []
        handler.gate.set()
        await receiver.join()
    assert receiver.pending == 0
    [prediction] = handler.seen
    assert isinstance(prediction, Prediction)
    assert (prediction.id, prediction.status, prediction.output) == (
        "ufawqhfynnddngldkgtslldrkq",
        "starting",
        ["Hello"],
    )


BAD_REQUESTS: list[Any] = [
    pytest.param({"secret": "whsec_" + "QUJDREVGR0hJSktMTU5PUA=="}, {}, id="wrong-secret"),
    pytest.param({"timestamp": NOW - 301}, {}, id="replayed-301s-old"),
    pytest.param({"timestamp": NOW + 3600}, {}, id="from-the-future"),
    pytest.param({}, {"webhook-signature": "v2,AAAA"}, id="no-v1-signature"),
    pytest.param({}, {"webhook-signature": ""}, id="empty-signature"),
    pytest.param({}, {"webhook-timestamp": "soon"}, id="bad-timestamp"),
    pytest.param({}, {"webhook-id": "msg_other"}, id="id-not-signed"),
]


@pytest.mark.parametrize(("sign_options", "override"), BAD_REQUESTS)
async def test_unverifiable_delivery_gets_401_and_never_reaches_the_handler(
    handler: Recorder,
    hook: tuple[str, aiohttp.ClientSession],
    sign_options: dict[str, Any],
    override: dict[str, str],
) -> None:
    url, session = hook
    body = prediction_body(status="succeeded")
    status, _ = await post_signed(
        session, url, body, msg_id="msg_1", headers=override, **sign_options
    )
    assert status == 401
    # The rejected delivery did not poison the memory: the genuine one is handled.
    assert await post_signed(session, url, body, msg_id="msg_1") == (200, "accepted")
    await wait_until(lambda: len(handler.seen) == 1)
    assert handler.statuses == [("ufawqhfynnddngldkgtslldrkq", "succeeded")]


async def test_unsigned_and_tampered_deliveries_get_401(
    handler: Recorder, hook: tuple[str, aiohttp.ClientSession]
) -> None:
    url, session = hook
    body = prediction_body(status="succeeded")
    async with session.post(url, data=body) as response:
        assert response.status == 401
    headers = sign(body, SECRET, timestamp=NOW)
    async with session.post(url, data=body.replace(b"Hello", b"Hullo"), headers=headers) as resp:
        assert resp.status == 401
    await asyncio.sleep(0)
    assert handler.seen == []


@pytest.mark.parametrize("body", [b"[1, 2]", b"not json", b'{"status": "succeeded"}'])
async def test_signed_body_that_is_not_a_prediction_gets_400(
    handler: Recorder, hook: tuple[str, aiohttp.ClientSession], body: bytes
) -> None:
    url, session = hook
    status, _ = await post_signed(session, url, body)
    assert status == 400
    assert handler.seen == []


async def test_repeats_of_one_webhook_id_are_handled_once(
    handler: Recorder, hook: tuple[str, aiohttp.ClientSession]
) -> None:
    url, session = hook
    body = prediction_body(status="succeeded")
    answers = await asyncio.gather(
        *(post_signed(session, url, body, msg_id="msg_same") for _ in range(5))
    )
    assert sorted(answers) == [(200, "accepted")] + [(200, "ignored: repeated webhook-id")] * 4
    # A retry signed later (new timestamp, same id) is a repeat too.
    later = await post_signed(session, url, body, msg_id="msg_same", timestamp=NOW + 60)
    assert later == (200, "ignored: repeated webhook-id")
    await wait_until(lambda: len(handler.seen) == 1)
    await asyncio.sleep(0.05)
    assert len(handler.seen) == 1


async def test_deliveries_after_the_terminal_one_are_ignored(
    handler: Recorder, hook: tuple[str, aiohttp.ClientSession]
) -> None:
    url, session = hook
    other = "otherpredictionid00000000a"
    sends = [
        (prediction_body(status="starting"), "accepted"),
        (prediction_body(status="succeeded", output=["Hello", " there"]), "accepted"),
        # arrives late, signed later: still older state than the terminal one
        (prediction_body(status="processing"), "ignored: prediction already completed"),
        (prediction_body(status="failed"), "ignored: prediction already completed"),
        (prediction_body(id=other, status="processing"), "accepted"),
    ]
    for number, (body, expected) in enumerate(sends):
        assert await post_signed(session, url, body, timestamp=NOW + number) == (200, expected)
    await wait_until(lambda: len(handler.seen) == 3)
    assert handler.statuses == [
        ("ufawqhfynnddngldkgtslldrkq", "starting"),
        ("ufawqhfynnddngldkgtslldrkq", "succeeded"),
        (other, "processing"),
    ]
    assert handler.seen[1].output == ["Hello", " there"]


@pytest.mark.parametrize("terminal", ["succeeded", "failed", "canceled", "aborted"])
async def test_every_terminal_status_closes_the_prediction(
    handler: Recorder, hook: tuple[str, aiohttp.ClientSession], terminal: str
) -> None:
    url, session = hook
    assert (await post_signed(session, url, prediction_body(status=terminal)))[0] == 200
    late = await post_signed(session, url, prediction_body(status="processing"))
    assert late == (200, "ignored: prediction already completed")


async def test_a_stale_non_terminal_delivery_is_ignored(
    handler: Recorder, hook: tuple[str, aiohttp.ClientSession]
) -> None:
    url, session = hook
    newer = prediction_body(status="processing", output=["a", "b"])
    older = prediction_body(status="processing", output=["a"])
    assert await post_signed(session, url, newer, timestamp=NOW) == (200, "accepted")
    stale = await post_signed(session, url, older, timestamp=NOW - 2)
    assert stale == (200, "ignored: stale (signed before one already handled)")
    # Same second: cannot tell which is newer, so it is handled.
    assert await post_signed(session, url, older, timestamp=NOW) == (200, "accepted")
    # A terminal delivery is handled even when signed earlier (it is never stale).
    done = prediction_body(status="succeeded", output=["a", "b", "c"])
    assert await post_signed(session, url, done, timestamp=NOW - 5) == (200, "accepted")
    await wait_until(lambda: len(handler.seen) == 3)
    assert [p.output for p in handler.seen] == [["a", "b"], ["a"], ["a", "b", "c"]]


async def test_handlers_of_one_prediction_run_in_order_others_concurrently(
    handler: Recorder,
) -> None:
    handler.gate = asyncio.Event()
    receiver = WebhookReceiver(SECRET, handler, clock=CLOCK)
    async with mounted(receiver) as (url, session):
        for status in ("starting", "processing", "succeeded"):
            assert (await post_signed(session, url, prediction_body(status=status)))[0] == 200
        assert (await post_signed(session, url, prediction_body(id="p2" * 13)))[0] == 200
        # One handler per prediction runs at a time: "p2" and the first of the other.
        await wait_until(lambda: handler.running == 2)
        assert receiver.pending == 4
        handler.gate.set()
        await receiver.join()
    assert handler.most_running == 2
    first = [p.status for p in handler.seen if p.id == "ufawqhfynnddngldkgtslldrkq"]
    assert first == ["starting", "processing", "succeeded"]


async def test_handler_errors_are_logged_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []

    async def flaky(prediction: Prediction) -> None:
        calls.append(prediction.status)
        if prediction.status == "processing":
            raise RuntimeError("database down")

    receiver = WebhookReceiver(SECRET, flaky, clock=CLOCK)
    caplog.set_level(logging.ERROR, logger="replicate_async.webhooks")
    async with mounted(receiver) as (url, session):
        assert (await post_signed(session, url, prediction_body(status="processing")))[0] == 200
        assert (await post_signed(session, url, prediction_body(status="succeeded")))[0] == 200
        await receiver.join()
    assert calls == ["processing", "succeeded"]
    assert receiver.failures == 1
    [record] = [r for r in caplog.records if r.name == "replicate_async.webhooks"]
    assert "ufawqhfynnddngldkgtslldrkq" in record.getMessage()
    assert record.exc_info is not None and "database down" in str(record.exc_info[1])


async def test_sync_handlers_work_too() -> None:
    seen: list[str] = []
    receiver = WebhookReceiver(SECRET, lambda p: seen.append(p.status), clock=CLOCK)  # type: ignore[arg-type]
    async with mounted(receiver) as (url, session):
        assert (await post_signed(session, url, prediction_body()))[0] == 200
        await receiver.join()
    assert seen == ["processing"]


async def test_aclose_waits_for_handlers_then_cancels_the_rest() -> None:
    cancelled = asyncio.Event()
    gate = asyncio.Event()  # holds the first handler until aclose starts: both are pending
    finished: list[str] = []

    async def slow(prediction: Prediction) -> None:
        try:
            if prediction.status == "starting":
                await gate.wait()
            else:
                await asyncio.sleep(CALL_TIMEOUT)
            finished.append(prediction.id)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    receiver = WebhookReceiver(SECRET, slow, clock=CLOCK)
    async with mounted(receiver) as (url, session):
        assert (await post_signed(session, url, prediction_body(status="starting")))[0] == 200
        await post_signed(session, url, prediction_body(id="stuck" * 5 + "x", status="processing"))
        await wait_until(lambda: receiver.pending == 2)
        gate.set()  # the first can now finish within aclose's wait; the stuck one cannot
        await receiver.aclose(timeout=1.0)
        assert receiver.pending == 0 and cancelled.is_set()
        assert finished == ["ufawqhfynnddngldkgtslldrkq"]
        assert await post_signed(session, url, prediction_body()) == (503, "receiver closed")
        await receiver.aclose()  # idempotent


async def test_async_with_and_app_cleanup_close_the_receiver(handler: Recorder) -> None:
    async with WebhookReceiver(SECRET, handler, clock=CLOCK) as receiver:
        assert "open" in repr(receiver)
    assert "closed" in repr(receiver)

    handler.gate = asyncio.Event()
    second = WebhookReceiver(SECRET, handler, clock=CLOCK)
    app = web.Application()
    second.add_routes(app, "/replicate")
    async with serve(app) as base, aiohttp.ClientSession() as session:
        assert (await post_signed(session, f"{base}/replicate", prediction_body()))[0] == 200
        await wait_until(lambda: handler.running == 1)
        asyncio.get_running_loop().call_later(0.05, handler.gate.set)
    # The app's cleanup awaited the handler (released only after the server stopped).
    assert handler.running == 0 and len(handler.seen) == 1 and "closed" in repr(second)


async def test_memory_of_ids_and_predictions_is_bounded(handler: Recorder) -> None:
    receiver = WebhookReceiver(SECRET, handler, max_remembered=2, clock=CLOCK)
    async with mounted(receiver) as (url, session):
        for n in range(3):
            body = prediction_body(id=f"pred{n}" + "0" * 21, status="succeeded")
            assert await post_signed(session, url, body, msg_id=f"msg_{n}") == (200, "accepted")
        # msg_0 and pred0 were forgotten (least recently used): the repeat is handled again.
        again = prediction_body(id="pred0" + "0" * 21, status="succeeded")
        assert await post_signed(session, url, again, msg_id="msg_0") == (200, "accepted")
        # msg_2/pred2 are still remembered.
        last = prediction_body(id="pred2" + "0" * 21, status="succeeded")
        assert (await post_signed(session, url, last, msg_id="msg_2"))[1].startswith("ignored")
        await receiver.join()
    assert len(handler.seen) == 4
    memory = receiver._memory
    assert len(memory.ids) <= 2 and len(memory.progress) <= 2
    assert receiver._last == {}  # finished handlers are not kept either


@pytest.mark.parametrize("secret", [WebhookSecret(key=SECRET), SECRET.removeprefix("whsec_")])
async def test_secret_forms(handler: Recorder, secret: Any) -> None:
    receiver = WebhookReceiver(secret, handler, clock=CLOCK)
    async with mounted(receiver) as (url, session):
        assert (await post_signed(session, url, prediction_body()))[0] == 200
        await receiver.join()
    assert len(handler.seen) == 1


async def test_unusable_secret_is_a_500_and_logged(
    handler: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    async with mounted(WebhookReceiver("whsec_!!!", handler, clock=CLOCK)) as (url, session):
        assert (await post_signed(session, url, prediction_body()))[0] == 500
    assert handler.seen == [] and "unusable" in caplog.text


def test_construction_errors() -> None:
    with pytest.raises(TypeError):
        WebhookReceiver(SECRET, "not callable", clock=CLOCK)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        WebhookReceiver(SECRET, Recorder(), max_remembered=0, clock=CLOCK)


# -- the secret from a Client --------------------------------------------------------------


async def test_secret_from_a_client_is_fetched_once_and_predictions_are_bound(
    replicate_emulator: Emulator, handler: Recorder
) -> None:
    emu = replicate_emulator
    async with emu.client() as client:
        created = await client.predictions.async_create(model=LLAMA3, input={"prompt": "Hi"})
        await created.async_wait(timeout=CALL_TIMEOUT)
        body = created.to_dict()
        receiver = WebhookReceiver(client, handler, clock=CLOCK)
        async with mounted(receiver) as (url, session):
            raw = json.dumps({**body, "status": "processing"}).encode()
            answers = await asyncio.gather(
                *(post_signed(session, url, raw, secret=emu.webhook_secret) for _ in range(4))
            )
            assert [a[0] for a in answers] == [200] * 4
            await receiver.join()
            # signed with another secret: 401
            assert (await post_signed(session, url, raw))[0] == 401
        fetches = [r for r in emu.requests if r.path.endswith("/webhooks/default/secret")]
        assert len(fetches) == 1
        assert len(handler.seen) == 4
        # Bound to the client: reload works and updates in place.
        prediction = handler.seen[0]
        assert prediction.status == "processing"
        await prediction.async_reload()
        assert prediction.status == "succeeded"


async def test_secret_fetch_failure_answers_503_until_it_works(
    replicate_emulator: Emulator, handler: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    emu = replicate_emulator
    emu.faults.add(route="webhooks.default.secret.get", status=500, times=1)
    async with emu.client(retry=0) as client:
        receiver = WebhookReceiver(client, handler, clock=CLOCK)
        async with mounted(receiver) as (url, session):
            body = prediction_body()
            first = await post_signed(session, url, body, secret=emu.webhook_secret, msg_id="m")
            assert first == (503, "signing secret unavailable")
            second = await post_signed(session, url, body, secret=emu.webhook_secret, msg_id="m")
            assert second == (200, "accepted")
            await receiver.join()
    assert len(handler.seen) == 1 and "signing secret" in caplog.text

"""``client.batch`` / ``client.batch_sync`` against the emulator."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from batch_support import Collect, all_terminal, statuses, wait_until

from replicate_async import (
    AuthenticationError,
    Client,
    ConfigurationError,
    ModelError,
    NotFoundError,
    UnprocessableEntityError,
)
from replicate_async.batch import BatchProgress, BatchResult, BatchStoppedError
from replicate_async.emulator import Emulator

LLAMA = "meta/meta-llama-3-8b-instruct"
HELLO = "replicate/hello-world"

# Each token of the language model takes ~30 ms of real time at the fixture's speed (200):
# an input with fewer tokens finishes earlier, whatever its position.
SLOW_TOKENS = {"token_delay": 6.0}
# Hello-world runs for ~100 s of real time: it stays in flight until canceled.
STUCK = {"model_timings": {HELLO: (0.0, 20_000.0)}}


@pytest.mark.replicate_emulator(**SLOW_TOKENS)
async def test_results_come_as_they_finish_or_in_input_order(
    client: Client, collect: Collect
) -> None:
    inputs = [{"prompt": f"item {i}", "max_tokens": 6 - i} for i in range(6)]

    ordered = await collect(client, LLAMA, inputs, ordered=True)
    assert [r.index for r in ordered] == list(range(6))
    assert [r.input for r in ordered] == inputs
    assert all(r.ok and isinstance(r.output, str) and r.output for r in ordered)
    assert all(r.prediction_id for r in ordered)

    as_finished = await collect(client, LLAMA, inputs)
    indices = [r.index for r in as_finished]
    assert sorted(indices) == list(range(6))
    assert indices != sorted(indices)  # the short ones (late in the input) finish first
    by_index = {r.index: r.output for r in as_finished}
    assert [len(by_index[i]) > 0 for i in range(6)] == [True] * 6


async def test_one_failed_item_never_aborts_the_others(
    client: Client, collect: Collect, replicate_emulator: Emulator
) -> None:
    inputs: list[Any] = [{"text": "a"}, {}, {"text": 5}, "not a dict", {"text": "b"}]
    results = await collect(client, HELLO, inputs, ordered=True)
    assert [r.status for r in results] == ["succeeded", "error", "error", "error", "succeeded"]
    assert [r.output for r in results] == ["hello a", None, None, None, "hello b"]
    assert isinstance(results[1].error, UnprocessableEntityError)
    assert "text" in str(results[1].error)
    assert isinstance(results[3].error, ConfigurationError)
    assert results[1].prediction_id is None  # the API refused it: no prediction
    with pytest.raises(UnprocessableEntityError):
        results[2].result()
    assert results[0].result() == "hello a"
    assert len(replicate_emulator.predictions) == 2


async def test_failed_predictions_carry_their_id_error_and_logs(
    client: Client, collect: Collect, replicate_emulator: Emulator
) -> None:
    results = await collect(client, "replicate/always-fails", [{"text": "x"}, {"text": "y"}])
    assert [r.status for r in results] == ["failed", "failed"]
    for result in results:
        assert isinstance(result.error, ModelError)
        assert result.prediction is not None and "Traceback" in (result.prediction.logs or "")
        assert replicate_emulator.predictions[result.prediction_id or ""].status == "failed"
        assert not result.ok


@pytest.mark.replicate_emulator(token="r8_right")
async def test_errors_about_every_item_stop_the_batch(replicate_emulator: Emulator) -> None:
    async with Client(api_token="r8_wrong", base_url=replicate_emulator.url) as client:
        with pytest.raises(AuthenticationError):
            async for _ in client.batch(HELLO, [{"text": "a"}] * 20, concurrency=2):
                pass
    async with replicate_emulator.client() as client:
        with pytest.raises(NotFoundError):
            async for _ in client.batch("acme/no-such-model", [{"text": "a"}] * 20):
                pass
    assert len(replicate_emulator.predictions) == 0


async def test_bad_arguments_fail_before_any_request(client: Client) -> None:
    with pytest.raises(ConfigurationError):
        client.batch(HELLO, [{}], concurrency=0)
    with pytest.raises(ConfigurationError):
        client.batch(HELLO, {"text": "a"})  # type: ignore[dict-item]  # one dict, not many
    with pytest.raises(ConfigurationError):
        client.batch(HELLO, [{}], wait=99)
    with pytest.raises(ValueError, match="owner/name"):
        client.batch("not a ref!", [{}])


async def test_inputs_are_read_lazily(client: Client, replicate_emulator: Emulator) -> None:
    taken = 0

    def million() -> Iterator[dict[str, str]]:
        nonlocal taken
        for i in range(1_000_000):
            taken += 1
            yield {"text": str(i)}

    received = []
    async with contextlib.aclosing(client.batch(HELLO, million(), concurrency=4)) as results:
        async for result in results:
            received.append(result)
            if len(received) == 3:
                break
    assert taken <= 3 + 4 + 1  # what was consumed, what was in flight, one read ahead
    await wait_until(lambda: all_terminal(replicate_emulator))
    assert len(replicate_emulator.predictions) <= taken


async def test_async_iterables_are_read_lazily_too(
    client: Client, replicate_emulator: Emulator
) -> None:
    taken = 0

    async def endless() -> AsyncIterator[dict[str, str]]:
        nonlocal taken
        while True:
            taken += 1
            yield {"text": str(taken)}
            await asyncio.sleep(0)

    received: list[BatchResult] = []
    async with contextlib.aclosing(client.batch(HELLO, endless(), concurrency=3)) as results:
        async for result in results:
            received.append(result)
            if len(received) == 5:
                break
    assert taken <= 5 + 3 + 1
    assert {r.output for r in received} <= {f"hello {i}" for i in range(1, taken + 1)}

    finite = [r async for r in client.batch(HELLO, _agen(4), ordered=True)]
    assert [r.output for r in finite] == [f"hello {i}" for i in range(4)]


async def _agen(n: int) -> AsyncIterator[dict[str, str]]:
    for i in range(n):
        yield {"text": str(i)}


async def test_progress_reports_counts(client: Client) -> None:
    reports: list[BatchProgress] = []
    inputs: list[dict[str, Any]] = [{"text": str(i)} for i in range(12)] + [{}, {}]
    results = [
        r async for r in client.batch(HELLO, inputs, concurrency=3, on_progress=reports.append)
    ]
    assert len(results) == 14
    final = reports[-1]
    assert final.final and final.undelivered == ()
    assert (final.submitted, final.done, final.failed, final.in_flight) == (14, 14, 2, 0)
    assert final.succeeded == 12
    assert max(r.in_flight for r in reports) <= 3
    assert [r.done for r in reports] == sorted(r.done for r in reports)
    assert not any(r.final for r in reports[:-1])


async def test_async_progress_callbacks_are_awaited(client: Client) -> None:
    seen: list[int] = []

    async def report(progress: BatchProgress) -> None:
        await asyncio.sleep(0)
        seen.append(progress.done)

    assert len([r async for r in client.batch(HELLO, [{"text": "a"}] * 3, on_progress=report)]) == 3
    assert seen[-1] == 3


@pytest.mark.replicate_emulator(**SLOW_TOKENS, model_timings={})
async def test_cancelling_the_task_cancels_the_remote_predictions(
    client: Client, replicate_emulator: Emulator
) -> None:
    # three quick items, then long ones: cancel once the quick ones are in
    inputs = [{"prompt": "q", "max_tokens": 1}] * 3 + [{"prompt": "s", "max_tokens": 5000}] * 9
    received: list[BatchResult] = []
    reports: list[BatchProgress] = []
    three = asyncio.Event()

    async def consume() -> None:
        async for result in client.batch(LLAMA, inputs, concurrency=5, on_progress=reports.append):
            received.append(result)
            if len(received) == 3:
                three.set()

    task = asyncio.ensure_future(consume())
    await asyncio.wait_for(three.wait(), 10)
    await wait_until(lambda: statuses(replicate_emulator).count("processing") == 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    # every remote prediction is over: the quick ones succeeded, the running ones canceled
    jobs = list(replicate_emulator.predictions.values())
    assert sorted(j.status for j in jobs) == ["canceled"] * 5 + ["succeeded"] * 3
    assert all(r.ok for r in received)
    final = reports[-1]
    assert final.final and final.canceled == 5
    assert final.done == 3 and final.in_flight == 0
    canceled = {r.prediction_id for r in final.undelivered if r.status == "canceled"}
    assert canceled == {j.id for j in jobs if j.status == "canceled"}
    assert all(isinstance(r.error, BatchStoppedError) for r in final.undelivered)
    assert {r.index for r in final.undelivered} == set(range(3, 8))


@pytest.mark.replicate_emulator(**SLOW_TOKENS)
async def test_leaving_the_loop_cancels_what_runs(
    client: Client, replicate_emulator: Emulator, collect: Collect
) -> None:
    inputs = [{"prompt": "q", "max_tokens": 1}] + [{"prompt": "s", "max_tokens": 5000}] * 9
    first: list[BatchResult] = []
    if collect.mode == "async":
        async with contextlib.aclosing(client.batch(LLAMA, inputs, concurrency=4)) as results:
            async for result in results:
                first.append(result)
                break
    else:

        def leave_early() -> None:
            for result in client.batch_sync(LLAMA, inputs, concurrency=4):
                first.append(result)
                break

        await asyncio.to_thread(leave_early)
    assert [r.index for r in first] == [0]
    await wait_until(lambda: all_terminal(replicate_emulator))
    found = sorted(statuses(replicate_emulator))
    assert found in (["canceled"] * 3 + ["succeeded"], ["canceled"] * 4 + ["succeeded"])


@pytest.mark.replicate_emulator(**STUCK)
async def test_a_timeout_per_item_cancels_that_prediction(
    client: Client, replicate_emulator: Emulator
) -> None:
    results = [r async for r in client.batch(HELLO, [{"text": "a"}, {"text": "b"}], timeout=0.3)]
    assert [r.status for r in results] == ["canceled", "canceled"]
    assert all(r.prediction_id in replicate_emulator.predictions for r in results)
    assert set(statuses(replicate_emulator)) == {"canceled"}


@pytest.mark.replicate_emulator(create_rate_per_minute=600, create_burst=3)
async def test_the_rate_limit_is_kept_without_a_429_storm(replicate_emulator: Emulator) -> None:
    # The emulator allows 10 creates/s with a burst of 3; the client's default limiter
    # allows 10/s with a burst of 100, so only the first round of calls can be refused.
    async with replicate_emulator.client() as client:
        inputs = [{"text": str(i)} for i in range(40)]
        results = [r async for r in client.batch(HELLO, inputs, concurrency=8)]
        limiter = client.rate_limiter
    assert [r.status for r in results].count("succeeded") == 40
    stats = replicate_emulator.stats
    assert stats.predictions_created == 40
    assert stats.rate_limited <= 8
    assert limiter is not None and limiter.stats.rate_limited == stats.rate_limited  # type: ignore[attr-defined]


@pytest.mark.replicate_emulator(create_rate_per_minute=600, create_burst=3)
async def test_a_client_allowed_more_than_the_server_adapts(replicate_emulator: Emulator) -> None:
    from replicate_async.batch import TokenBucketLimiter

    async with replicate_emulator.client() as client:
        client.rate_limiter = limiter = TokenBucketLimiter(create_per_minute=6000)
        inputs = [{"text": str(i)} for i in range(40)]
        results = [r async for r in client.batch(HELLO, inputs, concurrency=8)]
    assert all(r.ok for r in results)
    assert replicate_emulator.stats.predictions_created == 40
    # ten times the server's limit: the limiter slows down instead of hammering
    assert replicate_emulator.stats.rate_limited <= 20
    assert limiter.stats.slowdowns >= 2


@pytest.mark.replicate_emulator(**STUCK)
async def test_creates_still_on_their_way_are_canceled_before_the_batch_returns(
    client: Client, replicate_emulator: Emulator
) -> None:
    model = await client.models.async_get(HELLO)
    assert model.latest_version is not None
    pinned = f"{HELLO}:{model.latest_version.id}"
    # Long enough that the first create is still held when the third arrives, even when
    # the machine is loaded.
    replicate_emulator.faults.add(route="predictions.create", latency=1.0)
    task = asyncio.ensure_future(
        client.batch(pinned, [{"text": str(i)} for i in range(6)], concurrency=3).__anext__()
    )
    await wait_until(lambda: replicate_emulator.stats.faults_injected == 3)
    assert len(replicate_emulator.predictions) == 0  # the three creates are in flight
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # once the cancellation returns, the predictions those creates made are canceled
    assert statuses(replicate_emulator) == ["canceled"] * 3


async def test_a_community_model_costs_one_create_per_item(
    client: Client, replicate_emulator: Emulator
) -> None:
    # the first input is refused, so the second one finds out which version runs
    inputs: list[dict[str, Any]] = [{}] + [{"text": str(i)} for i in range(12)]
    results = [r async for r in client.batch(HELLO, inputs, concurrency=6)]
    assert sorted(r.status for r in results) == ["error"] + ["succeeded"] * 12
    by_operation = replicate_emulator.stats.by_operation
    # one shared model lookup says the model is not official and names its latest version
    # (SchemaCache.lookup_model), so no create is spent on the official-models endpoint
    assert by_operation["models.predictions.create"] == 0
    assert by_operation["models.get"] == 1
    assert by_operation["predictions.create"] == 2 + 11
    versions = {job.version for job in replicate_emulator.predictions.values()}
    assert len(versions) == 1


@pytest.mark.replicate_emulator(model_timings={"replicate/hello-world": (0.0, 60.0)})
async def test_a_prediction_that_succeeds_before_its_cancel_arrives_is_kept(
    replicate_emulator: Emulator,
) -> None:
    """Stopping a batch cancels what runs; a prediction that finished while its cancel was on
    its way (the cancel's answer says ``succeeded``) is a result like any other, never
    reported as stopped (which would run it, and pay for it, again on resume)."""
    replicate_emulator.faults.add(route="predictions.cancel", latency=1.0)
    finals: list[BatchResult] = []

    def on_progress(progress: BatchProgress) -> None:
        if progress.final:
            finals.extend(progress.undelivered)

    inputs = [{"text": str(i)} for i in range(3)]
    async with replicate_emulator.client() as client:

        async def consume() -> None:
            async for _ in client.batch(
                "replicate/hello-world", inputs, concurrency=3, on_progress=on_progress
            ):
                pass

        task = asyncio.ensure_future(consume())
        for _ in range(2000):  # bounded: until the three predictions run
            running = [
                j for j in replicate_emulator.predictions.values() if j.status == "processing"
            ]
            if len(running) == 3:
                break
            await asyncio.sleep(0.005)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 30)
    assert sorted((r.index, r.status, r.output) for r in finals) == [
        (0, "succeeded", "hello 0"),
        (1, "succeeded", "hello 1"),
        (2, "succeeded", "hello 2"),
    ]
    assert all(j.status == "succeeded" for j in replicate_emulator.predictions.values())

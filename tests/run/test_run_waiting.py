"""``run()``: sync mode, following a prediction to its end, timeouts and cancellation."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from run_support import LLAMA3, SDXL, Twin, wait_until

from replicate_async import Client, RunTimeoutError
from replicate_async._ops.run import RunOptions, run_prediction
from replicate_async.emulator import Emulator, VirtualClock
from replicate_async.emulator.pytest_plugin import FAST_DEFAULTS

SLOW = {"stability-ai/sdxl": (0.0, 1000.0)}  # 5 s of real time at the fixture's speed


def creates(emu: Emulator) -> list[str]:
    return [r.headers.get("Prefer", "") for r in emu.requests if r.method == "POST"]


async def test_sync_mode_header_is_configurable(
    twin: Twin, client: Client, replicate_emulator: Emulator
) -> None:
    await twin.run(client, "replicate/instant", input={"text": "a"})
    await twin.run(client, "replicate/instant", input={"text": "b"}, wait=7)
    await twin.run(client, "replicate/instant", input={"text": "c"}, wait=False)
    # The default is a short sync wait: an abandoned run learns the id to cancel within it.
    assert creates(replicate_emulator) == ["wait=5", "wait=7", ""]


async def test_sync_wait_never_outlasts_the_timeout(
    client: Client, replicate_emulator: Emulator
) -> None:
    await client.run("replicate/instant", input={}, timeout=3.5)
    with contextlib.suppress(RunTimeoutError):  # only the create's header is checked here
        await client.run("replicate/instant", input={}, timeout=0.5)
    assert creates(replicate_emulator) == ["wait=3", ""]


async def test_finish_is_noticed_on_the_stream_then_fetched_once(
    twin: Twin, client: Client, replicate_emulator: Emulator
) -> None:
    text = await twin.run(client, LLAMA3, input={"prompt": "Hi"}, wait=False)
    (job,) = replicate_emulator.predictions.values()
    assert text == "".join(job.output)
    gets = [
        r
        for r in replicate_emulator.requests
        if r.origin == "api" and r.path == f"/v1/predictions/{job.id}"
    ]
    streams = [r for r in replicate_emulator.requests if r.origin == "stream"]
    assert len(streams) == 1 and len(gets) == 1


async def test_polls_with_growing_delays_capped_by_env__peer_defect_3(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A model without a stream: run polls. Delays grow from fast to the ceiling that
    # REPLICATE_POLL_INTERVAL sets, and every delay goes through the client's sleep. The
    # emulator runs on a virtual clock that the client's sleep moves, so the run lasts the
    # same number of polls on any machine.
    monkeypatch.setenv("REPLICATE_POLL_INTERVAL", "0.1")
    clock = VirtualClock()
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        await clock.advance(seconds)

    timings = {"replicate/instant": (20.0, 40.0)}  # 0.3 s at the fast defaults' speed
    options = {**FAST_DEFAULTS, "clock": clock, "model_timings": timings}
    async with Emulator(**options) as emu, emu.client(sleep=sleep) as client:
        output = await client.run("replicate/instant", input={"text": "t"}, wait=False)
    assert output == "instant: t"
    assert delays[:3] == pytest.approx([0.05, 0.075, 0.1])  # from 0.05 s, times 1.5
    assert delays[3:] == [0.1] * (len(delays) - 3) and len(delays) >= 4  # then the ceiling
    assert 0.3 <= sum(delays) < 0.4  # noticed at the first poll after the run ended


@pytest.mark.replicate_emulator(model_timings=SLOW)
async def test_timeout_cancels_the_remote_prediction__peer_defect_3_and_30(
    twin: Twin, client: Client, replicate_emulator: Emulator
) -> None:
    with pytest.raises(RunTimeoutError) as info:
        await twin.run(client, SDXL, input={"prompt": "x"}, timeout=0.3)
    error = info.value
    job = replicate_emulator.predictions[str(error.prediction_id)]
    assert job.status == "canceled" and error.canceled
    assert job.id in str(error) and "canceled" in str(error)
    assert isinstance(error, TimeoutError)


@pytest.mark.replicate_emulator(model_timings=SLOW)
async def test_timeout_without_cancel_on_exit_leaves_it_running(
    client: Client, replicate_emulator: Emulator
) -> None:
    with pytest.raises(RunTimeoutError) as info:
        await client.run(SDXL, input={"prompt": "x"}, timeout=0.2, cancel_on_exit=False)
    assert not info.value.canceled
    assert replicate_emulator.predictions[str(info.value.prediction_id)].status == "processing"
    assert "still running" in str(info.value)


@pytest.mark.replicate_emulator(model_timings=SLOW)
async def test_timeout_while_the_create_is_in_flight_still_cancels(
    client: Client, replicate_emulator: Emulator
) -> None:
    # The create answers only after the timeout; the id it brings is still canceled.
    replicate_emulator.faults.add("POST /predictions", latency=0.4, times=1)
    with pytest.raises(RunTimeoutError) as info:
        await client.run(SDXL, input={"prompt": "x"}, timeout=0.1)
    assert info.value.canceled
    assert replicate_emulator.predictions[str(info.value.prediction_id)].status == "canceled"


@pytest.mark.replicate_emulator(model_timings=SLOW)
async def test_cancelling_the_task_cancels_the_remote_prediction__peer_defect_30(
    client: Client, replicate_emulator: Emulator
) -> None:
    created: list[str] = []
    task = asyncio.create_task(
        run_prediction(
            client,
            SDXL,
            {"prompt": "x"},
            RunOptions(wait=False),
            on_created=lambda p: created.append(p.id),
        )
    )
    await wait_until(lambda: bool(created))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The cancel request was sent (shielded) before the cancellation finished.
    assert replicate_emulator.predictions[created[0]].status == "canceled"


@pytest.mark.replicate_emulator(model_timings=SLOW)
async def test_cancelling_the_task_mid_create_cancels_once_created(
    client: Client, replicate_emulator: Emulator
) -> None:
    held = replicate_emulator.faults.add("POST /predictions", latency=0.5, times=1)
    task = asyncio.create_task(client.run(SDXL, input={"prompt": "x"}, wait=False))
    await wait_until(lambda: held.hits == 1)  # the create is held on the server
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_until(lambda: bool(replicate_emulator.predictions))
    (job,) = replicate_emulator.predictions.values()
    await wait_until(lambda: job.status == "canceled")


@pytest.mark.replicate_emulator(model_timings=SLOW)
async def test_cancelling_without_cancel_on_exit_leaves_it_running(
    client: Client, replicate_emulator: Emulator
) -> None:
    created: list[str] = []
    options = RunOptions(cancel_on_exit=False, wait=False)
    task = asyncio.create_task(
        run_prediction(client, SDXL, {}, options, on_created=lambda p: created.append(p.id))
    )
    await wait_until(lambda: bool(created))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert replicate_emulator.predictions[created[0]].status == "processing"


async def test_cancel_after_header(client: Client, replicate_emulator: Emulator) -> None:
    await client.run("replicate/instant", input={}, cancel_after="1h30m")
    (create,) = [r for r in replicate_emulator.requests if r.method == "POST"]
    assert create.headers["Cancel-After"] == "1h30m"
    (job,) = replicate_emulator.predictions.values()
    assert job.deadline_str is not None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timeout": 0}, "timeout"),
        ({"timeout": -1}, "timeout"),
        ({"wait": 61}, "wait"),
        ({"cancel_after": "2s"}, "cancel_after"),
        ({"webhook": "ftp://x"}, "webhook"),
        ({"file_encoding": "base64"}, "file_encoding"),
    ],
)
async def test_bad_options_fail_before_any_request(
    client: Client, replicate_emulator: Emulator, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await client.run("replicate/instant", input={}, **options)  # type: ignore[arg-type]
    assert replicate_emulator.requests == []

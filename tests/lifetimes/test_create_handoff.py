"""The create's hand-off to its caller (``Lifetime.create``: a task of its own completes a
future the caller awaits), at the moments that a shield used to cover.

* the caller is cancelled in the very step in which the create's answer arrives (the
  answer is there, the caller has not seen it): the prediction is still canceled, and the
  caller's ``on_created`` still learns it;
* the caller is cancelled twice while its create is on the wire: it stops waiting, and the
  client's registry finishes the create and cancels the prediction in the background;
* a create the API refuses raises its own error once, and leaves no task whose exception
  nobody retrieved.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable
from typing import Any

import pytest

from replicate_async import Prediction, UnprocessableEntityError
from replicate_async._ops import lifetimes
from replicate_async.emulator import Emulator

LLAMA = "meta/meta-llama-3-8b-instruct"
SLOW = {"model_timings": {LLAMA: (0.0, 10_000.0)}}
DEADLINE = 20.0


async def _until(predicate: Any) -> None:
    """Poll ``predicate`` every 5 ms; fail after ``DEADLINE`` seconds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + DEADLINE
    while not predicate():
        if loop.time() > end:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


@pytest.mark.replicate_emulator(**SLOW)
async def test_caller_cancelled_in_the_step_its_answer_arrives_still_cancels(
    replicate_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = replicate_emulator
    callers: list[asyncio.Task[Any]] = []
    real_answer = lifetimes._answer

    async def answer_then_cancel_the_caller(create: Awaitable[Any], waiter: Any) -> Any:
        result = await real_answer(create, waiter)
        assert waiter.done() and not waiter.cancelled()  # the answer is handed over …
        callers[0].cancel()  # … and the caller is cancelled before it resumes
        return result

    monkeypatch.setattr(lifetimes, "_answer", answer_then_cancel_the_caller)
    named: list[Prediction] = []
    async with emu.client(retry=0) as client:
        task = asyncio.ensure_future(
            client.run(LLAMA, {"prompt": "hi"}, wait=False, on_created=named.append)
        )
        callers.append(task)
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, DEADLINE)
        await asyncio.wait_for(client._lifetimes.drain(), DEADLINE)
    [(prediction_id, job)] = emu.predictions.items()
    assert job.status == "canceled"
    assert [p.id for p in named] == [prediction_id]


@pytest.mark.replicate_emulator(**SLOW)
async def test_a_second_cancellation_mid_create_leaves_the_cleanup_to_the_registry(
    replicate_emulator: Emulator,
) -> None:
    emu = replicate_emulator
    async with emu.client(retry=0) as client:
        # the answer is slow to come (an official model is created on its own route)
        emu.faults.add(route="models.predictions.create", latency=0.5)
        task = asyncio.ensure_future(client.run(LLAMA, {"prompt": "hi"}, wait=False))
        owned = client._lifetimes._owned
        await _until(lambda: emu.stats.faults_injected == 1)  # the server has the create
        assert any(life.create_task is not None for life in owned.values())
        task.cancel()
        await asyncio.sleep(0)
        task.cancel()  # a second Ctrl-C: stop waiting
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, DEADLINE)
        assert client._lifetimes.pending() != []  # the create is finished in the background
        await asyncio.wait_for(client._lifetimes.drain(), DEADLINE)
        assert client._lifetimes.pending() == []
    [(_, job)] = emu.predictions.items()
    assert job.status == "canceled"


async def test_a_refused_create_raises_once_and_leaves_no_unretrieved_task(
    replicate_emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    async with replicate_emulator.client(retry=0) as client:
        for _ in range(3):
            with pytest.raises(UnprocessableEntityError):
                await client.run("nobody/no-such-model:" + "0" * 64, {"prompt": "hi"})
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        gc.collect()  # an unretrieved task exception is logged when the task goes
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]

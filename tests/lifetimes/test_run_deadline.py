"""``run(timeout=)`` is an ``asyncio.timeout``: a cancellation from outside that arrives while
the timeout is being handled is never swallowed (turned into ``RunTimeoutError``), and the
prediction is canceled either way."""

from __future__ import annotations

import asyncio

import pytest

from replicate_async import RunTimeoutError
from replicate_async.emulator import Emulator

INSTANT = "replicate/instant"  # no stream: run() polls through the client's sleep
SLOW = {"model_timings": {INSTANT: (0.0, 10_000.0)}}
BOUND = 20.0


@pytest.mark.replicate_emulator(**SLOW)
async def test_an_outer_cancel_during_the_timeout_is_not_swallowed(
    replicate_emulator: Emulator,
) -> None:
    async def sleep(seconds: float) -> None:
        # The poll's sleep: the run's timeout cancels it, and in the same turn of the loop,
        # before the task wakes up, the task is cancelled from outside as well (a TaskGroup
        # shutting down, say): the two requests reach the task as one CancelledError.
        task = asyncio.current_task()
        assert task is not None
        never = asyncio.get_running_loop().create_future()
        never.add_done_callback(lambda _: task.cancel())  # runs before the task's wakeup
        await asyncio.wait_for(never, BOUND)

    async with replicate_emulator.client(sleep=sleep) as client:
        task = asyncio.ensure_future(
            client.run(INSTANT, input={"text": "t"}, wait=False, timeout=0.2)
        )
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(task), BOUND)
        assert task.cancelled()  # not a RunTimeoutError: the outer cancel propagates
    (job,) = replicate_emulator.predictions.values()
    assert job.status == "canceled"


@pytest.mark.replicate_emulator(**SLOW)
async def test_the_timeout_alone_raises_run_timeout_error(replicate_emulator: Emulator) -> None:
    async with replicate_emulator.client() as client:
        with pytest.raises(RunTimeoutError) as info:
            await asyncio.wait_for(
                client.run(INSTANT, input={"text": "t"}, wait=False, timeout=0.2), BOUND
            )
    assert info.value.canceled
    assert replicate_emulator.predictions[str(info.value.prediction_id)].status == "canceled"

"""``run(timeout=)`` is an ``asyncio.timeout``: a cancellation from outside that arrives while
the timeout is being handled is never swallowed (turned into ``RunTimeoutError``), and the
prediction is canceled either way."""

from __future__ import annotations

import asyncio
import logging
import sys

import pytest
from support import wait_until

from replicate_async import RunTimeoutError
from replicate_async.emulator import Emulator
from replicate_async.emulator.pytest_plugin import FAST_DEFAULTS

INSTANT = "replicate/instant"  # no stream: run() polls through the client's sleep
SLOW = {"model_timings": {INSTANT: (0.0, 10_000.0)}}
BOUND = 20.0


@pytest.mark.skipif(
    sys.version_info < (3, 11),
    reason="Python 3.10 has no Task.uncancel: a cancel from outside in the very loop turn in "
    "which the run's own timeout fires cannot be told apart from it (async-timeout's limit)",
)
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


def test_a_create_cut_off_by_the_end_of_asyncio_run_is_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Cancelled twice (Ctrl-C twice), a run stops waiting for its create to name the
    # prediction, and the client finishes that in the background; if the program then ends
    # with the create still on the wire, nothing can name the prediction: a warning says
    # which model may still run.
    llama = "meta/meta-llama-3-8b-instruct"
    with Emulator(**FAST_DEFAULTS, model_timings={llama: (0.0, 10_000.0)}) as emu:
        held = emu.faults.add(route="*predictions.create", latency=5.0)

        async def main() -> None:
            client = emu.client()  # closed by the loop's shutdown (its session guard)
            task = asyncio.ensure_future(client.run(llama, {"prompt": "hi"}, wait=False))
            await wait_until(lambda: held.hits == 1)  # the create is held on the server
            task.cancel()
            await asyncio.sleep(0)  # the run starts waiting for the create, shielded
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(task, BOUND)
            assert client._lifetimes.pending()  # the cleanup goes on in the background

        with caplog.at_level(logging.WARNING, logger="replicate_async"):
            asyncio.run(main())
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any(llama in m and "may still be running" in m for m in warnings), warnings

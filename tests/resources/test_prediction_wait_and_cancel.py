"""Cancels are retried like any idempotent call; wait() follows the client's poll interval
and raises the built-in TimeoutError."""

from __future__ import annotations

import asyncio

import pytest

from replicate_async import Client
from replicate_async.emulator import Emulator

SLOW_LLAMA = {"model_timings": {"meta/meta-llama-3-8b-instruct": (0.0, 10_000.0)}}


@pytest.mark.replicate_emulator(**SLOW_LLAMA)
async def test_cancel_is_retried_after_a_503(replicate_emulator: Emulator) -> None:
    async with replicate_emulator.client() as client:
        client.rate_limiter = None
        prediction = await client.models.predictions.async_create(
            "meta/meta-llama-3-8b-instruct", {"prompt": "hi"}
        )
        replicate_emulator.faults.add(route="predictions.cancel", status=503, times=1)
        canceled = await client.predictions.async_cancel(prediction.id)
    assert canceled.status == "canceled"
    assert replicate_emulator.stats.by_operation["predictions.cancel"] == 2


@pytest.mark.replicate_emulator(**SLOW_LLAMA)
async def test_wait_uses_the_client_poll_interval_and_builtin_timeout(
    replicate_emulator: Emulator,
) -> None:
    delays: list[float] = []

    async def sleep(seconds: float) -> None:  # records each poll delay; real time is not used
        delays.append(seconds)
        await asyncio.sleep(0)

    client = Client("r8_x", base_url=replicate_emulator.url, poll_interval=0.01, sleep=sleep)
    async with client:
        client.rate_limiter = None
        prediction = await client.models.predictions.async_create(
            "meta/meta-llama-3-8b-instruct", {"prompt": "hi"}
        )
        with pytest.raises(TimeoutError) as info:
            await prediction.async_wait(timeout=0.05)
        await prediction.async_cancel()
    assert type(info.value) is TimeoutError and prediction.id in str(info.value)
    # Every delay between polls is capped by the client's 10 ms, never the default 2 s.
    assert delays and max(delays) <= 0.01
    assert replicate_emulator.stats.by_operation["predictions.get"] >= 1

"""A passing 500 while polling a prediction is retried: the run whose prediction succeeds
succeeds. Creates are still never retried on a 5xx (they may have started a prediction)."""

from __future__ import annotations

import asyncio

import pytest

import replicate_async as ra
from replicate_async.emulator import Emulator

SDXL = "stability-ai/sdxl:7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"


async def test_a_500_on_a_poll_is_retried_and_the_run_succeeds(
    replicate_emulator: Emulator,
) -> None:
    fault = replicate_emulator.faults.add(route="predictions.get", status=500, times=1)
    async with replicate_emulator.client() as client:
        [image] = await asyncio.wait_for(client.run(SDXL, {"prompt": "a fox"}, wait=False), 30)
    assert fault.hits == 1  # the poll did meet the 500 …
    assert image.url  # … and the run still returned the output


async def test_a_500_on_a_create_is_not_retried(replicate_emulator: Emulator) -> None:
    fault = replicate_emulator.faults.add(route="predictions.create", status=500, times=1)
    async with replicate_emulator.client() as client:
        with pytest.raises(ra.ServerError):
            await client.predictions.async_create(SDXL, {"prompt": "a fox"})
    assert fault.hits == 1
    assert not replicate_emulator.predictions  # nothing was created by a second try

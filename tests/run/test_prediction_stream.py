"""``prediction.async_stream()``/``stream()`` and ``async_result()``/``result()`` on a
prediction created elsewhere."""

from __future__ import annotations

import pytest
from run_support import LLAMA3, SDXL, Twin

from replicate_async import Client, ModelError
from replicate_async._ops.file_output import FileOutput
from replicate_async.emulator import Emulator


async def test_prediction_stream(twin: Twin, client: Client, replicate_emulator: Emulator) -> None:
    prediction = await client.predictions.async_create(LLAMA3, input={"prompt": "Hi"})
    events = await twin.prediction_stream(prediction)
    job = replicate_emulator.predictions[prediction.id]
    assert "".join(str(e) for e in events) == "".join(job.output)


async def test_prediction_result_shapes_like_run__peer_defect_7(twin: Twin, client: Client) -> None:
    prediction = await client.predictions.async_create(SDXL, input={"prompt": "x"})
    if twin.mode == "async":
        files = await prediction.async_result()
        urls = await prediction.async_result(use_file_output=False)
    else:
        import asyncio

        files = await asyncio.to_thread(prediction.result)
        urls = await asyncio.to_thread(prediction.result, use_file_output=False)
    assert prediction.status == "succeeded"
    assert isinstance(files[0], FileOutput)
    assert urls == prediction.output and isinstance(urls[0], str)


async def test_prediction_result_raises_for_failures(client: Client) -> None:
    model = await client.models.async_get("replicate/always-fails")
    assert model.latest_version is not None
    prediction = await client.predictions.async_create(model.latest_version, input={})
    with pytest.raises(ModelError) as info:
        await prediction.async_result()
    assert info.value.prediction is prediction and prediction.status == "failed"

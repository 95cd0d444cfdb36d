"""A direct create (predictions/trainings) that the API refuses leaves no uploaded file behind."""

from __future__ import annotations

import pytest

from replicate_async import UnprocessableEntityError
from replicate_async.emulator import Emulator


@pytest.mark.replicate_emulator(strict_inputs=True)
async def test_refused_prediction_create_deletes_its_uploads(
    replicate_emulator: Emulator,
) -> None:
    async with replicate_emulator.client() as client:
        model = await client.models.async_get("replicate/echo-file")
        assert model.latest_version is not None
        version = f"replicate/echo-file:{model.latest_version.id}"
        with pytest.raises(UnprocessableEntityError):
            await client.predictions.async_create(
                version,
                {"file": b"x" * 10, "not_an_input": 1},  # refused: additional property
                file_encoding="upload",
            )
        assert [f async for f in await client.files.async_list()] == []
        # The same call with valid input keeps its upload (the prediction uses it).
        await client.predictions.async_create(version, {"file": b"x" * 10}, file_encoding="upload")
        assert len([f async for f in await client.files.async_list()]) == 1

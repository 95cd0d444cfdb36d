"""Regression tests for the PEER-DEFECTS items about lifecycle, credentials and listing."""

from __future__ import annotations

import gc
import json
import warnings
from typing import Any

import pytest

from replicate_async import Client
from replicate_async.emulator import Emulator

TOKEN = "r8_peer_defect_token_0123456789"


async def latest(client: Client, model: str) -> str:
    """``owner/name:<latest version>`` (community models need their version named)."""
    found = await client.models.async_get(model)
    assert found.latest_version is not None
    return f"{model}:{found.latest_version.id}"


async def test_client_closes_every_session__peer_defect_16(replicate_emulator: Emulator) -> None:
    client = Client(TOKEN, base_url=replicate_emulator.url)
    async with client:
        await client.account.async_get()
        session = await client._transport.session()
        assert not session.closed
    assert session.closed and not client._transport._sessions
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        del client, session
        gc.collect()


def test_blocking_close_closes_the_bridge_session__peer_defect_16() -> None:
    with Emulator() as emu:
        client = Client(TOKEN, base_url=emu.url)
        client.account.get()
        client.close()
        client.close()  # idempotent
        assert not client._transport._sessions


@pytest.mark.parametrize("encoding", ["data_uri", "upload"])
async def test_file_inputs_never_carry_the_token__peer_defect_23(
    replicate_emulator: Emulator, encoding: str
) -> None:
    async with Client(TOKEN, base_url=replicate_emulator.url) as client:
        version = await latest(client, "replicate/echo-file")
        prediction = await client.predictions.async_create(
            version, {"file": b"\x89PNG not really"}, file_encoding=encoding
        )
    job = replicate_emulator.predictions[prediction.id]
    sent = json.dumps(job.input)
    assert TOKEN not in sent and "Client" not in sent
    value = job.input["file"]
    if encoding == "data_uri":
        assert value.startswith("data:")
    else:
        assert value.startswith(replicate_emulator.url)
    for record in replicate_emulator.requests:
        assert TOKEN not in json.dumps(record.query)


@pytest.mark.replicate_emulator(page_size=2)
async def test_lists_yield_items_across_all_pages__peer_defect_28(
    replicate_emulator: Emulator,
) -> None:
    async with Client(TOKEN, base_url=replicate_emulator.url) as client:
        version = await latest(client, "replicate/hello-world")
        created = [
            (await client.predictions.async_create(version, {"text": str(i)})).id for i in range(5)
        ]
        files = [(await client.files.async_create(bytes([i]) * 3)).id for i in range(5)]
        predictions = [p.id async for p in await client.predictions.async_list()]
        listed_files = [f.id async for f in await client.files.async_list()]
        models: list[Any] = [m async for m in await client.models.async_list()]
        first_page = await client.models.async_list()
    assert predictions == created[::-1]  # newest first, every page, items not pages
    assert sorted(listed_files) == sorted(files)
    assert len(first_page.results) == 2 and len(models) > 2

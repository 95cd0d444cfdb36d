"""Output schemas: fetched once per version and cached on the client; official models'
hidden or opaque versions use the model's latest version."""

from __future__ import annotations

import asyncio
import logging

import pytest
from run_support import LLAMA3, REF, VERSION, ScriptedAPI, concatenate_schema

from replicate_async import Client
from replicate_async.emulator import Emulator

TOKENS = ["Hel", "lo"]


async def test_schema_is_fetched_once_for_concurrent_runs(
    client: Client, replicate_emulator: Emulator
) -> None:
    outputs = await asyncio.gather(
        *(client.run(LLAMA3, input={"prompt": f"p{i}"}) for i in range(20))
    )
    assert all(isinstance(o, str) and o for o in outputs)
    await client.run(LLAMA3, input={"prompt": "again"})
    lookups = replicate_emulator.stats.by_operation
    assert lookups["models.versions.get"] + lookups["models.get"] == 1


def model_with_schema() -> dict[str, object]:
    return {
        "owner": "acme",
        "name": "llm",
        "latest_version": {"id": "a" * 64, "openapi_schema": concatenate_schema()},
    }


@pytest.mark.parametrize("version", ["hidden", "dp-8c6b1ba8", None])
async def test_official_model_versions_use_the_latest_version(
    api: ScriptedAPI, version: str | None
) -> None:
    api.prediction = api.make_prediction(status="succeeded", output=TOKENS, version=version)
    api.models["acme/llm"] = model_with_schema()
    async with api.client() as client:
        assert await client.run("acme/llm", input={}) == "Hello"
        assert await client.run("acme/llm", input={}) == "Hello"
    lookups = [path for method, path, _ in api.seen if method == "GET"]
    assert lookups.count("/v1/models/acme/llm") == 1


async def test_unknown_schema_leaves_output_unchanged(
    api: ScriptedAPI, caplog: pytest.LogCaptureFixture
) -> None:
    # A 64-hex version the API does not know is authoritative: no guessing from the model.
    api.prediction = api.make_prediction(status="succeeded", output=TOKENS)
    api.models["acme/llm"] = model_with_schema()
    async with api.client() as client:
        with caplog.at_level(logging.WARNING, logger="replicate_async"):
            assert await client.run(REF, input={}) == TOKENS
    assert "output schema" in caplog.text
    assert ("GET", "/v1/models/acme/llm") not in [(m, p) for m, p, _ in api.seen]


async def test_server_error_on_the_schema_is_not_cached(api: ScriptedAPI) -> None:
    api.prediction = api.make_prediction(status="succeeded", output=TOKENS)
    async with api.client(retry=0) as client:
        assert await client.run(REF, input={}) == TOKENS  # 404: cached
        assert len(client._schemas) == 1
        client._schemas.clear()
        api.schemas[VERSION] = {"id": VERSION, "openapi_schema": concatenate_schema()}
        assert await client.run(REF, input={}) == "Hello"


async def test_version_object_with_schema_spares_the_lookup(api: ScriptedAPI) -> None:
    from replicate_async import Version

    api.prediction = api.make_prediction(status="succeeded", output=TOKENS)
    version = Version(id=VERSION, openapi_schema=concatenate_schema())
    async with api.client() as client:
        assert await client.run(version, input={}) == "Hello"
    assert [m for m, _, _ in api.seen] == ["POST"]

"""``client.use()``: model functions that check their inputs before anything is sent."""

from __future__ import annotations

import asyncio
import copy
import pydoc
from pathlib import Path
from typing import Any

import pytest
from support import CALL_TIMEOUT, FakeTime, Twin

from replicate_async import Client, FileOutput, ModelFunction, UnprocessableEntityError
from replicate_async.emulator import Emulator
from replicate_async.emulator._catalog import VersionSpec
from replicate_async.emulator._schemas import HELLO_SCHEMA

LLAMA3 = "meta/meta-llama-3-8b-instruct"
SDXL = "stability-ai/sdxl"
HELLO = "replicate/hello-world"


def _creates(emu: Emulator) -> int:
    return sum(1 for r in emu.requests if r.method == "POST" and "predictions" in r.path)


async def test_a_model_function_runs_like_run(client: Client, twin: Twin) -> None:
    llama = client.use(LLAMA3)
    text = await twin(llama.run, prompt="Hi", max_tokens=16)
    assert isinstance(text, str) and text
    images = await asyncio.wait_for(client.use(SDXL)(prompt="a fox", num_outputs=2), CALL_TIMEOUT)
    assert len(images) == 2 and all(isinstance(i, FileOutput) for i in images)


async def test_a_bad_input_is_refused_locally_with_the_apis_error(
    client: Client, replicate_emulator: Emulator, twin: Twin
) -> None:
    llama = client.use(LLAMA3)
    await llama.load()
    before = _creates(replicate_emulator)
    with pytest.raises(UnprocessableEntityError) as caught:
        await twin(llama.run, prompt="Hi", max_tokens=0, temperature="hot", max_tokenz=3)
    assert caught.value.status == 422
    assert [(f["type"], f["field"]) for f in caught.value.invalid_fields] == [
        ("number_gte", "input.max_tokens"),
        ("type", "input.temperature"),
        ("additional_property_not_allowed", "input.max_tokenz"),
    ]
    assert "nothing was sent" in str(caught.value)
    assert _creates(replicate_emulator) == before  # nothing was created


async def test_legacy_pairs_and_required_fields_are_refused_locally(
    client: Client, replicate_emulator: Emulator
) -> None:
    llama = client.use(LLAMA3)
    with pytest.raises(UnprocessableEntityError) as caught:
        await llama(max_tokens=8, max_new_tokens=8)
    assert {f["type"] for f in caught.value.invalid_fields} == {"required", "mutually_exclusive"}
    assert _creates(replicate_emulator) == 0


async def test_a_refused_file_input_is_never_uploaded(
    client: Client, replicate_emulator: Emulator, tmp_path: Path
) -> None:
    image = tmp_path / "fox.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    sdxl = client.use(SDXL, file_encoding="upload")
    with pytest.raises(UnprocessableEntityError) as caught:
        await sdxl(prompt="a fox", image=image, num_outputs=9)
    assert [f["field"] for f in caught.value.invalid_fields] == ["input.num_outputs"]
    assert replicate_emulator.files == {}
    # The same path in a good input is a valid uri input: uploaded and run.
    out = await asyncio.wait_for(sdxl(prompt="a fox", image=image), CALL_TIMEOUT)
    assert len(out) == 1 and len(replicate_emulator.files) == 1


async def test_validate_false_lets_the_api_answer(
    client: Client, replicate_emulator: Emulator
) -> None:
    llama = client.use(LLAMA3, validate=False)
    with pytest.raises(UnprocessableEntityError) as caught:
        await llama(prompt="Hi", max_tokens=0)
    assert "nothing was sent" not in str(caught.value)
    assert _creates(replicate_emulator) == 1


async def test_run_validates_only_when_asked(
    client: Client, replicate_emulator: Emulator, twin: Twin
) -> None:
    with pytest.raises(UnprocessableEntityError) as local:
        await twin(client.run, SDXL, {"scheduler": "fast"}, validate=True)
    assert _creates(replicate_emulator) == 0
    with pytest.raises(UnprocessableEntityError) as remote:
        await twin(client.run, SDXL, {"scheduler": "fast"})
    assert _creates(replicate_emulator) == 1
    assert local.value.invalid_fields == remote.value.invalid_fields


async def test_an_unreachable_schema_leaves_the_input_unchecked(
    replicate_emulator: Emulator,
) -> None:
    replicate_emulator.faults.add(route="models.get", status=503, times=50)
    replicate_emulator.faults.add(route="models.versions.get", status=503, times=50)
    fake = FakeTime()  # the schema fetch retries its 503s: its backoff takes no real time
    async with replicate_emulator.client(sleep=fake.sleep) as client:
        with pytest.raises(UnprocessableEntityError) as caught:
            await asyncio.wait_for(
                client.run(f"{SDXL}", {"num_outputs": 0}, validate=True), CALL_TIMEOUT
            )
    assert "nothing was sent" not in str(caught.value)  # the API answered
    assert _creates(replicate_emulator) >= 1
    assert fake.sleeps  # the fetch was retried before the call went ahead unchecked


async def test_stream_create_and_batch_check_too(
    client: Client, replicate_emulator: Emulator, twin: Twin
) -> None:
    llama = client.use(LLAMA3)
    with pytest.raises(UnprocessableEntityError):
        async for _ in llama.stream(prompt="Hi", top_p=2):
            pass
    with pytest.raises(UnprocessableEntityError):
        await twin(llama.async_create, prompt=3)
    assert _creates(replicate_emulator) == 0
    prediction = await twin(llama.async_create, prompt="Hi")
    assert prediction.id and prediction.model == LLAMA3
    results = [r async for r in llama.batch([{"prompt": "a"}, {"top_k": -9}], ordered=True)]
    assert [r.status for r in results] == ["succeeded", "error"]
    assert isinstance(results[1].error, UnprocessableEntityError)
    assert _creates(replicate_emulator) == 2
    text = "".join([str(e) async for e in llama.stream(prompt="Hi", max_tokens=8)])
    assert text


def test_blocking_twins(emu: Emulator) -> None:
    with emu.client() as client:
        llama = client.use(LLAMA3).load_sync()
        assert llama.version is not None
        assert isinstance(llama.run_sync(prompt="Hi", max_tokens=4), str)
        assert "".join(str(e) for e in llama.stream_sync(prompt="Hi", max_tokens=4))
        assert llama.create(prompt="Hi").id
        results = list(llama.batch_sync([{"prompt": "a"}, {"prompt": "b"}]))
        assert sorted(r.status for r in results) == ["succeeded", "succeeded"]
        with pytest.raises(UnprocessableEntityError):
            llama.run_sync(prompt="Hi", seed=1.5)


async def test_help_says_how_to_load_then_shows_the_parameters(client: Client) -> None:
    llama = client.use(LLAMA3)
    before = pydoc.render_doc(llama, renderer=pydoc.plaintext)  # type: ignore[attr-defined]
    assert "await f.load()" in before and "max_tokens" not in before
    assert await llama.load() is llama
    after = pydoc.render_doc(llama, renderer=pydoc.plaintext)  # type: ignore[attr-defined]
    assert "max_tokens: integer, default 512, >= 1" in after
    assert "temperature: number, default 0.7, 0 to 5" in after
    assert "Maximum number of tokens to generate" in after
    assert "prompt: str" in after  # the signature
    sdxl = await client.use(SDXL).load()
    text = pydoc.render_doc(sdxl, renderer=pydoc.plaintext)  # type: ignore[attr-defined]
    assert "one of 'DDIM'" in text and "file (URL, path, bytes or file object)" in text


async def test_a_bad_reference_fails_at_once(client: Client) -> None:
    with pytest.raises(ValueError):
        client.use("not a model")


def _new_hello_version(emu: Emulator) -> str:
    catalog = emu._core.catalog
    model = catalog.models[HELLO]
    schema: dict[str, Any] = copy.deepcopy(HELLO_SCHEMA)
    props = schema["components"]["schemas"]["Input"]["properties"]
    props["text"]["maxLength"] = 10
    props["shout"] = {"type": "boolean", "default": False, "x-order": 1}
    version = VersionSpec("e" * 64, "2026-01-01T00:00:00Z", "0.9.0", schema, model.kind)
    catalog.add_version(model, version)
    return version.id


async def test_pin_keeps_the_version_of_first_use(
    client: Client, replicate_emulator: Emulator
) -> None:
    pinned = client.use(HELLO, pin=True)
    following = client.use(HELLO)
    first = await pinned.async_create(text="a")
    assert first.version == (pinned.version.id if pinned.version else None)
    newer = _new_hello_version(replicate_emulator)
    client._schemas.clear()  # as if the latest-version cache had expired
    assert (await pinned.async_create(text="b")).version == first.version
    assert pinned.ref == f"{HELLO}:{first.version}"
    assert (await following.async_create(text="c", shout=True)).version == newer
    with pytest.raises(UnprocessableEntityError) as caught:  # the old schema has no shout
        await pinned.async_create(text="d", shout=True)
    assert caught.value.invalid_fields[0]["field"] == "input.shout"


async def test_a_deployment_is_checked_against_its_release(
    client: Client, replicate_emulator: Emulator
) -> None:
    found = await client.models.async_get(SDXL)
    assert found.latest_version is not None
    created = await client.deployments.async_create(
        name="fox",
        model=SDXL,
        version=found.latest_version.id,
        hardware="gpu-t4",
        min_instances=0,
        max_instances=1,
    )
    fox = client.use(deployment=created.id)
    with pytest.raises(UnprocessableEntityError):
        await fox(prompt="a fox", refine="best")
    assert _creates(replicate_emulator) == 0
    assert isinstance(fox, ModelFunction)
    assert len(await asyncio.wait_for(fox(prompt="a fox"), CALL_TIMEOUT)) == 1

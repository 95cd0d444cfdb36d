"""``run()``: references, output shaping and terminal statuses, through both twins."""

from __future__ import annotations

import pytest
from run_support import GEMMA, HELLO, LLAMA3, SDXL, Twin

from replicate_async import (
    Client,
    InvalidReferenceError,
    ModelError,
    PredictionAbortedError,
    PredictionCanceledError,
)
from replicate_async._ops.file_output import FileOutput
from replicate_async.emulator import Emulator


async def test_llm_output_is_joined_text__peer_defect_2(
    twin: Twin, client: Client, replicate_emulator: Emulator
) -> None:
    output = await twin.run(client, LLAMA3, input={"prompt": "Hi", "seed": 1})
    assert isinstance(output, str) and output
    (job,) = replicate_emulator.predictions.values()
    assert output == "".join(job.output)


async def test_bare_version_id_is_a_model_reference__peer_defect_5(
    twin: Twin, client: Client, replicate_emulator: Emulator
) -> None:
    output = await twin.run(client, GEMMA, input={"prompt": "Hi"})
    assert isinstance(output, str) and output
    (create,) = [r for r in replicate_emulator.requests if r.method == "POST"]
    assert create.path == "/v1/predictions"


async def test_model_and_version_objects_are_references(twin: Twin, client: Client) -> None:
    model = await client.models.async_get("replicate/hello-world")
    assert await twin.run(client, model, input={"text": "model"}) == "hello model"
    assert model.latest_version is not None
    assert await twin.run(client, model.latest_version, input={"text": "v"}) == "hello v"


async def test_community_model_by_name_runs_its_latest_version(twin: Twin, client: Client) -> None:
    assert await twin.run(client, "replicate/hello-world", input={"text": "x"}) == "hello x"


async def test_deployment(twin: Twin, client: Client, replicate_emulator: Emulator) -> None:
    await client.deployments.async_create(
        name="greeter",
        model="replicate/hello-world",
        version=HELLO.split(":")[1],
        hardware="cpu",
        min_instances=0,
        max_instances=1,
    )
    owner = replicate_emulator.options.username
    output = await twin.run(client, deployment=f"{owner}/greeter", input={"text": "d"})
    assert output == "hello d"
    assert any(
        r.path == f"/v1/deployments/{owner}/greeter/predictions"
        for r in replicate_emulator.requests
    )


@pytest.mark.parametrize("ref", ["", "owner/", "a/b/c", "https://replicate.com/a/b", "abc", None])
async def test_invalid_reference_lists_the_accepted_forms(
    twin: Twin, client: Client, replicate_emulator: Emulator, ref: str | None
) -> None:
    with pytest.raises(InvalidReferenceError) as info:
        await twin.run(client, ref, input={})
    assert "owner/name:version" in str(info.value) and "64-hex" in str(info.value)
    assert replicate_emulator.requests == []


async def test_deployment_and_ref_together_is_an_error(twin: Twin, client: Client) -> None:
    with pytest.raises(ValueError, match="not both"):
        await twin.run(client, LLAMA3, deployment="acme/app", input={})


async def test_file_outputs_and_use_file_output_false__peer_defect_7(
    twin: Twin, client: Client, replicate_emulator: Emulator
) -> None:
    files = await twin.run(client, SDXL, input={"prompt": "a cat", "num_outputs": 2})
    assert [type(f) for f in files] == [FileOutput, FileOutput]
    assert all(f.url.startswith(replicate_emulator.delivery_url) for f in files)
    urls = await twin.run(client, SDXL, input={"prompt": "a cat"}, use_file_output=False)
    assert isinstance(urls, list) and isinstance(urls[0], str)
    assert urls[0].startswith(replicate_emulator.delivery_url)
    assert replicate_emulator.delivery_requests == []  # nothing was downloaded


async def test_url_in_text_output_stays_text__peer_defect_7(twin: Twin, client: Client) -> None:
    text = "https://example.com/cat.png"
    output = await twin.run(client, HELLO, input={"text": text})
    assert output == f"hello {text}" and type(output) is str


async def test_sync_quirk_processing_is_not_final__peer_defect_1(
    twin: Twin, replicate_emulator: Emulator
) -> None:
    # Sync mode may answer ``processing`` with the full output (and data: URIs for files)
    # before the prediction is terminal: run must wait for the final state.
    replicate_emulator.options.sync_quirk = True
    async with replicate_emulator.client() as client:
        files = await twin.run(client, SDXL, input={"prompt": "quirk"})
    (job,) = replicate_emulator.predictions.values()
    assert job.status == "succeeded"
    assert [f.url for f in files] == job.output  # delivery URLs, not the sync data: URIs
    assert not files[0].url.startswith("data:")
    gets = [r for r in replicate_emulator.requests if r.path == f"/v1/predictions/{job.id}"]
    streams = [r for r in replicate_emulator.requests if r.origin == "stream"]
    assert gets and streams  # it followed the prediction after the sync answer


async def test_run_follows_the_recorded_sync_answer_of_file_outputs__peer_defect_1(
    twin: Twin, client: Client, replicate_emulator: Emulator
) -> None:
    # By default the emulator answers a sync-mode create of a file-output model as the real
    # API was recorded to: ``processing`` with data: URIs. run() must still return the files
    # of the finished prediction.
    files = await twin.run(client, SDXL, input={"prompt": "recorded"})
    (job,) = replicate_emulator.predictions.values()
    assert job.status == "succeeded"
    assert [f.url for f in files] == job.output
    assert files[0].url.startswith(replicate_emulator.delivery_url)
    (create,) = [r for r in replicate_emulator.requests if r.method == "POST"]
    assert create.headers.get("Prefer", "").startswith("wait")
    gets = [r for r in replicate_emulator.requests if r.path == f"/v1/predictions/{job.id}"]
    streams = [r for r in replicate_emulator.requests if r.origin == "stream"]
    assert gets or streams  # the sync answer was not final: run followed the prediction


async def test_failed_raises_model_error_with_error_and_logs(twin: Twin, client: Client) -> None:
    with pytest.raises(ModelError) as info:
        await twin.run(client, "replicate/always-fails", input={})
    error = info.value
    assert "this model always fails" in str(error)
    assert error.prediction is not None and error.prediction.status == "failed"
    assert "this model always fails" in str(error.error)
    assert error.logs is not None and "Traceback" in error.logs


@pytest.mark.replicate_emulator(model_timings={"stability-ai/sdxl": (0.0, 100.0)})
async def test_canceled_raises__peer_defect_6(twin: Twin, client: Client) -> None:
    # Runs 100 emulated seconds; its deadline cancels it after 5 while it runs.
    with pytest.raises(PredictionCanceledError) as info:
        await twin.run(client, SDXL, input={"prompt": "x"}, cancel_after="5s")
    assert info.value.prediction is not None
    assert info.value.prediction.status == "canceled"


@pytest.mark.replicate_emulator(model_timings={"stability-ai/sdxl": (100.0, 1.0)})
async def test_aborted_is_terminal_and_raises__peer_defect_4(
    twin: Twin, client: Client, replicate_emulator: Emulator
) -> None:
    # Queued for 100 emulated seconds; the 5 s deadline passes before it starts.
    with pytest.raises(PredictionAbortedError):
        await twin.run(client, SDXL, input={"prompt": "x"}, cancel_after=5, wait=False)
    (job,) = replicate_emulator.predictions.values()
    assert job.status == "aborted"
    (create,) = [r for r in replicate_emulator.requests if r.method == "POST"]
    assert create.headers["Cancel-After"] == "5s"


async def test_model_run_by_name_looks_its_latest_version_up_once(
    client: Client, replicate_emulator: Emulator
) -> None:
    for text in ("a", "b", "c"):
        assert await client.run("replicate/hello-world", input={"text": text}) == f"hello {text}"
    ops = replicate_emulator.stats.by_operation
    assert ops["models.get"] == 1  # says it is not official and names its latest version
    assert ops["models.predictions.create"] == 0  # so no create is refused
    assert ops["predictions.create"] == 3


async def test_official_model_run_by_name_uses_its_endpoint_after_one_lookup(
    client: Client, replicate_emulator: Emulator
) -> None:
    for prompt in ("a", "b"):
        await client.run("meta/meta-llama-3-8b-instruct", input={"prompt": prompt})
    ops = replicate_emulator.stats.by_operation
    assert ops["models.get"] == 1 and ops["models.predictions.create"] == 2
    assert ops["predictions.create"] == 0


async def test_model_lookup_failing_falls_back_to_probing_the_create(
    client: Client, replicate_emulator: Emulator
) -> None:
    # The lookup is an optimisation: when it fails, the create itself finds the way.
    replicate_emulator.faults.add(route="models.get", status=404, times=1)
    assert await client.run("replicate/hello-world", input={"text": "x"}) == "hello x"
    ops = replicate_emulator.stats.by_operation
    assert ops["models.predictions.create"] == 1  # refused: not an official model
    assert ops["models.get"] == 2  # the failed lookup, then the one that names the version
    assert ops["predictions.create"] == 1

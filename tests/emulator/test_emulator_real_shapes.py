"""Field and URL shapes that must match recorded real traffic (replicate/replicate-python's
``tests/cassettes``) and the published spec, so that real clients cannot tell the difference."""

from __future__ import annotations

import re

import aiohttp
import pytest
from emu_helpers import SDXL, call, poll

from replicate_async.emulator import Emulator
from replicate_async.emulator._catalog_defs import build_catalog
from replicate_async.emulator._schemas import SDXL_VERSION_JSON


async def test_delivery_urls_have_the_recorded_shape(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    # default_example of stability-ai/sdxl (models-get recordings):
    # https://pbxt.replicate.delivery/YXbcLudoHBIYHV6L0HbcTx5iRzLFMwygLr3vhGpZI35caXbE/out-0.png
    emu = replicate_emulator
    _, pred, _ = await call(
        http,
        "POST",
        f"{emu.url}/predictions",
        json={"version": SDXL, "input": {"prompt": "x", "width": 16, "height": 16}},
        expect=201,
    )
    done = await poll(http, pred["urls"]["get"])
    [url] = done["output"]
    assert re.fullmatch(re.escape(emu.delivery_url) + r"/pbxt/[A-Za-z0-9]{48}/out-0\.png", url)


async def test_uploaded_file_ids_have_the_recorded_shape(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    # file-operations.yaml: "id":"NGZiNmY2YzQtMThhZi00ZjcyLWFhZjktODg4NTY0NWNlMDEy" = base64(uuid)
    import base64
    import uuid

    form = aiohttp.FormData()
    form.add_field("content", b"hello", filename="a.txt", content_type="text/plain")
    _, body, _ = await call(http, "POST", f"{replicate_emulator.url}/files", data=form, expect=201)
    assert re.fullmatch(r"[A-Za-z0-9]{48}", body["id"])
    uuid.UUID(base64.b64decode(body["id"]).decode())
    assert body["urls"]["get"] == f"{replicate_emulator.url}/files/{body['id']}"


async def test_trainings_send_null_for_unset_fields_and_nothing_extra(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    # trainings-cancel.yaml / trainings-get.yaml: "output": null, no data_removed, no urls.web.
    emu = replicate_emulator
    await call(
        http,
        "POST",
        f"{emu.url}/models",
        json={
            "owner": "emulator",
            "name": "shapes-dest",
            "visibility": "private",
            "hardware": "cpu",
        },
        expect=201,
    )
    _, model, _ = await call(http, "GET", f"{emu.url}/models/replicate/fast-flux-trainer")
    version = model["latest_version"]["id"]
    _, training, _ = await call(
        http,
        "POST",
        f"{emu.url}/models/replicate/fast-flux-trainer/versions/{version}/trainings",
        json={"destination": "emulator/shapes-dest", "input": {"input_images": "data:,x"}},
        expect=201,
    )
    for body in (training, (await call(http, "GET", training["urls"]["get"]))[1]):
        assert body["output"] is None and body["completed_at"] is None
        assert "data_removed" not in body and "web" not in body["urls"]
    done = await poll(http, training["urls"]["get"])
    assert done["completed_at"] and done["output"]["version"].startswith("emulator/shapes-dest:")
    assert "data_removed" not in done


async def test_models_carry_weights_url_null(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    # GET /models/stability-ai/sdxl in test_predictions_create_blocking[True-True].yaml:
    # "weights_url": null
    _, model, _ = await call(http, "GET", f"{replicate_emulator.url}/models/stability-ai/sdxl")
    assert "weights_url" in model and model["weights_url"] is None
    _, page, _ = await call(http, "GET", f"{replicate_emulator.url}/models")
    assert all(m["weights_url"] is None for m in page["results"])


async def test_files_have_md5_checksum_and_unquoted_md5_etag(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    # file-operations.yaml: "etag":"d41d8cd98f00b204e9800998ecf8427e" and checksums.md5 (empty file)
    form = aiohttp.FormData()
    form.add_field("content", b"", filename="empty.txt", content_type="text/plain")
    _, body, _ = await call(http, "POST", f"{replicate_emulator.url}/files", data=form, expect=201)
    assert body["etag"] == "d41d8cd98f00b204e9800998ecf8427e"
    assert body["checksums"] == {
        "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "md5": "d41d8cd98f00b204e9800998ecf8427e",
    }


async def test_llm_examples_carry_token_metrics_and_no_stream_url(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    # predictions-stream.yaml: the default_example of meta/llama-2-70b-chat, a finished
    # prediction of a streaming model, has urls {get, cancel} and no stream.
    emu = replicate_emulator
    for ref in ("meta/meta-llama-3-8b-instruct", "meta/llama-2-7b-chat", "stability-ai/sdxl"):
        _, model, _ = await call(http, "GET", f"{emu.url}/models/{ref}")
        _, page, _ = await call(http, "GET", f"{emu.url}/models/{ref}/examples")
        examples = [model["default_example"], *page["results"]]
        assert len(examples) >= 3
        for example in examples:
            get = f"{emu.url}/predictions/{example['id']}"
            assert example["urls"]["get"] == get and example["urls"]["cancel"] == get + "/cancel"
            assert "stream" not in example["urls"]
    _, model, _ = await call(http, "GET", f"{emu.url}/models/meta/meta-llama-3-8b-instruct")
    example = model["default_example"]
    metrics = example["metrics"]
    assert metrics["output_token_count"] == len(example["output"])
    for key in ("input_token_count", "time_to_first_token", "tokens_per_second", "total_time"):
        assert metrics[key] > 0


async def test_sdxl_is_served_with_its_recorded_version(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    # GET /models/stability-ai/sdxl in test_predictions_create_blocking[True-True].yaml.
    emu = replicate_emulator
    _, version, _ = await call(
        http, "GET", f"{emu.url}/models/stability-ai/sdxl/versions/{SDXL}", expect=200
    )
    assert version["created_at"] == "2024-05-23T23:26:26.222931Z"
    assert version["cog_version"] == "0.9.5"
    schemas = version["openapi_schema"]["components"]["schemas"]
    assert {
        "disable_safety_checker",
        "high_noise_frac",
        "lora_scale",
        "mask",
        "prompt_strength",
        "refine_steps",
        "replicate_weights",
    } <= set(schemas["Input"]["properties"])
    assert len(schemas["Input"]["properties"]) == 19
    assert schemas["TrainingInput"]["required"] == ["input_images"]
    assert schemas["scheduler"]["enum"] == [
        "DDIM",
        "DPMSolverMultistep",
        "HeunDiscrete",
        "KarrasDPM",
        "K_EULER_ANCESTRAL",
        "K_EULER",
        "PNDM",
    ]
    # The recorded input ranges are enforced: lora_scale is 0..1 in the real schema.
    _, bad, _ = await call(
        http,
        "POST",
        f"{emu.url}/predictions",
        json={"version": SDXL, "input": {"prompt": "x", "lora_scale": 1.5}},
        expect=422,
    )
    assert bad["invalid_fields"][0]["field"] == "input.lora_scale"


def test_only_recorded_versions_carry_real_ids() -> None:
    # A model served under a real version id must carry that version's real schema; every
    # other version has an id of the emulator's own: 64 hex digits starting with 16 zeros.
    recorded = {SDXL_VERSION_JSON["id"]: SDXL_VERSION_JSON}
    catalog = build_catalog()
    versions = [v for m in catalog.models.values() for v in m.versions]
    assert len(versions) >= 10
    for version in versions:
        if version.id in recorded:
            assert version.to_json() == recorded[version.id]
        else:
            assert re.fullmatch("0{16}[0-9a-f]{48}", version.id), version.id
    for model in catalog.models.values():
        assert re.fullmatch("dp-0{16}[0-9a-f]{16}", model.official_version_id)


@pytest.mark.parametrize(
    "ref",
    [
        # Real ids whose schemas no recording holds (Replicate's docs, the API reference).
        "google-deepmind/gemma-7b-it:2790a695e5dcae15506138cc4718d1106d0d475e6dca4b1d43f42414647993d5",
        "replicate/hello-world:9dcd6d78e7c6560c340d916fe32e9f24aabfa331e5cce95fe31f77fb03121426",
        "replicate/hello-world:5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa",
    ],
)
async def test_real_ids_without_a_recorded_schema_are_unknown(
    replicate_emulator: Emulator, http: aiohttp.ClientSession, ref: str
) -> None:
    model, _, vid = ref.partition(":")
    await call(http, "GET", f"{replicate_emulator.url}/models/{model}/versions/{vid}", expect=404)
    _, problem, _ = await call(
        http,
        "POST",
        f"{replicate_emulator.url}/predictions",
        json={"version": vid, "input": {"text": "Alice", "prompt": "hi"}},
        expect=422,
    )
    assert problem["title"] == "Invalid version or not permitted"

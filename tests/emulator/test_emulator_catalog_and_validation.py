"""Model behaviours (text, images, files) and Cog-schema input validation."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import aiohttp
import pytest
from emu_helpers import HELLO, LLAMA3, SDXL, call, poll

from replicate_async.emulator import Emulator
from replicate_async.emulator._png import png_size, render_png
from replicate_async.emulator._textgen import generate_tokens, render_prompt


async def run(
    http: aiohttp.ClientSession, emu: Emulator, version: str, inp: dict[str, Any], expect: int = 201
) -> dict[str, Any]:
    _, body, _ = await call(
        http,
        "POST",
        f"{emu.url}/predictions",
        json={"version": version, "input": inp},
        headers={"Prefer": "wait"},
        expect=expect,
    )
    if expect == 201 and body["status"] == "processing":
        # A file-output model's sync answer comes before the end (as recorded): follow it.
        body = await poll(http, body["urls"]["get"])
    return dict(body)


def test_llama3_schema_matches_seed_document() -> None:
    from replicate_async.emulator._schemas_llm import LLAMA3_SCHEMA

    inp = LLAMA3_SCHEMA["components"]["schemas"]["Input"]
    assert list(inp["properties"]) == [
        "prompt",
        "system_prompt",
        "max_tokens",
        "min_tokens",
        "temperature",
        "top_p",
        "top_k",
        "stop_sequences",
        "length_penalty",
        "presence_penalty",
        "seed",
        "prompt_template",
        "log_performance_metrics",
        "max_new_tokens",
        "min_new_tokens",
    ]
    assert inp["required"] == ["prompt"]
    props = inp["properties"]
    assert [p["x-order"] for p in props.values()] == list(range(15))
    assert props["temperature"] == {
        "title": "Temperature",
        "type": "number",
        "description": props["temperature"]["description"],
        "default": 0.7,
        "minimum": 0,
        "maximum": 5,
        "x-order": 4,
    }
    assert props["stop_sequences"]["default"] == "<|end_of_text|>,<|eot_id|>"
    out = LLAMA3_SCHEMA["components"]["schemas"]["Output"]
    assert out["x-cog-array-type"] == "iterator" and out["x-cog-array-display"] == "concatenate"


@pytest.mark.parametrize(
    ("inp", "kind", "field"),
    [
        ({}, "required", "input.prompt"),
        ({"prompt": "x", "temperature": 9}, "number_lte", "input.temperature"),
        ({"prompt": "x", "top_k": -5}, "number_gte", "input.top_k"),
        ({"prompt": "x", "max_tokens": "many"}, "type", "input.max_tokens"),
        ({"prompt": "x", "max_tokens": 5, "max_new_tokens": 5}, None, "input.max_new_tokens"),
        ({"prompt": "x", "min_tokens": 5, "min_new_tokens": 5}, None, "input.min_new_tokens"),
    ],
)
async def test_llm_validation(
    replicate_emulator: Emulator,
    http: aiohttp.ClientSession,
    inp: dict[str, Any],
    kind: str | None,
    field: str,
) -> None:
    _, body, headers = await call(
        http,
        "POST",
        f"{replicate_emulator.url}/models/{LLAMA3}/predictions",
        json={"input": inp},
        expect=422,
    )
    assert headers["Content-Type"].startswith("application/problem+json")
    problem = body["invalid_fields"][0]
    assert problem["field"] == field
    if kind:
        assert problem["type"] == kind
    assert body["detail"].startswith(f"- {field}: ")
    assert body["status"] == 422


async def test_enum_via_allof_ref(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    body = await run(http, replicate_emulator, SDXL, {"prompt": "x", "refine": "nope"}, 422)
    (problem,) = body["invalid_fields"]
    assert problem["type"] == "enum" and problem["field"] == "input.refine"
    assert '"expert_ensemble_refiner"' in problem["description"]
    ok = await run(
        http,
        replicate_emulator,
        SDXL,
        {"prompt": "x", "refine": "expert_ensemble_refiner", "width": 8, "height": 8},
    )
    assert ok["status"] == "succeeded"


async def test_multiple_problems_one_line_each(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    body = await run(
        http, replicate_emulator, SDXL, {"width": "wide", "num_outputs": 9}, expect=422
    )
    assert len(body["invalid_fields"]) == 2
    assert body["detail"].count("\n") == 2


async def test_unknown_inputs_ignored_unless_strict(
    emulator_factory: Any, http: aiohttp.ClientSession
) -> None:
    async with emulator_factory() as emu:
        assert (await run(http, emu, HELLO, {"text": "a", "extra": 1}))["status"] == "succeeded"
    async with emulator_factory(strict_inputs=True) as emu:
        body = await run(http, emu, HELLO, {"text": "a", "extra": 1}, expect=422)
        assert body["invalid_fields"][0]["type"] == "additional_property_not_allowed"


async def test_sdxl_pngs_served_from_delivery(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emu = replicate_emulator
    inp = {"prompt": "a cat", "width": 40, "height": 24, "num_outputs": 2, "seed": 5}
    body = await run(http, emu, SDXL, inp)
    assert len(body["output"]) == 2
    async with aiohttp.ClientSession() as anon:
        datas = []
        for url in body["output"]:
            assert url.startswith(emu.delivery_url + "/pbxt/") and url.endswith(".png")
            async with anon.get(url) as resp:
                assert resp.status == 200 and resp.content_type == "image/png"
                datas.append(await resp.read())
        assert all(png_size(d) == (40, 24) for d in datas)
        again = await run(http, emu, SDXL, inp)
        async with anon.get(again["output"][0]) as resp:
            assert await resp.read() == datas[0]
        await call(anon, "GET", emu.delivery_url + "/pbxt/nothing/out-0.png", expect=404)
    # the client never has to send the token there: the record proves it
    records = [r for r in emu.delivery_requests if r.path.endswith(".png")]
    assert records and not any(r.had_authorization for r in records)
    async with http.get(body["output"][0]) as resp:
        assert resp.status == 200
    assert emu.delivery_requests[-1].had_authorization
    assert emu.delivery_requests[-1].headers["Authorization"] == "<redacted>"


async def test_hello_world_versions(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    old = "0000000000000000b67bd330526532a2c38286724803ddbbea2833fef099e6a5"
    for version in (HELLO, old, f"replicate/hello-world:{old}"):
        body = await run(http, replicate_emulator, version, {"text": "Alice"})
        assert body["output"] == "hello Alice" and body["model"] == "replicate/hello-world"


async def test_echo_file_reads_data_uri(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    model = replicate_emulator._core.catalog.models["replicate/echo-file"]
    assert model.latest is not None
    payload = b"hello file"
    uri = "data:text/plain;base64," + base64.b64encode(payload).decode()
    body = await run(http, replicate_emulator, model.latest.id, {"file": uri})
    assert body["output"] == {
        "size": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
        "content_type": "text/plain",
    }
    bad = await run(http, replicate_emulator, model.latest.id, {"file": "nope://x"})
    assert bad["status"] == "failed"
    body = await run(http, replicate_emulator, model.latest.id, {"file": "no-scheme"}, 422)
    assert body["invalid_fields"][0]["type"] == "format"


def test_textgen_honours_limits_and_stops() -> None:
    tokens = generate_tokens("p", seed=1, max_tokens=7)
    assert len(tokens) == 7
    assert generate_tokens("p", seed=1, max_tokens=7) == tokens
    long = generate_tokens("p", seed=1, max_tokens=1000, min_tokens=300)
    assert len(long) >= 300
    text = "".join(generate_tokens("p", seed=2, max_tokens=500))
    word = text.split()[3]
    stopped = "".join(generate_tokens("p", seed=2, max_tokens=500, stop_sequences=[word]))
    assert word not in stopped and text.startswith(stopped)
    assert render_prompt("[{system_prompt}] {prompt}", "hi", "sys") == "[sys] hi"


def test_png_writer() -> None:
    data = render_png(3, 2, "k")
    assert png_size(data) == (3, 2)
    assert render_png(3, 2, "k") == data != render_png(3, 2, "other")

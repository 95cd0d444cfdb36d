"""One validator, two places: inputs checked locally give the emulator's 422 answer.

Every case is sent to the emulator (``predictions.create``; files become URLs on the way, as
in any run) and checked locally against the schema the emulator serves for that version. The
two must agree field for field, and both must match the outcome the case states (so a check
that both sides lost would still fail here).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replicate_async import Client, UnprocessableEntityError
from replicate_async._core.input_schema import InputValidator
from replicate_async.emulator import Emulator

LLAMA3 = "meta/meta-llama-3-8b-instruct"
SDXL = "stability-ai/sdxl"

Case = tuple[dict[str, Any], list[tuple[str, str]]]  # input, expected (type, field) problems

LLAMA3_CASES: list[Case] = [
    ({"prompt": "Hi"}, []),
    ({"prompt": "Hi", "max_tokens": 64}, []),
    ({"prompt": "Hi", "max_tokens": 1}, []),
    ({"prompt": "Hi", "max_tokens": 0}, [("number_gte", "input.max_tokens")]),
    ({"prompt": "Hi", "max_tokens": -5}, [("number_gte", "input.max_tokens")]),
    ({"prompt": "Hi", "max_tokens": 64.0}, []),
    ({"prompt": "Hi", "max_tokens": 64.5}, [("type", "input.max_tokens")]),
    ({"prompt": "Hi", "max_tokens": "64"}, [("type", "input.max_tokens")]),
    ({"prompt": "Hi", "max_tokens": True}, [("type", "input.max_tokens")]),
    ({"prompt": "Hi", "min_tokens": -1}, []),
    ({"prompt": "Hi", "min_tokens": -2}, [("number_gte", "input.min_tokens")]),
    ({"prompt": "Hi", "temperature": 0}, []),
    ({"prompt": "Hi", "temperature": 5}, []),
    ({"prompt": "Hi", "temperature": 0.75}, []),
    ({"prompt": "Hi", "temperature": 5.01}, [("number_lte", "input.temperature")]),
    ({"prompt": "Hi", "temperature": -0.1}, [("number_gte", "input.temperature")]),
    ({"prompt": "Hi", "temperature": "hot"}, [("type", "input.temperature")]),
    ({"prompt": "Hi", "top_p": 1}, []),
    ({"prompt": "Hi", "top_p": 1.5}, [("number_lte", "input.top_p")]),
    ({"prompt": "Hi", "top_k": -1}, []),
    ({"prompt": "Hi", "top_k": -2}, [("number_gte", "input.top_k")]),
    ({"prompt": "Hi", "top_k": 50}, []),
    ({"prompt": "Hi", "length_penalty": 0}, []),
    ({"prompt": "Hi", "length_penalty": 6}, [("number_lte", "input.length_penalty")]),
    ({"prompt": "Hi", "presence_penalty": -100}, []),
    ({"prompt": "Hi", "presence_penalty": [1]}, [("type", "input.presence_penalty")]),
    ({"prompt": "Hi", "seed": 42}, []),
    ({"prompt": "Hi", "seed": 4.2}, [("type", "input.seed")]),
    ({"prompt": "Hi", "seed": None}, []),
    ({"prompt": "Hi", "stop_sequences": "<end>,<stop>"}, []),
    ({"prompt": "Hi", "stop_sequences": ["<end>"]}, [("type", "input.stop_sequences")]),
    ({"prompt": "Hi", "system_prompt": "Be terse."}, []),
    ({"prompt": "Hi", "system_prompt": 7}, [("type", "input.system_prompt")]),
    ({"prompt": "Hi", "log_performance_metrics": True}, []),
    (
        {"prompt": "Hi", "log_performance_metrics": "yes"},
        [("type", "input.log_performance_metrics")],
    ),
    ({"prompt": "Hi", "prompt_template": "[INST] {prompt} [/INST]"}, []),
    ({"prompt": "Hi", "max_new_tokens": 64}, []),
    ({"prompt": "Hi", "max_new_tokens": 0}, [("number_gte", "input.max_new_tokens")]),
    (
        {"prompt": "Hi", "max_tokens": 64, "max_new_tokens": 64},
        [("mutually_exclusive", "input.max_new_tokens")],
    ),
    ({"prompt": "Hi", "max_tokens": None, "max_new_tokens": 64}, []),
    (
        {"prompt": "Hi", "min_tokens": 1, "min_new_tokens": 1},
        [("mutually_exclusive", "input.min_new_tokens")],
    ),
    ({"prompt": "Hi", "min_new_tokens": -3}, [("number_gte", "input.min_new_tokens")]),
    ({}, [("required", "input.prompt")]),
    ({"prompt": None}, [("required", "input.prompt")]),
    ({"prompt": 12}, [("type", "input.prompt")]),
    ({"prompt": {"text": "Hi"}}, [("type", "input.prompt")]),
    (
        {"max_tokens": 0, "temperature": 9, "top_p": -1},
        [
            ("number_gte", "input.max_tokens"),
            ("number_lte", "input.temperature"),
            ("number_gte", "input.top_p"),
            ("required", "input.prompt"),
        ],
    ),
    ({"prompt": "Hi", "max_tokenz": 64}, [("additional_property_not_allowed", "input.max_tokenz")]),
]

SDXL_CASES: list[Case] = [
    ({}, []),
    ({"prompt": "a fox"}, []),
    ({"prompt": "a fox", "num_outputs": 4}, []),
    ({"prompt": "a fox", "num_outputs": 5}, [("number_lte", "input.num_outputs")]),
    ({"prompt": "a fox", "num_outputs": 0}, [("number_gte", "input.num_outputs")]),
    ({"prompt": "a fox", "scheduler": "DDIM"}, []),
    ({"prompt": "a fox", "scheduler": "ddim"}, [("enum", "input.scheduler")]),
    ({"prompt": "a fox", "scheduler": 3}, [("type", "input.scheduler")]),
    ({"prompt": "a fox", "refine": "expert_ensemble_refiner"}, []),
    ({"prompt": "a fox", "refine": "best"}, [("enum", "input.refine")]),
    ({"prompt": "a fox", "guidance_scale": 1}, []),
    ({"prompt": "a fox", "guidance_scale": 0.5}, [("number_gte", "input.guidance_scale")]),
    ({"prompt": "a fox", "guidance_scale": 51}, [("number_lte", "input.guidance_scale")]),
    ({"prompt": "a fox", "num_inference_steps": 500}, []),
    (
        {"prompt": "a fox", "num_inference_steps": 501},
        [("number_lte", "input.num_inference_steps")],
    ),
    ({"prompt": "a fox", "width": 768, "height": 512}, []),
    ({"prompt": "a fox", "width": "768"}, [("type", "input.width")]),
    ({"prompt": "a fox", "apply_watermark": False}, []),
    ({"prompt": "a fox", "apply_watermark": 0}, [("type", "input.apply_watermark")]),
    ({"prompt": "a fox", "image": "https://example.com/fox.png"}, []),
    ({"prompt": "a fox", "image": "data:image/png;base64,iVBORw0KGgo="}, []),
    ({"prompt": "a fox", "image": "fox.png"}, [("format", "input.image")]),
    ({"prompt": "a fox", "image": 5}, [("type", "input.image")]),
    ({"prompt": "a fox", "image": b"\x89PNG\r\n\x1a\n"}, []),
    ({"prompt": "a fox", "image": io.BytesIO(b"GIF89a")}, []),
    ({"prompt": "a fox", "image": "PATH"}, []),  # a pathlib.Path (see _materialise)
    (
        {"prompt": "a fox", "num_outputs": 9, "scheduler": "x", "image": "x"},
        [
            ("number_lte", "input.num_outputs"),
            ("enum", "input.scheduler"),
            ("format", "input.image"),
        ],
    ),
    ({"prompt": "a fox", "steps": 20}, [("additional_property_not_allowed", "input.steps")]),
]


def _materialise(given: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """Fresh values per use (a file object is read once) and real paths for ``"PATH"``."""
    out: dict[str, Any] = {}
    for key, value in given.items():
        if value == "PATH":
            path = tmp_path / "fox.png"
            path.write_bytes(b"\x89PNG\r\n\x1a\n")
            value = path
        elif isinstance(value, io.BytesIO):
            value = io.BytesIO(value.getvalue())
        out[key] = value
    return out


async def _server_answer(client: Client, ref: str, given: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        await client.predictions.async_create(version=ref, input=given)
    except UnprocessableEntityError as exc:
        assert exc.invalid_fields, exc
        return exc.invalid_fields
    return []


async def _compare(
    client: Client, model: str, cases: list[Case], strict: bool, tmp_path: Path
) -> int:
    found = await client.models.async_get(model)
    assert found.latest_version is not None
    schema = found.latest_version.openapi_schema
    assert isinstance(schema, dict)
    validator = InputValidator.from_openapi(schema)
    ref = f"{model}:{found.latest_version.id}"
    compared = 0
    for sample, expected in cases:
        if not strict:
            expected = [e for e in expected if e[0] != "additional_property_not_allowed"]
        local = validator.check_local(_materialise(sample, tmp_path), strict=strict)
        server = await _server_answer(client, ref, _materialise(sample, tmp_path))
        assert local == server, (sample, local, server)
        assert [(e["type"], e["field"]) for e in local] == expected, sample
        compared += 1
    return compared


@pytest.mark.parametrize(
    "strict",
    [
        pytest.param(False, marks=pytest.mark.replicate_emulator(strict_inputs=False)),
        pytest.param(True, marks=pytest.mark.replicate_emulator(strict_inputs=True)),
    ],
)
async def test_local_answers_equal_the_emulators(
    client: Client, strict: bool, tmp_path: Path
) -> None:
    compared = await _compare(client, LLAMA3, LLAMA3_CASES, strict, tmp_path)
    compared += await _compare(client, SDXL, SDXL_CASES, strict, tmp_path)
    assert compared >= 70


# -- generated inputs: the same agreement on inputs nobody wrote by hand ----------------------
_LLAMA3_FIELDS = [
    "prompt",
    "system_prompt",
    "max_tokens",
    "min_tokens",
    "temperature",
    "top_p",
    "top_k",
    "seed",
    "max_new_tokens",
    "min_new_tokens",
    "log_performance_metrics",
    "unknown_field",
]
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-10, max_value=10),
    st.floats(min_value=-2, max_value=8, allow_nan=False),
    st.sampled_from(["", "Hi", "DDIM", "https://example.com/x.png", "x"]),
    st.lists(st.integers(0, 3), max_size=2),
)


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(sample=st.dictionaries(st.sampled_from(_LLAMA3_FIELDS), _VALUES, max_size=6))
def test_generated_inputs_get_the_same_answer(emu: Emulator, sample: dict[str, Any]) -> None:
    with emu.client() as client:
        found = client.models.get(LLAMA3)
        assert found.latest_version is not None and found.latest_version.openapi_schema
        validator = InputValidator.from_openapi(found.latest_version.openapi_schema)
        ref = f"{LLAMA3}:{found.latest_version.id}"
        local = validator.check_local(sample, strict=False)
        try:
            client.predictions.create(version=ref, input=sample)
            server: list[dict[str, Any]] = []
        except UnprocessableEntityError as exc:
            server = exc.invalid_fields
        assert local == server, (sample, local, server)

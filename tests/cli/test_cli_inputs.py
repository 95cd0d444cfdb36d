"""``-i`` values by the model's input schema: unknown names refused with the nearest valid
one, values converted by their declared type (the real console script, and the pure parts)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_support import LLAMA, SDXL, script, script_env
from hypothesis import given, settings
from hypothesis import strategies as st

from replicate_async.cli._errors import CliError
from replicate_async.cli._inputs import apply_schema, input_schema
from replicate_async.emulator import Emulator

SCHEMA: dict[str, Any] = {
    "components": {
        "schemas": {
            "Input": {
                "properties": {
                    "prompt": {"type": "string"},
                    "steps": {"type": "integer"},
                    "guidance": {"type": "number"},
                    "hdr": {"type": "boolean"},
                    "stops": {"type": "array", "items": {"type": "string"}},
                    "extra": {"type": "object"},
                    "scheduler": {"allOf": [{"$ref": "#/components/schemas/scheduler"}]},
                    "seed": {"description": "no declared type"},
                }
            },
            "scheduler": {"type": "string", "enum": ["DDIM", "K_EULER"]},
        }
    }
}
PROPS = input_schema(SCHEMA)


def test_values_follow_the_declared_types(tmp_path: Path) -> None:
    image = tmp_path / "cat.png"
    image.write_bytes(b"png")
    raw = {
        "prompt": "2024",
        "steps": " 20",
        "guidance": "7.5",
        "hdr": "yes",
        "stops": '["a", "b"]',
        "extra": '{"k": 1}',
        "scheduler": "DDIM",
        "seed": "42",
    }
    assert PROPS is not None
    assert apply_schema(raw, PROPS, model="m") == {
        "prompt": "2024",  # a string field stays a string, digits or not
        "steps": 20,
        "guidance": 7.5,
        "hdr": True,
        "stops": ["a", "b"],
        "extra": {"k": 1},
        "scheduler": "DDIM",  # declared through $ref/allOf, as cog does
        "seed": 42,  # no declared type: guessed as without a schema
    }
    assert apply_schema({"prompt": f"@{image}"}, PROPS, model="m") == {"prompt": image}
    assert apply_schema({"prompt": "@@me"}, PROPS, model="m") == {"prompt": "@me"}
    assert apply_schema({"guidance": "3"}, PROPS, model="m") == {"guidance": 3}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"steps": "2.5"}, "'steps' must be a whole number, got '2.5'"),
        ({"guidance": "lots"}, "'guidance' must be a number"),
        ({"guidance": "nan"}, "'guidance' must be a finite number"),
        ({"hdr": "maybe"}, "'hdr' must be true or false"),
        ({"stops": "a,b"}, "'stops' takes JSON"),
        ({"stops": '{"a": 1}'}, "'stops' must be a JSON array"),
        ({"extra": "[1]"}, "'extra' must be a JSON object"),
        ({"promt": "hi"}, "m has no input 'promt'; did you mean 'prompt'?"),
        ({"zzzzzz": "hi"}, "m has no input 'zzzzzz'\nits inputs: extra, guidance, hdr"),
    ],
)
def test_bad_values_and_names_are_usage_errors(raw: dict[str, str], message: str) -> None:
    assert PROPS is not None
    with pytest.raises(CliError) as caught:
        apply_schema(raw, PROPS, model="m")
    assert message in caught.value.message


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.text(max_size=20))
def test_a_string_field_keeps_any_text_as_given(text: str) -> None:
    assert PROPS is not None
    if text.startswith("@"):
        return  # @path names a file (tested above)
    assert apply_schema({"prompt": text}, PROPS, model="m") == {"prompt": text}


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.integers(-(10**12), 10**12))
def test_integers_round_trip(number: int) -> None:
    assert PROPS is not None
    assert apply_schema({"steps": str(number)}, PROPS, model="m") == {"steps": number}


def test_no_schema_means_no_properties() -> None:
    assert input_schema(None) is None
    assert input_schema({"components": {}}) is None


# -- through the console script -------------------------------------------------------------


def _env(emu: Emulator) -> dict[str, str]:
    return script_env(REPLICATE_API_TOKEN="r8_cli_tests", REPLICATE_BASE_URL=emu.url)


def test_a_misspelled_input_names_the_nearest_one(emu: Emulator, tmp_path: Path) -> None:
    result = script("run", LLAMA, "-i", "promt=hi", env=_env(emu), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert f"{LLAMA} has no input 'promt'; did you mean 'prompt'?" in result.stderr
    assert "is required" not in result.stderr
    assert not emu.predictions  # refused before anything was created (or paid for)
    as_json = script("run", LLAMA, "-i", "promt=hi", "--json", env=_env(emu), cwd=tmp_path)
    assert as_json.returncode == 2
    assert "did you mean 'prompt'" in json.loads(as_json.stdout)["message"]


def test_digits_for_a_string_input_are_sent_as_text(emu: Emulator, tmp_path: Path) -> None:
    args = ("run", LLAMA, "-i", "prompt=2024", "-i", "max_tokens=5", "--json")
    result = script(*args, env=_env(emu), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    [prediction] = emu.predictions.values()
    assert prediction.input["prompt"] == "2024"
    assert prediction.input["max_tokens"] == 5


def test_a_pinned_version_is_read_for_its_types(emu: Emulator, tmp_path: Path) -> None:
    args = ("run", SDXL, "-i", "prompt=1", "-i", "width=abc")
    result = script(*args, env=_env(emu), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "input 'width' must be a whole number, got 'abc'" in result.stderr
    assert "Traceback" not in result.stderr


def test_training_inputs_follow_the_trainers_training_schema(emu: Emulator, tmp_path: Path) -> None:
    with emu.client() as client:
        trainer = client.models.get("replicate/fast-flux-trainer").latest_version
    assert trainer is not None
    images = tmp_path / "images.zip"
    images.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip archive
    ref = f"replicate/fast-flux-trainer:{trainer.id}"
    args = ("trainings", "create", ref, "-d", "emulator/my-flux", "-i", f"input_images=@{images}")
    typo = script(*args, "-i", "training_step=10", env=_env(emu), cwd=tmp_path)
    assert typo.returncode == 2, typo.stderr
    assert "has no input 'training_step'; did you mean 'training_steps'?" in typo.stderr
    bad = script(*args, "-i", "training_steps=many", env=_env(emu), cwd=tmp_path)
    assert bad.returncode == 2
    assert "input 'training_steps' must be a whole number, got 'many'" in bad.stderr
    assert not emu.trainings  # refused before anything was created

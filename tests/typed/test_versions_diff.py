"""``client.models.versions.diff``: what changed in a model's inputs between two versions."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from support import Twin

from replicate_async import Client, ConfigurationError, SchemaDiff
from replicate_async._core.schema_diff import diff_schemas
from replicate_async.emulator import Emulator
from replicate_async.emulator._catalog import VersionSpec
from replicate_async.emulator._schemas import HELLO_SCHEMA, LLAMA2_SCHEMA, LLAMA3_SCHEMA

HELLO = "replicate/hello-world"
HELLO_OLD = "0000000000000000b67bd330526532a2c38286724803ddbbea2833fef099e6a5"
HELLO_NEW = "0000000000000000cde1a443fb5c271536f3fbcf69adf80bf7ecb441405a9e44"


def _add_version(emu: Emulator) -> str:
    model = emu._core.catalog.models[HELLO]
    schema: dict[str, Any] = copy.deepcopy(HELLO_SCHEMA)
    schemas = schema["components"]["schemas"]
    props = schemas["Input"]["properties"]
    props["text"]["default"] = "world"
    schemas["Input"]["required"] = []
    props["shout"] = {"type": "boolean", "default": False}
    props["times"] = {"type": "integer", "minimum": 1, "maximum": 3, "default": 1}
    schemas["Output"] = {"type": "array", "items": {"type": "string"}}
    version = VersionSpec("d" * 64, "2026-01-01T00:00:00Z", "0.9.0", schema, model.kind)
    emu._core.catalog.add_version(model, version)
    return version.id


async def test_diff_between_versions(
    client: Client, replicate_emulator: Emulator, twin: Twin
) -> None:
    same = await twin(
        client.models.versions.async_diff, f"{HELLO}:{HELLO_OLD}", HELLO_NEW, model=HELLO
    )
    assert isinstance(same, SchemaDiff) and not same
    assert "no changes" in str(same)
    newer = _add_version(replicate_emulator)
    diff = await twin(client.models.versions.async_diff, f"{HELLO}:{HELLO_NEW}", f"{HELLO}:{newer}")
    assert diff
    assert diff.added == ("shout", "times") and diff.removed == ()
    assert diff.changes_of("text") == {"default": (None, "world"), "required": (True, False)}
    assert diff.output == ("str", "list[str]")
    text = str(diff)
    assert "+ shout" in text and "~ text: default (none) -> 'world'" in text
    back = await twin(client.models.versions.async_diff, f"{HELLO}:{newer}", HELLO_NEW, model=HELLO)
    assert back.removed == ("shout", "times") and back.added == ()


async def test_a_version_without_its_model_is_refused_before_any_request(
    client: Client, replicate_emulator: Emulator
) -> None:
    before = len(replicate_emulator.requests)
    with pytest.raises(ConfigurationError, match="owner/name"):
        await client.models.versions.async_diff(HELLO_OLD, HELLO_NEW)
    assert len(replicate_emulator.requests) == before


def test_llama_2_to_3_ranges_defaults_and_enums() -> None:
    diff = diff_schemas(LLAMA2_SCHEMA, LLAMA3_SCHEMA, before_name="llama2", after_name="llama3")
    assert "max_tokens" in diff.added
    assert diff.changes_of("temperature") == {"minimum": (0.01, 0)}
    assert diff.output is None  # both are token streams: str
    # An enum and a range that change are reported with both values.
    a = {
        "components": {
            "schemas": {
                "Input": {
                    "properties": {
                        "mode": {"allOf": [{"$ref": "#/components/schemas/mode"}], "default": "a"},
                        "steps": {"type": "integer", "minimum": 1, "maximum": 50},
                    }
                },
                "mode": {"type": "string", "enum": ["a", "b"]},
            }
        }
    }
    b = copy.deepcopy(a)
    b["components"]["schemas"]["mode"]["enum"] = ["a", "b", "c"]
    b["components"]["schemas"]["Input"]["properties"]["steps"]["maximum"] = 100
    b["components"]["schemas"]["Input"]["properties"]["steps"]["type"] = "number"
    diff = diff_schemas(a, b)
    assert diff.changes_of("mode") == {"enum": (("a", "b"), ("a", "b", "c"))}
    assert diff.changes_of("steps") == {"type": ("integer", "number"), "maximum": (50, 100)}
    assert not diff_schemas(a, copy.deepcopy(a))


def test_models_diff_command(cli: Any, emu: Emulator) -> None:
    newer = _add_version(emu)
    result = cli("models", "diff", HELLO, HELLO_NEW, newer)
    assert result.exit_code == 0, result.output
    assert "+ shout" in result.output and "~ output: str -> list[str]" in result.output
    result = cli("models", "diff", HELLO, HELLO_OLD, HELLO_NEW, "--json")
    assert result.exit_code == 0, result.output
    assert '"added": []' in result.output

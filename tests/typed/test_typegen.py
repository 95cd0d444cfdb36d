"""Generated types: the ``types`` command writes a module that ``mypy --strict`` accepts, that
catches a wrong call, and whose functions run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from replicate_async.emulator import Emulator
from replicate_async.typegen import ModelTypes, generate_module, output_type, python_name

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 240.0

USER_OK = """
from __future__ import annotations

import asyncio
from pathlib import Path

from replicate_async import Client, FileOutput
from models import (
    MetaLlama38bInstructInput,
    hello_world_sync,
    meta_llama_3_8b_instruct,
    sdxl,
)
from odd import odd_sync, OddInput


async def main() -> None:
    async with Client() as client:
        text: str = await meta_llama_3_8b_instruct(
            client, {"prompt": "Hi", "max_tokens": 8, "temperature": 0.5}
        )
        request: MetaLlama38bInstructInput = {"prompt": "Hello", "seed": 3}
        print(len(text), len(await meta_llama_3_8b_instruct(client, request)))
        Path("fox.png").write_bytes(b"\\x89PNG\\r\\n\\x1a\\n")
        images: list[FileOutput] = await sdxl(
            client, {"prompt": "a fox", "scheduler": "DDIM", "image": Path("fox.png")}
        )
        print(len(images), images[0].url.startswith("http"))


asyncio.run(main())
with Client() as client:
    print(hello_world_sync(client, {"text": "typed"}))
odd_input: OddInput = {"class": "a", "with-dash": 1}
_ = odd_sync
"""

USER_BAD = """
from __future__ import annotations

from replicate_async import Client
from models import meta_llama_3_8b_instruct, sdxl


async def main(client: Client) -> None:
    await meta_llama_3_8b_instruct(client, {"prompt": "Hi", "max_tokenz": 8})  # line 9
    await meta_llama_3_8b_instruct(client, {"prompt": "Hi", "max_tokens": "8"})  # line 10
    await meta_llama_3_8b_instruct(client, {"max_tokens": 8})  # line 11
    await sdxl(client, {"scheduler": "fast"})  # line 12
    count: int = await meta_llama_3_8b_instruct(client, {"prompt": "Hi"})  # line 13
"""


def _schema(
    inputs: dict[str, Any], output: dict[str, Any], required: tuple[str, ...] = ()
) -> dict[str, Any]:
    input_object = {"type": "object", "properties": inputs, "required": list(required)}
    return {"components": {"schemas": {"Input": input_object, "Output": output}}}


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPLICATE_")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def test_output_types_follow_the_schema() -> None:
    tokens = {
        "type": "array",
        "items": {"type": "string"},
        "x-cog-array-type": "iterator",
        "x-cog-array-display": "concatenate",
    }
    assert output_type(_schema({}, tokens)) == "str"
    assert output_type(_schema({}, {**tokens, "x-cog-array-display": "list"})) == "list[str]"
    files = {"type": "array", "items": {"type": "string", "format": "uri"}}
    assert output_type(_schema({}, files)) == "list[FileOutput]"
    assert output_type(_schema({}, {"type": "string", "format": "uri"})) == "FileOutput"
    assert output_type(_schema({}, {"type": "number"})) == "float"
    assert output_type(_schema({}, {"type": "object"})) == "dict[str, Any]"
    assert output_type({}) == "Any"
    assert python_name("meta-llama-3-8b-instruct") == "meta_llama_3_8b_instruct"
    assert python_name("class") == "class_" and python_name("3d") == "m_3d"


def test_generated_types_check_calls_with_mypy(tmp_path: Path, emu: Emulator) -> None:
    # The real console script, against the emulator (REPLICATE_BASE_URL), as a user runs it.
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "replicate_async",
            "types",
            "meta/meta-llama-3-8b-instruct",
            "stability-ai/sdxl",
            "replicate/hello-world",
            "-o",
            "models.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        env=_env(REPLICATE_BASE_URL=emu.url, REPLICATE_API_TOKEN="r8_types"),
    )
    assert made.returncode == 0, made.stderr
    module = (tmp_path / "models.py").read_text()
    assert "class MetaLlama38bInstructInput(" in module
    assert "-> str:" in module and "-> list[FileOutput]:" in module
    assert "scheduler: Literal['DDIM'," in module
    assert '"""Maximum number of tokens to generate.' in module
    # Field names Python cannot spell, and a docstring with quotes and backslashes.
    odd = _schema(
        {
            "class": {"type": "string", "description": 'say "hi" \\ """'},
            "with-dash": {"type": "integer"},
        },
        {"type": "string"},
        required=("class",),
    )
    (tmp_path / "odd.py").write_text(generate_module([ModelTypes("x/odd", "1" * 64, odd)]))
    (tmp_path / "user_ok.py").write_text(textwrap.dedent(USER_OK))
    (tmp_path / "user_bad.py").write_text(textwrap.dedent(USER_BAD))
    # ``make typecheck`` (run by ``make test`` before the tests) has analysed the package
    # with the project's settings: a copy of its cache spares mypy doing it again (6 s of
    # CPU), and the project's own cache is never written by a test.
    cache = tmp_path / ".mypy_cache"
    if (ROOT / ".mypy_cache").is_dir():
        shutil.copytree(ROOT / ".mypy_cache", cache)
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--python-version",
            "3.10",  # the oldest supported Python, as in pyproject.toml
            "--cache-dir",
            str(cache),
            "models.py",
            "odd.py",
            "user_ok.py",
            "user_bad.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        env=_env(MYPYPATH=str(ROOT)),
    )
    report = checked.stdout
    errors = [line for line in report.splitlines() if ": error:" in line]
    assert errors, report
    assert all(line.startswith("user_bad.py:") for line in errors), report
    lines = {int(line.split(":")[1]) for line in errors}
    assert lines == {9, 10, 11, 12, 13}, report
    assert '"max_tokenz"' in report
    # The correct calls run, against the emulator.
    ran = subprocess.run(
        [sys.executable, "user_ok.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        env=_env(REPLICATE_BASE_URL=emu.url, REPLICATE_API_TOKEN="r8_types"),
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[1:] == ["1 True", "hello typed"], ran.stdout


def test_a_model_without_a_schema_is_a_usage_error(tmp_path: Path, emu: Emulator) -> None:
    made = subprocess.run(
        [sys.executable, "-m", "replicate_async", "types", "no-slash"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        env=_env(REPLICATE_BASE_URL=emu.url, REPLICATE_API_TOKEN="r8_types"),
    )
    assert made.returncode == 2
    assert "owner/name" in made.stderr

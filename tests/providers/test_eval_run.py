"""Eval runs against the emulator: the provider docs' two examples, failures as results, the CLI."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from provider_support import FIXTURES, GUARD

from replicate_async import Client, ConfigurationError
from replicate_async.emulator import Emulator
from replicate_async.emulator.pytest_plugin import FAST_DEFAULTS
from replicate_async.providers import (
    ModerationResult,
    load_eval_config,
    parse_eval_config,
    run_eval,
    run_eval_sync,
    write_results,
)

pytestmark = pytest.mark.usefixtures("clean_env")
PNG = b"\x89PNG\r\n\x1a\n"
EVAL_TIMEOUT = 30.0


async def test_docs_llama_gemma_eval(replicate_emulator: Emulator, client: Client) -> None:
    config = load_eval_config(FIXTURES / "docs_llama_gemma.yaml")
    seen: list[int] = []
    results = await asyncio.wait_for(
        run_eval(config, client=client, environ={}, on_result=lambda r: seen.append(r.index)),
        EVAL_TIMEOUT,
    )
    assert sorted(seen) == [0, 1] and [r.index for r in results] == [0, 1]
    llama, gemma = results
    assert llama.ok and gemma.ok, (llama.error, gemma.error)
    jobs = replicate_emulator.predictions
    assert jobs[str(llama.prediction_id)].input == {
        "prompt": "[INST] Write a haiku about the sea [/INST]",
        "temperature": 0.01,
        "max_length": 1024,
    }
    assert jobs[str(gemma.prediction_id)].input == {
        "prompt": "<start_of_turn>user\nWrite a haiku about the sea<end_of_turn>\n"
        "<start_of_turn>model",
        "temperature": 0.01,
        "max_new_tokens": 1024,
    }
    for result in results:
        assert isinstance(result.output, str) and result.output
        assert result.output == "".join(jobs[str(result.prediction_id)].output)
        assert result.vars == {"topic": "the sea"}


async def test_docs_sdxl_eval_writes_jsonl_and_images(
    replicate_emulator: Emulator, client: Client, tmp_path: Path
) -> None:
    config = load_eval_config(FIXTURES / "docs_sdxl.yaml")
    results = await asyncio.wait_for(run_eval(config, client=client, environ={}), EVAL_TIMEOUT)
    [result] = results
    assert result.ok and result.kind == "image"
    assert replicate_emulator.predictions[str(result.prediction_id)].input == {
        "prompt": "Generate an image: fruit loops",
        "width": 768,
        "height": 768,
        "num_inference_steps": 50,
    }
    out = tmp_path / "run" / "results.jsonl"
    [saved] = await asyncio.wait_for(write_results(results, out), EVAL_TIMEOUT)
    assert saved.files == ("results_files/0000-0.png",)
    assert (out.parent / saved.files[0]).read_bytes().startswith(PNG)
    [line] = out.read_text(encoding="utf-8").splitlines()
    record = json.loads(line)
    assert record["ok"] is True and record["files"] == ["results_files/0000-0.png"]
    assert record["output"] == [str(f) for f in result.output]  # type: ignore[union-attr]
    assert record["vars"] == {"subject": "fruit loops"}
    assert record["provider_id"].startswith("replicate:image:stability-ai/sdxl:")


async def test_failures_are_results_with_status_and_detail__peer_defect_30(
    replicate_emulator: Emulator, client: Client, tmp_path: Path
) -> None:
    config = parse_eval_config(
        {
            "prompts": ["Say {{word}}"],
            "providers": [
                {"id": "replicate:meta/llama-2-7b-chat", "config": {"temperature": 99}},
                "replicate:nobody/missing-model",
                "replicate:replicate/always-fails",
                "replicate:meta/meta-llama-3-8b-instruct",
            ],
            "tests": [{"vars": {"word": "a"}}, {"vars": {"word": "b"}}],
        }
    )
    results = await asyncio.wait_for(run_eval(config, client=client, environ={}), EVAL_TIMEOUT)
    by_provider: dict[int, list[Any]] = {}
    for result in results:
        by_provider.setdefault(result.provider_index, []).append(result)
    for refused in by_provider[0]:
        assert refused.status == 422 and refused.detail
        assert refused.error.startswith("422") and "input.temperature" in refused.error
    for missing in by_provider[1]:
        assert missing.status == 404 and missing.error_type == "NotFoundError"
    for failed in by_provider[2]:
        assert failed.error_type == "ModelError" and "always fails" in failed.error
        assert failed.prediction_id is not None
    assert all(r.ok and r.output for r in by_provider[3])
    await write_results(results, tmp_path / "r.jsonl")
    text = (tmp_path / "r.jsonl").read_text(encoding="utf-8")
    assert "undefined" not in text and len(text.splitlines()) == 8
    records = [json.loads(line) for line in text.splitlines()]
    assert [r["status"] for r in records if r["provider_index"] == 0] == [422, 422]


async def test_moderation_eval(client: Client) -> None:
    config = parse_eval_config(
        {
            "prompts": ["{{message}}"],
            "providers": [f"replicate:moderation:{GUARD}"],
            "tests": [
                {"vars": {"message": "Hello"}},
                {"vars": {"message": "I hate them and will attack them"}},
            ],
        }
    )
    safe, unsafe = await asyncio.wait_for(run_eval(config, client=client), EVAL_TIMEOUT)
    assert isinstance(safe.output, ModerationResult) and not safe.output.flagged
    assert isinstance(unsafe.output, ModerationResult)
    assert unsafe.output.codes == ("S1", "S10")
    assert unsafe.to_json()["output"]["categories"][1] == {"code": "S10", "description": "Hate"}


async def test_api_key_providers_run_on_their_own_client(tmp_path: Path) -> None:
    secret = "r8_eval_secret_987654321"
    async with Emulator(**FAST_DEFAULTS, token=secret) as emu:
        config = parse_eval_config(
            {
                "prompts": ["Hi"],
                "providers": [{"id": "replicate:meta/llama-2-7b-chat", "apiKey": secret}],
            }
        )
        async with Client(api_token="r8_wrong", base_url=emu.url) as client:
            [result] = await asyncio.wait_for(run_eval(config, client=client), EVAL_TIMEOUT)
        assert result.ok, result.error
        assert emu.predictions[str(result.prediction_id)].input == {"prompt": "Hi"}
        await write_results([result], tmp_path / "r.jsonl")
        assert secret not in (tmp_path / "r.jsonl").read_text(encoding="utf-8")


async def test_missing_variable_fails_before_any_request(
    replicate_emulator: Emulator, client: Client
) -> None:
    before = replicate_emulator.stats.requests
    with pytest.raises(ConfigurationError, match="needs variables"):
        parse_eval_config({"prompts": ["{{a}}"], "providers": ["replicate:meta/llama-2-7b-chat"]})
    assert replicate_emulator.stats.requests == before


def test_blocking_twin(replicate_emulator_sync: Emulator) -> None:
    config = load_eval_config(FIXTURES / "docs_llama_gemma.yaml")
    with replicate_emulator_sync.client() as client:
        results = run_eval_sync(config, client=client, environ={}, concurrency=1)
    assert [r.ok for r in results] == [True, True]


# -- the command line ----------------------------------------------------------------------


def test_cli_eval_docs_sdxl(cli: Any, tmp_path: Path) -> None:
    result = cli("eval", str(FIXTURES / "docs_sdxl.yaml"), "--output", "out/results.jsonl")
    assert result.exit_code == 0, result.output
    assert "1 passed, 0 failed" in result.stderr  # stdout (not a terminal) holds the rows
    [line] = (tmp_path / "out" / "results.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(line)
    assert (tmp_path / "out" / record["files"][0]).read_bytes().startswith(PNG)


def test_cli_eval_docs_llama_gemma_json(cli: Any) -> None:
    result = cli("eval", str(FIXTURES / "docs_llama_gemma.yaml"), "--json")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["provider_id"].split(":")[1] for r in records] == [
        "meta/llama-2-7b-chat",
        "google-deepmind/gemma-7b-it",
    ]
    assert all(r["ok"] and r["output"] for r in records)


def test_cli_eval_failure_exit_code_and_table(cli: Any, tmp_path: Path) -> None:
    config = {
        "description": "failing",
        "prompts": ["Hi"],
        "providers": [{"id": "replicate:meta/llama-2-7b-chat", "config": {"temperature": 99}}],
        "tests": [{"vars": {}, "assert": []}],
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = cli("eval", str(path))
    assert result.exit_code == 1
    assert "422" in result.stdout and "0 passed, 0 failed, 0 not checked, 1 error" in result.stderr
    assert "assert is not used" not in result.stderr  # assertions are read now


def test_cli_eval_bad_config_is_a_configuration_error(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("prompts: ['{{x}}']\nproviders: [replicate:a/b]\n", encoding="utf-8")
    result = cli("eval", str(path))
    assert result.exit_code == 4
    assert "needs variables" in result.stderr and "Traceback" not in result.output


def _console_script(*args: str, base_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPLICATE_")}
    env.update(REPLICATE_API_TOKEN="r8_eval_cli", REPLICATE_BASE_URL=base_url)
    script = str(Path(sys.executable).with_name("replicate-async"))
    return subprocess.run(
        [script, *args], capture_output=True, text=True, timeout=60, env=env, cwd=cwd
    )


def test_console_script_never_counts_an_unchecked_assertion_as_passed(tmp_path: Path) -> None:
    # The model's text is not known in advance: the checked assertions are chosen to hold
    # for any output, so the only thing between the case and "passed" is llm-rubric.
    config = {
        "prompts": ["Say hello to {{name}}"],
        "providers": ["replicate:meta/llama-2-7b-chat"],
        "tests": [
            {
                "vars": {"name": "Bob"},
                "assert": [
                    {"type": "regex", "value": "."},
                    {"type": "not-icontains", "value": "zz-never-generated-zz"},
                    {"type": "llm-rubric", "value": "is friendly"},
                ],
            },
            {"vars": {"name": "Al"}, "assert": [{"type": "not-contains-json"}]},
            {"vars": {"name": "Cy"}, "assert": [{"type": "equals", "value": "zz-never-zz"}]},
        ],
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    with Emulator(**FAST_DEFAULTS) as emu:
        shown = _console_script("eval", str(path), base_url=emu.url, cwd=tmp_path)
        as_json = _console_script("eval", str(path), "--json", base_url=emu.url, cwd=tmp_path)
    assert shown.returncode == 1, shown.stderr  # the equals assertion failed
    assert "1 passed, 1 failed, 1 not checked, 0 errors" in shown.stderr
    rows = [line.split("\t") for line in shown.stdout.splitlines()]  # a pipe: TSV rows
    assert [row[2] for row in rows] == ["not checked", "passed", "failed"]
    assert "not checked: assertion type 'llm-rubric' is not supported" in rows[0]
    records = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [r["verdict"] for r in records] == ["not checked", "passed", "failed"]
    assert [c["verdict"] for c in records[0]["checks"]] == ["passed", "passed", "not checked"]
    assert records[2]["checks"][0]["reason"] == "expected the output to equal 'zz-never-zz'"

"""Usage errors through the real console script: never a traceback, always exit code 2, and
under ``--json`` always one JSON error object on stdout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import LLAMA, script

BAD_USAGE = [
    pytest.param(
        ["run", LLAMA, "-i", "prompt=hi", "--cancel-after", "2x"], "--cancel-after", id="duration"
    ),
    pytest.param(["run", LLAMA, "-i", "prompt"], "key=value", id="input-without-value"),
    pytest.param(["run", LLAMA, "-i", "prompt=@no-such-file.png"], "not found", id="missing-file"),
    pytest.param(["run", LLAMA, "-i", "a=1", "-i", "a=2"], "given twice", id="input-twice"),
    pytest.param(["models", "list", "--limit", "abc"], "--limit", id="limit-not-a-number"),
    pytest.param(["predictions", "list", "--limit", "-3"], "--limit", id="limit-negative"),
    pytest.param(
        ["batch", "replicate/hello-world", "-i", "missing.jsonl"],
        "missing.jsonl",
        id="batch-input-missing",
    ),
    pytest.param(["eval", "--timeout", "soon", "x.yaml"], "--timeout", id="eval-timeout"),
    pytest.param(["eval", "no-such-config.yaml"], "no-such-config.yaml", id="eval-config-missing"),
    pytest.param(["predictions", "list", "--since", "yesterday"], "--since", id="since-not-a-date"),
    pytest.param(
        ["deployments", "update", "acme/x", "--max-instances", "99"],
        "--max-instances",
        id="instances-out-of-range",
    ),
    pytest.param(["files", "create", "data.zip"], "data.zip", id="upload-missing"),
]
NO_JSON_OPTION = [
    pytest.param(["emulator", "--port", "99999"], "--port", id="emulator-port"),
    pytest.param(["emulator", "--speed", "0"], "--speed", id="emulator-speed"),
]


@pytest.mark.parametrize(("args", "named"), BAD_USAGE + NO_JSON_OPTION)
def test_a_bad_option_is_one_line_and_exit_code_2(
    args: list[str], named: str, tmp_path: Path
) -> None:
    result = script(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert 'File "' not in result.stderr
    assert named in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(("args", "named"), BAD_USAGE)
def test_a_bad_option_under_json_prints_a_json_error_object(
    args: list[str], named: str, tmp_path: Path
) -> None:
    result = script(*args, "--json", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    error = json.loads(result.stdout)
    assert error["exit_code"] == 2
    assert named in error["message"]
    assert error["error"]

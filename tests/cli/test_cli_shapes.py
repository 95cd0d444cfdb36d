"""Outputs read back are shaped as ``run`` prints them, and messages speak command-line terms
(the real console script against the emulator)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from cli_support import LLAMA, script, script_env

from replicate_async.cli._context import configure_logging
from replicate_async.emulator import Emulator


def _env(emu: Emulator) -> dict[str, str]:
    return script_env(REPLICATE_API_TOKEN="r8_cli_tests", REPLICATE_BASE_URL=emu.url)


def test_predictions_get_and_list_show_text_as_run_does(emu: Emulator, tmp_path: Path) -> None:
    env = _env(emu)
    ran = script("run", LLAMA, "-i", "prompt=hi", "-i", "max_tokens=6", "--json", env=env)
    assert ran.returncode == 0, ran.stderr
    record = json.loads(ran.stdout)
    text = record["output"]
    [job] = emu.predictions.values()
    assert isinstance(job.output, list) and len(job.output) > 1  # the API's token list
    assert isinstance(text, str) and text == "".join(job.output)

    got = script("predictions", "get", record["id"], "--json", env=env)
    assert json.loads(got.stdout)["output"] == text
    shown = script("predictions", "get", record["id"], env=env)
    [line] = [line for line in shown.stdout.splitlines() if line.startswith("output")]
    assert line.split(None, 1)[1].strip() == text  # not ["Sure", ",", …]
    listed = script("predictions", "list", "--json", env=env)
    assert [p["output"] for p in json.loads(listed.stdout)] == [text]


def test_a_failed_prediction_is_told_in_cli_terms(emu: Emulator, tmp_path: Path) -> None:
    env = _env(emu)
    human = script("run", "replicate/always-fails", env=env, cwd=tmp_path)
    as_json = script("run", "replicate/always-fails", "--json", env=env, cwd=tmp_path)
    for result in (human, as_json):
        assert result.returncode == 1
        assert "on the exception" not in result.stdout + result.stderr  # Python-API words
    assert "failed: RuntimeError: this model always fails" in human.stderr
    first = next(iter(emu.predictions))
    assert f"all its logs: replicate-async predictions get {first} --json" in human.stderr
    payload = json.loads(as_json.stdout)
    assert payload["message"].endswith("failed: RuntimeError: this model always fails")


def test_debug_log_lines_show_their_level_once(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    library = logging.getLogger("replicate_async")
    library_level = library.level
    try:
        configure_logging(True)
        library.debug("retrying GET /v1/x in 0.50s (503)")
        err = capsys.readouterr().err
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        library.setLevel(library_level)
    assert "retrying GET /v1/x" in err
    assert err.count("DEBUG") == 1, err
    assert "replicate_async:" not in err

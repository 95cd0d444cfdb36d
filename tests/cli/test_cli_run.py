"""``replicate-async run`` against the emulator: text, streams, files, JSON, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import LLAMA, SDXL, CliInvoker, assert_no_traceback

from replicate_async.emulator import Emulator


def test_run_prints_a_language_model_answer_as_text(cli: CliInvoker, emu: Emulator) -> None:
    result = cli("run", LLAMA, "-i", "prompt=Tell me a joke", "-i", "max_tokens=12")
    assert result.exit_code == 0, result.output
    [prediction] = emu.predictions.values()
    # the token stream is joined into one text, not printed as a list of chunks
    assert result.stdout == "".join(prediction.output) + "\n"
    assert prediction.input["max_tokens"] == 12  # "12" was sent as a number


def test_run_json_gives_id_status_output_and_metrics(cli: CliInvoker, emu: Emulator) -> None:
    data = cli.json("run", LLAMA, "-i", "prompt=hi", "-i", "max_tokens=5")
    assert data["status"] == "succeeded"
    assert data["id"] in emu.predictions
    assert isinstance(data["output"], str) and data["output"]
    assert data["files"] == []
    assert "predict_time" in data["metrics"]


def test_run_stream_prints_the_text_as_it_is_generated(cli: CliInvoker, emu: Emulator) -> None:
    result = cli("run", LLAMA, "-i", "prompt=hi", "-i", "max_tokens=8", "--stream")
    assert result.exit_code == 0, result.output
    [prediction] = emu.predictions.values()
    assert result.stdout == "".join(prediction.output) + "\n"


def test_run_stream_saves_file_outputs_as_they_arrive(cli: CliInvoker, tmp_path: Path) -> None:
    args = ("-i", "prompt=x", "-i", "width=16", "-i", "height=16", "-i", "num_outputs=2")
    result = cli("run", SDXL, *args, "--stream", "-o", str(tmp_path / "s"))
    assert result.exit_code == 0, result.output
    root = (tmp_path / "s").resolve()
    assert result.stdout == f"{root / 'out-0.png'}\n{root / 'out-1.png'}\n"
    assert (root / "out-1.png").read_bytes().startswith(b"\x89PNG")


def test_run_saves_file_outputs_under_the_output_dir(cli: CliInvoker, tmp_path: Path) -> None:
    out = tmp_path / "images"
    args = ("run", SDXL, "-i", "prompt=a fox", "-i", "width=64", "-i", "height=48", "-o", str(out))
    first = cli(*args)
    assert first.exit_code == 0, first.output
    [printed] = first.stdout.split()
    saved = Path(printed)
    assert saved.parent == out.resolve() and saved.name == "out-0.png"
    assert saved.read_bytes().startswith(b"\x89PNG")
    assert "saved 1 file(s)" in first.stderr
    # a second run never overwrites the first one's file
    second = cli(*args)
    assert second.exit_code == 0, second.output
    assert Path(second.stdout.strip()).name == "out-0-1.png"
    assert sorted(p.name for p in out.iterdir()) == ["out-0-1.png", "out-0.png"]


def test_run_json_lists_saved_files_and_no_download_keeps_urls(
    cli: CliInvoker, tmp_path: Path, emu: Emulator
) -> None:
    data = cli.json("run", SDXL, "-i", "prompt=x", "-i", "width=16", "-i", "height=16")
    assert data["files"] == [str(tmp_path.resolve() / "out-0.png")]
    assert data["output"] == data["files"]
    kept = cli.json("run", SDXL, "-i", "prompt=x", "-i", "width=16", "--no-download")
    assert kept["files"] == []
    assert kept["output"][0].startswith(emu.delivery_url)


def test_run_uploads_at_path_inputs(cli: CliInvoker, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"hello file")
    data = cli.json("run", "replicate/echo-file", "-i", f"file=@{notes}")
    assert data["output"]["size"] == len(b"hello file")


def test_a_failed_prediction_exits_1_with_its_error_and_logs(cli: CliInvoker) -> None:
    result = cli("run", "replicate/always-fails")
    assert result.exit_code == 1
    assert "this model always fails" in result.stderr
    assert "last log lines" in result.stderr
    assert result.stdout == ""
    assert_no_traceback(result)


def test_invalid_input_shows_the_api_detail_and_fields_with_exit_3(cli: CliInvoker) -> None:
    result = cli("run", LLAMA, "-i", "prompt=hi", "-i", "temperature=99")
    assert result.exit_code == 3
    assert "422" in result.stderr
    assert "input.temperature" in result.stderr
    assert "less than or equal to 5" in result.stderr
    assert_no_traceback(result)


def test_errors_under_json_are_json_on_stdout(cli: CliInvoker) -> None:
    result = cli("run", LLAMA, "-i", "prompt=hi", "-i", "temperature=99", "--json")
    assert result.exit_code == 3
    error = json.loads(result.stdout)
    assert error["status"] == 422
    assert error["exit_code"] == 3
    assert error["invalid_fields"][0]["field"] == "input.temperature"


def test_run_timeout_cancels_the_prediction_and_exits_1(cli: CliInvoker, emu: Emulator) -> None:
    emu.options.model_timings = {LLAMA: (0.0, 1000.0)}  # 1000 s of run time, scaled by speed
    result = cli("run", LLAMA, "-i", "prompt=hi", "--timeout", "0.3")
    assert result.exit_code == 1, result.output
    assert "did not finish within 0.3 s" in result.stderr
    [prediction] = emu.predictions.values()
    assert prediction.status == "canceled"


def test_detach_prints_the_id_without_waiting(cli: CliInvoker, emu: Emulator) -> None:
    result = cli("run", LLAMA, "-i", "prompt=hi", "--detach")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() in emu.predictions
    assert "predictions watch" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run",), "give a MODEL"),
        (("run", LLAMA, "-i", "prompt"), "inputs are key=value"),
        (("run", LLAMA, "-i", "prompt=@missing.png"), "input file not found"),
        (("run", "not a model!"), "owner/name"),
        (("run", LLAMA, "--stream", "--json"), "--stream"),
    ],
)
def test_usage_errors_exit_2(cli: CliInvoker, args: tuple[str, ...], message: str) -> None:
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert_no_traceback(result)


def test_no_token_exits_4_and_says_where_tokens_come_from(
    cli: CliInvoker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REPLICATE_API_TOKEN")
    result = cli("run", LLAMA, "-i", "prompt=hi")
    assert result.exit_code == 4
    assert "REPLICATE_API_TOKEN" in result.stderr
    assert_no_traceback(result)


def test_a_refused_token_exits_4(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from replicate_async.emulator.pytest_plugin import FAST_DEFAULTS

    with Emulator(**FAST_DEFAULTS, token="r8_the_only_one") as strict:
        monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_wrong")
        monkeypatch.setenv("REPLICATE_BASE_URL", strict.url)
        monkeypatch.chdir(tmp_path)
        result = CliInvoker()("account")
    assert result.exit_code == 4
    assert "401" in result.stderr
    assert "r8_wrong" not in result.output  # the token never shows


def test_an_unreachable_api_exits_3(cli: CliInvoker, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("REPLICATE_BASE_URL", f"http://127.0.0.1:{port}/v1")
    result = cli("--base-url", f"http://127.0.0.1:{port}/v1", "account")
    assert result.exit_code == 3
    assert "Could not reach the API" in result.stderr
    assert_no_traceback(result)


def test_local_runs_against_an_embedded_emulator_without_a_token(
    cli: CliInvoker, monkeypatch: pytest.MonkeyPatch, emu: Emulator
) -> None:
    monkeypatch.delenv("REPLICATE_API_TOKEN")
    monkeypatch.setenv("REPLICATE_BASE_URL", "http://127.0.0.1:9/v1")  # ignored by --local
    result = cli("--local", "run", "replicate/hello-world", "-i", "text=world")
    assert result.exit_code == 0, result.output
    assert result.stdout == "hello world\n"
    assert emu.predictions == {}  # the test's emulator never saw it

"""Pure parts of the command line: ``-i`` values, log progress bars, exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest

from replicate_async import (
    APIConnectionError,
    AuthenticationError,
    ConfigurationError,
    InvalidReferenceError,
    ModelError,
    NotFoundError,
    PermissionDeniedError,
    PredictionAbortedError,
    PredictionCanceledError,
    RunTimeoutError,
    ServerError,
    UnprocessableEntityError,
)
from replicate_async.cli._errors import CliError, exit_code_for
from replicate_async.cli._inputs import parse_input_value, parse_inputs
from replicate_async.cli._status import LogProgress, last_log_line, parse_progress


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a cat", "a cat"),
        ("20", 20),
        ("0.5", 0.5),
        ("true", True),
        ("false", False),
        ("null", None),
        ("[1, 2]", [1, 2]),
        ('{"a": 1}', {"a": 1}),
        ('"20"', "20"),  # JSON-quoted: stays text
        ("", ""),
        ("@@handle", "@handle"),
        ("1e3", 1000.0),
        ("a=b", "a=b"),
    ],
)
def test_input_values_are_json_when_they_parse_else_text(raw: str, expected: Any) -> None:
    assert parse_input_value(raw) == expected


def test_at_path_is_a_file_input(tmp_path: Path) -> None:
    photo = tmp_path / "cat.png"
    photo.write_bytes(b"\x89PNG")
    assert parse_input_value(f"@{photo}") == photo


def test_at_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(CliError, match="input file not found"):
        parse_input_value(f"@{tmp_path / 'nope.png'}")


def test_inputs_split_at_the_first_equals_sign() -> None:
    assert parse_inputs(["prompt=x=y", "steps=3"]) == {"prompt": "x=y", "steps": 3}


@pytest.mark.parametrize("bad", [["prompt"], ["=x"], ["a=1", "a=2"]])
def test_malformed_inputs_are_usage_errors(bad: list[str]) -> None:
    with pytest.raises(CliError) as caught:
        parse_inputs(bad)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("logs", "expected"),
    [
        (None, None),
        ("Loading weights", None),
        (" 45%|████      | 45/100 [00:02<00:03, 20.1it/s]", LogProgress(45.0, 45, 100)),
        ("  0%|          | 0/50", LogProgress(0.0, 0, 50)),
        ("100%|██████████| 50/50", LogProgress(100.0, 50, 50)),
        ("flux_train_replicate: 30%| 300/1000", LogProgress(30.0, 300, 1000)),
        ("12.5%|█▎  |", LogProgress(12.5)),
        # the latest bar wins, even with ordinary log lines after it
        ("10%|█ | 1/10\n20%|██ | 2/10\nsaving checkpoint", LogProgress(20.0, 2, 10)),
        # carriage-return redraws: what the terminal would show is the last one
        ("10%|█ | 1/10\r55%|█████ | 11/20", LogProgress(55.0, 11, 20)),
        ("temperature 250%| nonsense", None),  # not a percentage
        ("used 45% of memory", None),  # a percent without a bar
    ],
)
def test_progress_is_read_from_progress_bar_log_lines(
    logs: str | None, expected: LogProgress | None
) -> None:
    assert parse_progress(logs) == expected


def test_last_log_line_skips_blank_lines_and_shortens() -> None:
    assert last_log_line("first\nsecond\n\n  \n") == "second"
    assert last_log_line(None) == ""
    long = last_log_line("x" * 200, width=20)
    assert len(long) == 20 and long.endswith("…")


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (ModelError("failed"), 1),
        (PredictionCanceledError("canceled"), 1),
        (PredictionAbortedError("aborted"), 1),
        (RunTimeoutError("slow", prediction_id="p"), 1),
        (InvalidReferenceError("bad ref"), 2),
        (CliError("bad option"), 2),
        (click.UsageError("usage"), 2),
        (NotFoundError("404", status=404), 3),
        (UnprocessableEntityError("422", status=422), 3),
        (ServerError("500", status=500), 3),
        (APIConnectionError("refused"), 3),
        (AuthenticationError("401", status=401), 4),
        (PermissionDeniedError("403", status=403), 4),
        (ConfigurationError("no token"), 4),
        (KeyboardInterrupt(), 130),
        (RuntimeError("a bug"), 70),
    ],
)
def test_exit_codes_scripts_can_rely_on(exc: BaseException, code: int) -> None:
    assert exit_code_for(exc) == code


def test_status_line_shows_status_elapsed_progress_and_last_log() -> None:
    import io

    from rich.console import Console

    from replicate_async.cli._status import StatusLine

    console = Console(file=io.StringIO(), force_terminal=True, width=100, color_system=None)
    line = StatusLine(console, "stability-ai/sdxl")
    line.status, line.logs = "processing", "Using seed: 1\n 45%|████▌     | 45/100"
    console.print(line.render())
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "stability-ai/sdxl" in text and "processing" in text
    assert " 45% 45/100" in text  # the bar's label, beside rich's progress bar
    assert "45%|████▌ | 45/100" in text  # the last log line (whitespace collapsed)
    assert text.count("\n") == 3


def test_status_line_off_a_terminal_prints_one_line_per_status_change() -> None:
    import io

    from rich.console import Console

    from replicate_async import Prediction
    from replicate_async.cli._status import StatusLine

    console = Console(file=io.StringIO(), force_terminal=False, width=100)
    with StatusLine(console, "m") as line:
        for status in ("starting", "processing", "processing", "succeeded"):
            line.update(Prediction.from_dict({"id": "p", "status": status}))
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert [x.split(":")[1].split()[0] for x in lines] == ["starting", "processing", "succeeded"]


def test_a_lazy_command_whose_module_is_missing_explains_itself() -> None:
    from click.testing import CliRunner

    from replicate_async.cli._main import LazyGroup

    group = LazyGroup(
        "x", lazy={"ghost": ("replicate_async.cli.no_such_module", "cmd", "A ghost command.")}
    )
    runner = CliRunner()
    listed = runner.invoke(group, ["--help"])
    assert "ghost" in listed.output and "A ghost command." in listed.output
    result = runner.invoke(group, ["ghost", "--anything"])
    assert result.exit_code == 2
    assert "'ghost' is not available in this installation" in result.output

"""``replicate-async batch``: in-process for the file handling, as a subprocess for crashes.

The emulator serves from a background thread of the test process; the command line runs
in-process (click's runner) or as a subprocess that is killed or interrupted mid-run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from replicate_async import Client
from replicate_async.cli import cli
from replicate_async.cli._batch_files import Journal, line_hash
from replicate_async.emulator import Emulator
from replicate_async.emulator.pytest_plugin import FAST_DEFAULTS

HELLO = "replicate/hello-world"
TOKEN = "r8_batch_cli"
TERMINAL = {"succeeded", "failed", "canceled", "aborted"}


@pytest.fixture
def slow_emu() -> Iterator[Emulator]:
    """Hello-world takes ~0.3 s: a run of 30 items at concurrency 6 lasts ~1.5 s."""
    with Emulator(**{**FAST_DEFAULTS, "model_timings": {HELLO: (0.0, 60.0)}}) as emulator:
        yield emulator


@pytest.fixture
def env(emu: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REPLICATE_API_TOKEN", TOKEN)
    monkeypatch.setenv("REPLICATE_BASE_URL", emu.url)
    monkeypatch.delenv("REPLICATE_API_KEY", raising=False)
    return tmp_path


def batch(*args: str) -> Result:
    return CliRunner().invoke(cli, ["batch", *args], catch_exceptions=False)


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def jobs(emu: Emulator) -> list[dict[str, Any]]:
    """Every prediction of the emulator: id, status and input. (``list()`` of a dict view
    runs in C without a thread switch, so the server thread cannot change it midway.)"""
    return [
        {"id": j.id, "status": j.status, "input": j.input} for j in list(emu.predictions.values())
    ]


def write_inputs(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def test_every_line_gets_a_result_and_bad_lines_do_not_stop_the_batch(
    env: Path, emu: Emulator
) -> None:
    inputs = write_inputs(
        env / "in.jsonl",
        ['{"text": "a"}', "not json", "", '{"text": "b"}', "[1, 2]", "{}", '{"text": "c"}'],
    )
    result = batch(HELLO, "--input", str(inputs), "--output", "out.jsonl")
    assert result.exit_code == 1  # some items failed
    assert "line 2:" in result.stderr and "line 5:" in result.stderr
    out = {r["line"]: r for r in records(env / "out.jsonl")}
    assert sorted(out) == [1, 2, 4, 5, 6, 7]  # the blank line 3 is no item
    assert [out[n]["status"] for n in (1, 4, 7)] == ["succeeded"] * 3
    assert [out[n]["output"] for n in (1, 4, 7)] == ["hello a", "hello b", "hello c"]
    assert out[2]["error_type"] == "InvalidInputLine" and "line 2" in out[2]["error"]
    assert out[5]["status"] == "error" and out[5]["input"] == "[1, 2]"
    assert out[6]["error_type"] == "UnprocessableEntityError"  # the API refused it
    assert out[1]["input"] == {"text": "a"} and out[1]["prediction_id"]
    assert all(r["input_hash"] for r in out.values())
    assert not (env / "out.jsonl.inflight").exists()  # finished: no journal left
    assert len(jobs(emu)) == 3


def test_running_again_skips_what_is_done_and_runs_only_new_or_edited_lines(
    env: Path, emu: Emulator
) -> None:
    lines = [json.dumps({"text": str(i)}) for i in range(5)] + ["{}"]
    inputs = write_inputs(env / "in.jsonl", lines)
    assert batch(HELLO, "-i", str(inputs), "-o", "out.jsonl").exit_code == 1
    assert len(jobs(emu)) == 5

    again = batch(HELLO, "-i", str(inputs), "-o", "out.jsonl", "--json")
    assert again.exit_code == 0
    summary = json.loads(again.stdout)
    assert (summary["skipped"], summary["succeeded"], summary["failed"]) == (6, 0, 0)
    assert len(jobs(emu)) == 5  # nothing ran twice

    lines[2] = json.dumps({"text": "edited"})
    write_inputs(inputs, [*lines, json.dumps({"text": "new"})])
    assert batch(HELLO, "-i", str(inputs), "-o", "out.jsonl").exit_code == 0
    created = Counter(j["input"]["text"] for j in jobs(emu))
    assert created == Counter({"0": 1, "1": 1, "2": 1, "3": 1, "4": 1, "edited": 1, "new": 1})
    latest = {r["line"]: r for r in records(env / "out.jsonl")}
    assert latest[3]["output"] == "hello edited" and latest[7]["output"] == "hello new"

    # --retry-failed runs the failed item again (line 6, still invalid for the model)
    retried = batch(HELLO, "-i", str(inputs), "-o", "out.jsonl", "--retry-failed", "--json")
    assert json.loads(retried.stdout)["failed"] == 1
    assert [r["line"] for r in records(env / "out.jsonl")].count(6) == 2


def test_a_journaled_prediction_is_followed_instead_of_created_again(
    env: Path, emu: Emulator
) -> None:
    lines = [json.dumps({"text": str(i)}) for i in range(4)]
    inputs = write_inputs(env / "in.jsonl", lines)
    with Client(api_token=TOKEN, base_url=emu.url) as client:
        # as if a run had died right after creating lines 1 and 2: line 1's id was saved,
        # line 2's create was sent but its answer never journaled
        first = client.predictions.create(version=HELLO_VERSION(client), input={"text": "0"})
        second = client.predictions.create(version=HELLO_VERSION(client), input={"text": "1"})
    journal = Journal(env / "out.jsonl")
    journal.open({})
    journal.starting((1, line_hash(lines[0])), 0)
    journal.created((1, line_hash(lines[0])), first.id)
    journal.starting((2, line_hash(lines[1])), 0)
    journal.close()

    result = batch(HELLO, "-i", str(inputs), "-o", "out.jsonl", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["resumed"] == 2
    out = {r["line"]: r for r in records(env / "out.jsonl")}
    assert out[1]["prediction_id"] == first.id
    assert out[2]["prediction_id"] == second.id
    assert Counter(j["input"]["text"] for j in jobs(emu)) == Counter("0123")


def HELLO_VERSION(client: Client) -> str:
    model = client.models.get(HELLO)
    assert model.latest_version is not None
    return f"{HELLO}:{model.latest_version.id}"


def test_rate_limit_and_local_options(env: Path, emu: Emulator) -> None:
    inputs = write_inputs(env / "in.jsonl", ['{"text": "a"}', '{"text": "b"}'])
    result = batch(HELLO, "-i", str(inputs), "-o", "out.jsonl", "--rate-limit", "0", "-q")
    assert result.exit_code == 0, result.output
    local = CliRunner().invoke(
        cli,
        ["--local", "batch", HELLO, "-i", str(inputs), "-o", "local.jsonl", "--json"],
        catch_exceptions=False,
    )
    assert local.exit_code == 0, local.output
    assert json.loads(local.stdout)["succeeded"] == 2
    assert len(jobs(emu)) == 2  # --local ran on its own embedded emulator


# -- crashes and interrupts, as a subprocess ---------------------------------------------------


def start_cli(
    emu: Emulator, tmp_path: Path, inputs: Path, *extra: str, sigint_ignored: bool = False
) -> subprocess.Popen[str]:
    """The real console script; ``sigint_ignored``: started as a background job is, with
    SIGINT ignored (inherited through ``exec`` from a wrapper, in the same process)."""
    env = {**os.environ, "REPLICATE_API_TOKEN": TOKEN, "REPLICATE_BASE_URL": emu.url}
    env.pop("REPLICATE_API_KEY", None)
    command = [str(Path(sys.executable).with_name("replicate-async")), "batch", HELLO]
    command += ["-i", str(inputs), "-o", str(tmp_path / "out.jsonl"), "-q", *extra]
    if sigint_ignored:
        wrapper = (
            "import os, signal, sys\n"
            "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
            "os.execv(sys.argv[1], sys.argv[1:])\n"
        )
        command = [sys.executable, "-c", wrapper, *command]
    return subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_for(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def finished_lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def run_to_end(emu: Emulator, tmp_path: Path, inputs: Path) -> None:
    proc = start_cli(emu, tmp_path, inputs, "--concurrency", "6")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err


def test_a_killed_run_resumes_without_losing_or_repeating_anything(
    slow_emu: Emulator, tmp_path: Path
) -> None:
    inputs = write_inputs(tmp_path / "in.jsonl", [json.dumps({"text": str(i)}) for i in range(30)])
    output = tmp_path / "out.jsonl"
    proc = start_cli(slow_emu, tmp_path, inputs, "--concurrency", "6")
    try:
        wait_for(lambda: finished_lines(output) >= 12)
        wait_for(lambda: sum(j["status"] not in TERMINAL for j in jobs(slow_emu)) >= 3)
    finally:
        proc.kill()  # SIGKILL: no cleanup at all
        proc.communicate(timeout=30)
    running_at_kill = [j for j in jobs(slow_emu) if j["status"] not in TERMINAL]
    assert running_at_kill, "the kill should catch predictions in flight"

    run_to_end(slow_emu, tmp_path, inputs)

    out = records(output)
    assert sorted(r["line"] for r in out) == list(range(1, 31))  # every item, once
    assert {r["status"] for r in out} == {"succeeded"}
    assert all(r["output"] == f"hello {r['input']['text']}" for r in out)
    per_input = Counter(j["input"]["text"] for j in jobs(slow_emu))
    assert per_input == Counter(str(i) for i in range(30))  # none created twice
    resumed = {j["id"] for j in running_at_kill}
    assert resumed <= {r["prediction_id"] for r in out}  # followed, not recreated
    assert not (tmp_path / "out.jsonl.inflight").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("sigint_ignored", [False, True], ids=["foreground", "sigint-ignored"])
def test_ctrl_c_cancels_running_predictions_and_keeps_what_finished(
    slow_emu: Emulator, tmp_path: Path, sigint_ignored: bool
) -> None:
    # On every Python (3.10's asyncio.run raises KeyboardInterrupt wherever the loop is, which
    # lost finished results), and even when started with SIGINT ignored (a background job).
    inputs = write_inputs(tmp_path / "in.jsonl", [json.dumps({"text": str(i)}) for i in range(24)])
    output = tmp_path / "out.jsonl"
    proc = start_cli(
        slow_emu, tmp_path, inputs, "--concurrency", "6", sigint_ignored=sigint_ignored
    )
    try:
        wait_for(lambda: finished_lines(output) >= 6)
        wait_for(lambda: sum(j["status"] not in TERMINAL for j in jobs(slow_emu)) >= 3)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "canceled" in err
    # nothing is left running; what finished is in the file, and only that
    wait_for(lambda: all(j["status"] in TERMINAL for j in jobs(slow_emu)), timeout=10)
    done = {r["prediction_id"] for r in records(output)}
    succeeded = {j["id"] for j in jobs(slow_emu) if j["status"] == "succeeded"}
    assert done == succeeded
    assert any(j["status"] == "canceled" for j in jobs(slow_emu))

    run_to_end(slow_emu, tmp_path, inputs)
    out = records(output)
    assert sorted(r["line"] for r in out) == list(range(1, 25))
    per_input = Counter(j["input"]["text"] for j in jobs(slow_emu) if j["status"] == "succeeded")
    assert per_input == Counter(str(i) for i in range(24))

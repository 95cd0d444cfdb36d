"""The command line as a real process: ``python -m replicate_async``, Ctrl-C, ``emulator``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_support import LLAMA, SCRIPT, sigint_ignored

from replicate_async.emulator import Emulator

DEADLINE = 30.0  # every wait below is bounded by this many seconds


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPLICATE_")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def test_python_dash_m_is_the_same_command_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "replicate_async", "--help"],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        env=_env(),
    )
    assert result.returncode == 0, result.stderr
    assert "replicate-async" in result.stdout
    for command in ("run", "predictions", "demo", "emulator", "batch", "eval"):
        assert command in result.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("ignored", [False, True], ids=["foreground", "sigint-ignored"])
def test_ctrl_c_cancels_the_prediction_and_exits_130(
    emu: Emulator, tmp_path: Path, ignored: bool
) -> None:
    # ``ignored``: started as a background job is, with SIGINT ignored; the command still
    # takes Ctrl-C (kill -INT), as it would in the foreground.
    emu.options.model_timings = {LLAMA: (0.0, 10_000.0)}  # runs far longer than the test
    command = [SCRIPT, "run", LLAMA, "-i", "prompt=hi"]
    process = subprocess.Popen(
        sigint_ignored(command) if ignored else command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=_env(REPLICATE_API_TOKEN="r8_cli_tests", REPLICATE_BASE_URL=emu.url),
    )
    try:
        deadline = time.monotonic() + DEADLINE
        while not emu.predictions and time.monotonic() < deadline:
            time.sleep(0.05)
        assert emu.predictions, "the prediction was never created"
        [prediction] = emu.predictions.values()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=DEADLINE)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=DEADLINE)
    assert process.returncode == 130, stderr
    assert "Interrupted" in stderr
    assert 'File "/' not in stderr  # no traceback
    assert prediction.status == "canceled"  # Ctrl-C reached the remote prediction


@pytest.mark.parametrize("ignored", [False, True], ids=["foreground", "sigint-ignored"])
def test_emulator_command_serves_until_interrupted(tmp_path: Path, ignored: bool) -> None:
    command = [SCRIPT, "emulator", "--port", "0", "--seed", "7"]
    process = subprocess.Popen(
        sigint_ignored(command) if ignored else command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # blocks until the server announces itself
        assert "Replicate emulator API:" in first
        url = first.split()[-1]
        listed = subprocess.run(
            [sys.executable, "-m", "replicate_async", "hardware", "--json"],
            capture_output=True,
            text=True,
            timeout=DEADLINE,
            env=_env(REPLICATE_API_TOKEN="r8_any", REPLICATE_BASE_URL=url),
        )
        assert listed.returncode == 0, listed.stderr
        assert '"gpu-t4"' in listed.stdout
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=DEADLINE)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=DEADLINE)
    assert process.returncode == 0


def test_emulator_command_reports_a_taken_port() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "replicate_async", "emulator", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=DEADLINE,
            env=_env(),
        )
    assert result.returncode == 2
    assert f"cannot serve on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr

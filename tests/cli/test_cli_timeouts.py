"""An API that accepts connections but never answers: the command line gives up after
``--api-timeout`` (here shortened through its environment variable) and says so in its own
terms; Ctrl-C meanwhile just stops. The real console script, a loopback server."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cli_support import LLAMA, SCRIPT, SCRIPT_TIMEOUT, script, script_env


@contextlib.contextmanager
def silent_api() -> Iterator[tuple[str, threading.Event]]:
    """A loopback server that accepts every connection and never answers: its ``/v1`` URL,
    and an event set once a connection was accepted."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.1)
    accepted = threading.Event()
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            held.append(conn)
            accepted.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1", accepted
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


def _env(url: str, timeout: str = "0.2") -> dict[str, str]:
    return script_env(
        REPLICATE_API_TOKEN="r8_cli_tests",
        REPLICATE_BASE_URL=url,
        REPLICATE_CLI_API_TIMEOUT=timeout,
    )


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["run", LLAMA, "-i", "prompt=hi"], id="run-by-name"),
        pytest.param(["run", f"{LLAMA}:{'a' * 64}", "-i", "prompt=hi"], id="run-pinned"),
        pytest.param(["models", "get", LLAMA], id="models-get"),
    ],
)
def test_a_silent_api_is_reported_in_cli_terms(args: list[str], tmp_path: Path) -> None:
    with silent_api() as (url, accepted), ThreadPoolExecutor(2) as pool:
        # Both forms side by side: each spends its seconds in the client's retry backoff.
        plain = pool.submit(script, *args, env=_env(url), cwd=tmp_path)
        json_form = pool.submit(script, *args, "--json", env=_env(url), cwd=tmp_path)
        result, as_json = plain.result(), json_form.result()
    assert accepted.is_set()
    assert result.returncode == 3, result.stderr
    assert "Could not reach the API" in result.stderr
    assert "no answer from the API within 0.2 s" in result.stderr
    assert "--api-timeout" in result.stderr
    assert "Client(" not in result.stderr  # Python-API advice
    assert "Traceback" not in result.stderr
    payload = json.loads(as_json.stdout)
    assert payload["exit_code"] == 3 and "--api-timeout" in payload["message"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_while_the_api_is_silent_just_stops(tmp_path: Path) -> None:
    with silent_api() as (url, accepted):
        process = subprocess.Popen(
            [SCRIPT, "run", LLAMA, "-i", "prompt=hi"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=_env(url, timeout="600"),  # only Ctrl-C ends it
        )
        try:
            assert accepted.wait(SCRIPT_TIMEOUT), "the command never connected"
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=SCRIPT_TIMEOUT)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate(timeout=SCRIPT_TIMEOUT)
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "Interrupted."
    assert "Client(" not in stderr and "exception" not in stderr

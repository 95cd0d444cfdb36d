"""Tables fit the terminal (one line per row, cut with …) and are plain TSV in a pipe: the
real console script on a pseudo-terminal of 80 columns, and through a pipe."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest
from cli_support import SCRIPT, SCRIPT_TIMEOUT, script, script_env
from hypothesis import given, settings
from hypothesis import strategies as st

from replicate_async.cli._render import cut, fit_widths
from replicate_async.emulator import Emulator

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def on_a_terminal(*args: str, env: dict[str, str], columns: int = 80) -> str:
    """Run the console script with stdout on a pseudo-terminal ``columns`` wide; its output
    without colour codes."""
    import pty

    master, slave = pty.openpty()
    try:
        process = subprocess.Popen(
            [SCRIPT, *args],
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=subprocess.DEVNULL,
            env={**env, "COLUMNS": str(columns), "LINES": "50", "TERM": "xterm"},
        )
    finally:
        os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + SCRIPT_TIMEOUT
    try:
        while time.monotonic() < deadline:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other side has closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    assert process.returncode == 0
    return ANSI.sub("", b"".join(chunks).decode()).replace("\r\n", "\n")


def _env(emu: Emulator) -> dict[str, str]:
    return script_env(REPLICATE_API_TOKEN="r8_cli_tests", REPLICATE_BASE_URL=emu.url)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pseudo-terminals")
def test_search_fits_80_columns_one_line_per_model(emu: Emulator) -> None:
    output = on_a_terminal("models", "search", "llama", "--limit", "3", env=_env(emu))
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    assert all(len(line) <= 80 for line in lines), output
    rows = [line for line in lines if line.startswith("│")]
    assert len(rows) == 3, output  # one line per model, however long its description
    assert len(lines) <= 10, output  # was 130 lines
    assert "meta/meta-llama-3-8b-instruct" in output  # ids are never cut
    assert "…" in output  # descriptions are


def test_a_pipe_gets_tab_separated_values(emu: Emulator) -> None:
    result = script("models", "search", "llama", "--limit", "3", env=_env(emu))
    assert result.returncode == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert len(rows) >= 3
    assert all(len(row) == 3 for row in rows), result.stdout
    assert rows[0][0] == "meta/meta-llama-3-8b-instruct"
    assert "┃" not in result.stdout and "│" not in result.stdout and "…" not in result.stdout
    hardware = script("hardware", env=_env(emu))
    assert hardware.stdout.splitlines()[0].split("\t")[0] == "cpu"


@settings(derandomize=True, max_examples=300, deadline=None)
@given(st.lists(st.integers(1, 200), min_size=1, max_size=6), st.integers(10, 300))
def test_fit_widths_fits_and_keeps_what_fits(natural: list[int], available: int) -> None:
    widths = fit_widths(natural, available, floor=6)
    assert len(widths) == len(natural)
    assert all(w <= n for w, n in zip(widths, natural, strict=True))
    assert all(w >= min(n, 6) for w, n in zip(widths, natural, strict=True))
    if sum(natural) <= available:
        assert widths == natural
    elif available >= 6 * len(natural):
        assert sum(widths) == available
        if sum(natural[1:]) - 6 * (len(natural) - 1) >= sum(natural) - available:
            assert widths[0] == natural[0]  # the first column is cut only as a last resort


def test_cut_marks_what_it_cuts() -> None:
    assert cut("abcdef", 6) == "abcdef"
    assert cut("abcdefg", 6) == "abcde…"

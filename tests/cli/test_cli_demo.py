"""``replicate-async demo`` (what ``make demo`` runs): every step's title and result appear."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cli_support import CliInvoker

from replicate_async.cli._demo_steps import latency_summary, png_size
from replicate_async.cli.demo import STEP_TITLES


def test_demo_runs_every_step_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("REPLICATE_API_TOKEN", "REPLICATE_API_KEY", "REPLICATE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)  # no token, no network: the emulator only
    result = CliInvoker()("demo", "--prompts", "200", "-o", str(tmp_path / "demo"))
    assert result.exit_code == 0, result.output
    out = result.stdout
    for title in STEP_TITLES:
        assert title.format(n=200) in out
    assert "the embedded emulator" in out
    # 1. a streamed answer
    assert re.search(r"✓ streamed \d+ tokens in [\d.]+ s \(first token after \d+ ms\)", out)
    # 2. a saved image: its path, size and pixels
    image = tmp_path / "demo" / "out-0.png"
    assert f"✓ saved {image}" in out
    assert f"({image.stat().st_size:,} bytes, 768x768 pixels)" in out
    assert png_size(image.read_bytes()) == (768, 768)
    # 3. fan-out with a latency summary
    assert re.search(r"✓ 200/200 succeeded in [\d.]+ s: \d+ predictions/s; latency p50", out)
    assert "200/200" in out  # the progress bar's last state
    # 4. a verified webhook, and a forged one refused
    assert "✓ received the 'completed' webhook" in out
    assert "refused with HTTP 401" in out
    assert "Demo finished in" in out


def test_demo_remote_without_a_token_stops_before_any_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    for name in ("REPLICATE_API_TOKEN", "REPLICATE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REPLICATE_BASE_URL", "http://127.0.0.1:9/v1")  # and nothing to reach
    result = CliInvoker()("demo", "--remote")
    assert result.exit_code == 4
    assert "REPLICATE_API_TOKEN" in result.stderr


def test_demo_remote_and_local_contradict(tmp_path: Path) -> None:
    result = CliInvoker()("--local", "demo", "--remote")
    assert result.exit_code == 2


def test_latency_summary_percentiles() -> None:
    summary = latency_summary([float(i) for i in range(1, 101)], failed=2, wall=4.0)
    assert (summary.count, summary.failed) == (102, 2)
    assert (summary.p50, summary.p95, summary.max) == (50.0, 95.0, 100.0)
    assert summary.throughput == pytest.approx(25.5)
    empty = latency_summary([], failed=0, wall=0.0)
    assert (empty.p50, empty.max, empty.throughput) == (0.0, 0.0, 0.0)


def test_png_size_reads_the_header() -> None:
    header = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + (640).to_bytes(4, "big")
    assert png_size(header + (480).to_bytes(4, "big")) == (640, 480)
    assert png_size(b"GIF89a" + bytes(30)) is None

"""The command line leaves nothing running behind it, and its fan-out reports what a user
experiences. Self-contained (the shared CLI helpers are being reorganised); every wait bounded."""

from __future__ import annotations

import asyncio
import io
import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from replicate_async.cli._demo_steps import Stopwatch, fan_out
from replicate_async.emulator import Emulator
from replicate_async.emulator.pytest_plugin import FAST_DEFAULTS

LLAMA = "meta/meta-llama-3-8b-instruct"
DEADLINE = 30.0


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPLICATE_")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_during_run_json_cancels_the_prediction__peer_defect_3(tmp_path: Path) -> None:
    # With --json the command used sync mode: the create request stays open until the
    # prediction ends, so Ctrl-C found no prediction id to cancel and left it running.
    with Emulator(**FAST_DEFAULTS, model_timings={LLAMA: (0.0, 10_000.0)}) as emu:
        process = subprocess.Popen(
            [sys.executable, "-m", "replicate_async", "run", LLAMA, "-i", "prompt=hi", "--json"],
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
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=DEADLINE)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate(timeout=DEADLINE)
        [prediction] = emu.predictions.values()
        assert process.returncode == 130, stderr
        assert prediction.status == "canceled", stderr


# -- the demo's fan-out latency -----------------------------------------------------------------
def test_stopwatch_times_each_item_from_submission_to_result() -> None:
    ticks = iter([0.0, 1.0, 2.0, 5.0, 3.5, 9.0])  # submit 0, 1, 2; results of 0, 1, 2
    watch = Stopwatch(clock=lambda: next(ticks))
    inputs = watch.feed(["a", "b", "c"])
    assert [next(inputs) for _ in range(3)] == ["a", "b", "c"]
    assert [watch.stop(index) for index in range(3)] == [5.0, 2.5, 7.0]


async def test_fan_out_reports_client_observed_latency(replicate_emulator: Emulator) -> None:
    # The API's created_at → completed_at is the same for every prediction of the emulator and
    # leaves out the time a user waits (queueing for the rate limit, the round trips). The demo
    # times each item itself: with a clock that ticks once per reading, every latency is at
    # least one tick, and no two items can share submission and result times.
    ticks = itertools.count()
    async with replicate_emulator.client() as client:
        summary = await asyncio.wait_for(
            fan_out(client, Console(file=io.StringIO()), 20, clock=lambda: next(ticks)),
            DEADLINE,
        )
    assert (summary.count, summary.failed) == (20, 0)
    assert 1 <= summary.p50 <= summary.p95 <= summary.max <= 2 * 20 + 2


def following(emu: Emulator) -> bool:
    """Whether a training has been created and read back since (``--wait`` follows it)."""
    return any(record.operation == "trainings.get" for record in emu.requests)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_while_following_a_training_says_it_is_still_running(tmp_path: Path) -> None:
    # A training is long and dear: Ctrl-C stops the watching, never silently: the command says
    # the training goes on and how to stop it.
    trainer = "replicate/fast-flux-trainer"
    with Emulator(**FAST_DEFAULTS, model_timings={trainer: (0.0, 10_000.0)}) as emu:
        with emu.client() as client:
            client.models.create("emulator", "my-flux", visibility="private", hardware="gpu-t4")
            version = client.models.get(trainer).latest_version
        assert version is not None
        images = tmp_path / "images.zip"
        images.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip archive
        args = ["trainings", "create", f"{trainer}:{version.id}", "-d", "emulator/my-flux"]
        args += ["-i", f"input_images=@{images}", "--wait"]
        process = subprocess.Popen(
            [sys.executable, "-m", "replicate_async", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=_env(REPLICATE_API_TOKEN="r8_cli_tests", REPLICATE_BASE_URL=emu.url),
        )
        try:
            deadline = time.monotonic() + DEADLINE
            while not following(emu) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert following(emu), "the training was never followed"
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=DEADLINE)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate(timeout=DEADLINE)
        [training_id] = emu.trainings
        assert process.returncode == 130, stderr
        assert f"training {training_id} is still running" in stderr
        assert f"replicate-async trainings cancel {training_id}" in stderr

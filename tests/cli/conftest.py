"""Fixtures for the command-line tests: an emulator in a background thread, and ``cli`` to
invoke ``replicate-async`` in-process against it (token and base URL from the environment,
as a user would set them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import CliInvoker

from replicate_async.emulator import Emulator
from replicate_async.emulator.pytest_plugin import FAST_DEFAULTS


@pytest.fixture
def emu() -> Iterator[Emulator]:
    """A fast emulator served from a background thread (the CLI runs its own event loops)."""
    with Emulator(**FAST_DEFAULTS) as emulator:
        yield emulator


@pytest.fixture
def cli(emu: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliInvoker:
    """``cli("run", "owner/name", …)`` → click's result, against ``emu``, cwd in a tmp dir."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_cli_tests")
    monkeypatch.setenv("REPLICATE_BASE_URL", emu.url)
    monkeypatch.delenv("REPLICATE_API_KEY", raising=False)
    return CliInvoker()

"""Helpers for the command-line tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import Result
from support import CliInvoker

__all__ = [
    "LLAMA",
    "SCRIPT",
    "SCRIPT_TIMEOUT",
    "SDXL",
    "CliInvoker",
    "assert_no_traceback",
    "script",
    "script_env",
    "sigint_ignored",
]

SCRIPT = str(Path(sys.executable).with_name("replicate-async"))
"""The installed console script, beside the interpreter running the tests."""

SCRIPT_TIMEOUT = 60.0
"""Seconds one run of the console script may take (every wait is bounded)."""


def script_env(**extra: str) -> dict[str, str]:
    """The environment without any REPLICATE_* setting of the machine, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPLICATE_")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def script(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """Run the real ``replicate-async`` console script to its end (stdout, stderr apart)."""
    return subprocess.run(
        [SCRIPT, *args],
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT,
        env=env if env is not None else script_env(),
        cwd=cwd,
        **kwargs,
    )


def sigint_ignored(command: list[str]) -> list[str]:
    """``command`` started the way a shell starts a background job: with SIGINT ignored,
    which the program inherits (the wrapper ignores it, then ``exec``s in the same process,
    so the pid that gets the signal is the program's own)."""
    wrapper = (
        "import os, signal, sys\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "os.execv(sys.argv[1], sys.argv[1:])\n"
    )
    return [sys.executable, "-c", wrapper, *command]


LLAMA = "meta/meta-llama-3-8b-instruct"
SDXL = "stability-ai/sdxl:7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"


def assert_no_traceback(result: Result) -> None:
    """The one-screen error rule: no Python traceback of ours on either stream (a model's own
    logs may quote one of its own, with relative paths such as ``File "predict.py"``)."""
    assert 'File "/' not in result.output, result.output
    assert "site-packages" not in result.output, result.output

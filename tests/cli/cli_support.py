"""Helpers for the command-line tests."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner, Result

from replicate_async.cli import cli as cli_group

LLAMA = "meta/meta-llama-3-8b-instruct"
SDXL = "stability-ai/sdxl:7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"


class CliInvoker:
    """Runs ``replicate-async`` in-process with click's runner (stdout and stderr apart)."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None) -> Result:
        return self.runner.invoke(cli_group, list(args), input=input, catch_exceptions=False)

    def json(self, *args: str) -> Any:
        """Run with ``--json`` appended and decode stdout (the command must succeed)."""
        result = self(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


def assert_no_traceback(result: Result) -> None:
    """The one-screen error rule: no Python traceback of ours on either stream (a model's own
    logs may quote one of its own, with relative paths such as ``File "predict.py"``)."""
    assert 'File "/' not in result.output, result.output
    assert "site-packages" not in result.output, result.output

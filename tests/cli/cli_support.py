"""Helpers for the command-line tests."""

from __future__ import annotations

from click.testing import Result
from support import CliInvoker

__all__ = ["LLAMA", "SDXL", "CliInvoker", "assert_no_traceback"]

LLAMA = "meta/meta-llama-3-8b-instruct"
SDXL = "stability-ai/sdxl:7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"


def assert_no_traceback(result: Result) -> None:
    """The one-screen error rule: no Python traceback of ours on either stream (a model's own
    logs may quote one of its own, with relative paths such as ``File "predict.py"``)."""
    assert 'File "/' not in result.output, result.output
    assert "site-packages" not in result.output, result.output

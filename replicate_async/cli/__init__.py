"""The ``replicate-async`` command line (also ``python -m replicate_async``)."""

from ._main import cli, main

__all__ = ["cli", "main"]

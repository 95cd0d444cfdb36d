"""The ``replicate-async`` command line (also ``python -m replicate_async``).

It needs the ``cli`` extra (click, rich, PyYAML): ``pip install 'replicate_async[cli]'``. The
library itself does not; without them, the command says what to install instead of a traceback.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["CLI_EXTRA_HINT", "cli", "main"]

CLI_EXTRA_HINT = "pip install 'replicate_async[cli]'"
_CLI_MODULES = ("click", "rich", "yaml")


def missing_cli_module(exc: ImportError) -> str | None:
    """The name of the ``cli`` extra's module whose absence caused ``exc`` (``None``: another)."""
    name = (exc.name or "").split(".")[0]
    return name if name in _CLI_MODULES else None


def main(argv: list[str] | None = None) -> Any:
    """Run the command line; without the ``cli`` extra, print what to install and exit 1."""
    try:
        from ._main import main as real_main
    except ImportError as exc:
        missing = missing_cli_module(exc)
        if missing is None:
            raise
        sys.stderr.write(
            f"replicate-async: the command line needs the 'cli' extra (missing module "
            f"{missing!r}). Install it with:\n\n    {CLI_EXTRA_HINT}\n"
        )
        raise SystemExit(1) from None
    return real_main(argv) if argv is not None else real_main()


def __getattr__(name: str) -> Any:
    if name == "cli":
        from ._main import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

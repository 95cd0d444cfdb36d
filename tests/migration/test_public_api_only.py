"""The command line and the providers are built on the public API only: no module of
``replicate_async.cli`` or ``replicate_async.providers`` imports a private module of the
library (``_core``, ``_io``, ``_ops``, ``_client`` …), so whatever they need is something every
user can have too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import replicate_async

PACKAGE = Path(replicate_async.__file__).parent


def private_imports(path: Path, package: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                continue  # the package's own modules (cli/_status.py …)
            if node.level:
                base = package.split(".")[: -(node.level - 1) or None]
                module = ".".join([*base, *(node.module or "").split(".")]).strip(".")
            else:
                module = node.module or ""
            names = [module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "replicate_async" and any(p.startswith("_") for p in parts[1:]):
                found.append(f"{path.name}:{node.lineno}: {name}")
    return found


@pytest.mark.parametrize("package", ["cli", "providers"])
def test_imports_only_public_names(package: str) -> None:
    offenders = []
    for path in sorted((PACKAGE / package).glob("*.py")):
        offenders += private_imports(path, f"replicate_async.{package}")
    assert offenders == []


def test_the_check_catches_a_private_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from .. import Client\nfrom ._status import x\nfrom .._ops.run import run_prediction\n"
        "import replicate_async._core.backoff\nfrom replicate_async.providers._eval import y\n"
    )
    assert private_imports(sample, "replicate_async.cli") == [
        "sample.py:3: replicate_async._ops.run",
        "sample.py:4: replicate_async._core.backoff",
        "sample.py:5: replicate_async.providers._eval",
    ]

"""``import replicate_async`` and ``replicate-async --help`` stay light: the client, aiohttp
and rich load on first use (start-up figures: benchmarks/bench_startup.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import replicate_async

HEAVY = ("aiohttp", "rich", "replicate_async._client", "replicate_async.emulator", "attrs")


def loaded_after(code: str) -> list[str]:
    """The heavy modules a fresh interpreter has loaded after running ``code``."""
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    modules = json.loads(out.strip().splitlines()[-1])
    return [m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY]


def test_import_package_loads_nothing_heavy() -> None:
    assert loaded_after("import replicate_async") == []


def test_cli_help_loads_nothing_heavy() -> None:
    code = (
        "import contextlib, io\n"
        "from replicate_async.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code == 0, exc.code\n"
    )
    assert loaded_after(code) == []


def test_first_access_imports_the_name() -> None:
    assert "replicate_async._client" in loaded_after("from replicate_async import Client")


@pytest.mark.parametrize("name", replicate_async.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(replicate_async, name) is not None
    assert name in dir(replicate_async)


def test_public_subpackages_stay_reachable_as_attributes() -> None:
    assert loaded_after("import replicate_async; replicate_async.types.Prediction") != []


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        replicate_async.no_such_name  # noqa: B018


def test_cli_version_is_read_when_asked() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "replicate_async", "--version"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert out.strip() == f"replicate-async, version {replicate_async.__version__}"

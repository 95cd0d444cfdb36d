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


# Commands whose help and usage errors need neither the client nor aiohttp. ``batch`` and
# ``eval`` show defaults of the batch engine and the providers in their help, so they load them.
LIGHT_COMMANDS = [
    ["run", "--help"],
    ["run"],
    ["run", "a/b", "-i", "prompt"],
    ["predictions", "list", "--limit", "-3"],
    ["predictions", "get", "--help"],
    ["models", "--help"],
    ["models", "list", "--limit", "abc"],
    ["collections", "--help"],
    ["account", "--help"],
    ["hardware", "--help"],
    ["trainings", "create", "--help"],
    ["deployments", "update", "acme/x", "--max-instances", "99"],
    ["files", "--help"],
    ["webhooks", "--help"],
    ["emulator", "--help"],
    ["emulator", "--port", "99999"],
    ["demo", "--help"],
    ["types", "--help"],
]


@pytest.mark.parametrize("argv", LIGHT_COMMANDS, ids=" ".join)
def test_command_help_and_usage_errors_load_no_client(argv: list[str]) -> None:
    """A person mistyping a command gets the answer without the client's start-up cost."""
    code = (
        "import contextlib, io\n"
        "from replicate_async.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):\n"
        "    try:\n"
        f"        main({argv!r})\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code in (0, 2), (exc.code, out.getvalue())\n"
        "    else:\n"
        "        raise AssertionError('the command did not exit')\n"
    )
    heavy = loaded_after(code)
    assert not [m for m in heavy if m.split(".")[0] == "aiohttp"], heavy
    assert not [
        m for m in heavy if m.startswith(("replicate_async._client", "replicate_async.emulator"))
    ]


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

"""The pytest-fixture example of docs/emulator.md works when copied into a fresh project.

It silently relied on this repository's ``asyncio_mode = "auto"``: in a user's project three
of its tests failed with "async def functions are not natively supported". Here the section's
files (the config it tells the user to write and the test file) go into an empty directory,
and pytest runs there in a subprocess with the current interpreter and nothing inherited
(no cache, no rootdir config of this repository, no PYTEST_* variables)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from docs_examples import ROOT, Block, blocks

DOC = ROOT / "docs" / "emulator.md"
SECTION = "### As a pytest fixture"
RUN_TIMEOUT = 120.0


def section_blocks() -> tuple[Block, Block]:
    """The section's ```toml config and ```python test file."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.index("\n## ", start)
    first_line = text[:start].count("\n") + 1
    last_line = text[:end].count("\n") + 1
    inside = [b for b in blocks(DOC) if first_line <= b.line <= last_line]
    (config,) = [b for b in inside if b.language == "toml"]
    (tests,) = [b for b in inside if b.language == "python"]
    return config, tests


def run_pytest(project: Path) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "REPLICATE_")) and k != "PYTHONPATH"
    }
    env["PYTHONWARNINGS"] = "error::ResourceWarning"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", "--rootdir", "."],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )


def passed(result: subprocess.CompletedProcess[str]) -> int:
    match = re.search(r"(\d+) passed", result.stdout)
    return int(match.group(1)) if match else 0


@pytest.mark.parametrize("form", ["auto mode in pyproject.toml", "explicit asyncio markers"])
def test_the_fixture_example_passes_in_a_fresh_project(tmp_path: Path, form: str) -> None:
    config, tests = section_blocks()
    (tmp_path / "tests").mkdir()
    code = tests.code
    if form == "auto mode in pyproject.toml":
        (tmp_path / "pyproject.toml").write_text(config.code, encoding="utf-8")
    else:  # the doc's strict-mode alternative: a marker above each async test, no config
        code = code.replace("\nasync def ", "\n@pytest.mark.asyncio\nasync def ")
        (tmp_path / "pytest.ini").write_text(
            "[pytest]\nasyncio_default_fixture_loop_scope = function\n", encoding="utf-8"
        )
    (tmp_path / "tests" / "test_with_emulator.py").write_text(code, encoding="utf-8")
    result = run_pytest(tmp_path)
    report = result.stdout + result.stderr
    expected = code.count("\ndef test_") + code.count("\nasync def test_")
    assert expected == 4
    assert result.returncode == 0, report
    assert passed(result) == expected, report
    assert "not natively supported" not in report and "skipped" not in report, report
    assert f"rootdir: {tmp_path}" in report, report


def test_without_the_config_the_async_tests_do_not_pass(tmp_path: Path) -> None:
    """Control: the check above can fail. The test file alone (strict mode) does not pass."""
    _, tests = section_blocks()
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_with_emulator.py").write_text(tests.code, encoding="utf-8")
    result = run_pytest(tmp_path)
    assert result.returncode != 0 or passed(result) < 4, result.stdout

"""Every ```python block of README.md and docs/**/*.md runs, each as its own test.

Each block runs in a fresh Python process (timeout ``EXAMPLE_TIMEOUT``), forked from a server
that has already imported the package (``forker.py``: the same process a script gets, without
paying the interpreter start and imports a hundred times), its working directory a
temporary directory, against an emulator started for it in this process, with the environment a
user would have: ``REPLICATE_BASE_URL`` (the emulator) and ``REPLICATE_API_TOKEN``. So examples
may use ``replicate_async.Client()`` as real users do, or start their own ``Emulator()``.

A block that cannot run must say why, visibly: ```python skip: <reason>. Shell commands and
program output use other fence languages (```bash, ```text).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from docs_examples import DOC_FILES, ROOT, Block, all_blocks, blocks, python_blocks

from replicate_async.emulator import Emulator

EXAMPLE_TIMEOUT = 60.0
MAX_SKIPPED = 5  # skipped examples must stay rare
TOKEN = "r8_docs_example"

EMULATOR_OPTIONS = {
    # Faster than real time so the suite stays quick, slow enough that streams still stream.
    "speed": 10.0,
    "create_rate_per_minute": 60_000.0,
    "create_burst": 1000.0,
    "rate_per_minute": 300_000.0,
    "burst": 5000.0,
    "webhook_throttle": 0.05,
    "webhook_retry_delays": (0.05, 0.1, 0.2),
}

BLOCKS = python_blocks()


class Forker:
    """The fork server of this test process (see ``forker.py``)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("forker.py"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, script: Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        out, err = cwd / ".stdout", cwd / ".stderr"
        job = {"script": str(script), "cwd": str(cwd), "env": env, "timeout": EXAMPLE_TIMEOUT}
        job.update(stdout=str(out), stderr=str(err))
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        stdout, stderr = out.read_text("utf-8"), err.read_text("utf-8")
        if answer["timed_out"]:
            raise subprocess.TimeoutExpired(str(script), EXAMPLE_TIMEOUT, stdout, stderr)
        return subprocess.CompletedProcess([str(script)], answer["returncode"], stdout, stderr)

    def close(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)
        self.process.stdout.close()


@pytest.fixture(scope="session")
def forker() -> Iterator[Forker]:
    server = Forker()
    yield server
    server.close()


@pytest.fixture
def docs_emulator() -> Iterator[Emulator]:
    """A stand-alone emulator (its own thread) for one example."""
    with Emulator(**EMULATOR_OPTIONS) as emu:
        yield emu


def run_block(
    block: Block, api_url: str, workdir: Path, forker: Forker
) -> subprocess.CompletedProcess[str]:
    """Run one block as a script in ``workdir``, as a user would, against ``api_url``."""
    script = workdir / "example.py"
    script.write_text(block.code, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPLICATE_")}
    env.update(
        REPLICATE_BASE_URL=api_url,
        REPLICATE_API_TOKEN=TOKEN,
        PYTHONUNBUFFERED="1",
        PYTHONWARNINGS="error::ResourceWarning",
        # The examples' own Emulator() runs as fast as the one above (it has no speed= of
        # its own): the documented variable, as a project's CI would set it.
        REPLICATE_EMULATOR_SPEED=str(EMULATOR_OPTIONS["speed"]),
    )
    return forker.run(script, workdir, env)


def check_block(block: Block, api_url: str, workdir: Path, forker: Forker) -> None:
    """Fail (showing the code, stdout and stderr) unless the block runs cleanly."""
    try:
        result = run_block(block, api_url, workdir, forker)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(
            f"{block.id} did not finish within {EXAMPLE_TIMEOUT:g} s\n"
            f"--- stdout ---\n{exc.stdout or ''}\n--- stderr ---\n{exc.stderr or ''}",
            pytrace=False,
        )
    if result.returncode != 0:
        pytest.fail(
            f"{block.id} exited with {result.returncode}\n--- code ---\n{block.code}"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}",
            pytrace=False,
        )
    assert TOKEN not in result.stdout + result.stderr, f"{block.id} printed the API token"


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_example_runs(
    block: Block, docs_emulator: Emulator, tmp_path: Path, forker: Forker
) -> None:
    reason = block.skip_reason
    if reason is not None:
        pytest.skip(f"{block.id}: {reason}")
    check_block(block, docs_emulator.url, tmp_path, forker)


def test_a_failing_example_fails_with_its_stderr(
    docs_emulator: Emulator, tmp_path: Path, forker: Forker
) -> None:
    code = "import replicate_async\nreplicate_async.Client().run_sync('nobody/nothing')\n"
    block = Block(ROOT / "README.md", 1, "python", code)
    with pytest.raises(pytest.fail.Exception) as failed:
        check_block(block, docs_emulator.url, tmp_path, forker)
    assert "README.md:1 exited with 1" in str(failed.value)
    assert "NotFoundError" in str(failed.value)  # the example's own traceback is shown
    leaky = Block(
        ROOT / "README.md", 2, "python", "import os\nprint(os.environ['REPLICATE_API_TOKEN'])\n"
    )
    with pytest.raises(AssertionError, match="printed the API token"):
        check_block(leaky, docs_emulator.url, tmp_path, forker)


def test_blocks_are_found_with_their_fences_and_skip_reasons(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(
        "# t\n\n```python\nprint(1)\n```\n\n```bash\nmake demo\n```\n\n"
        "  ~~~~python skip: needs a real token\n  if True:\n      x = 1\n  ~~~~\n\n"
        "````text\n```python\nnot code\n```\n````\n",
        encoding="utf-8",
    )
    found = list(blocks(doc))
    assert [(b.line, b.language) for b in found] == [
        (3, "python"),
        (7, "bash"),
        (11, "python"),
        (16, "text"),
    ]
    assert found[0].code == "print(1)\n" and found[0].skip_reason is None
    assert found[2].skip_reason == "needs a real token"
    assert found[2].code == "if True:\n    x = 1\n"  # the fence's indentation removed
    assert found[3].code == "```python\nnot code\n```\n"  # a longer fence holds shorter ones


def test_skipped_examples_are_rare_and_say_why() -> None:
    skipped = [b for b in BLOCKS if b.skip_reason is not None]
    assert len(skipped) <= MAX_SKIPPED, [b.id for b in skipped]
    for block in BLOCKS:
        if block.info.strip() != "python":
            # "python" plus anything but a skip reason is a typo that would silently not run
            assert block.skip_reason, f"{block.id}: fence info {block.info!r} is not understood"


def test_no_python_hides_under_another_fence() -> None:
    """A block that is Python under an unmarked fence would never run: it must say python."""
    for block in all_blocks():
        if block.language in ("", "py", "python3", "pycon"):
            pytest.fail(
                f"{block.id}: use ```python (runs) or ```text (does not), not {block.info!r}"
            )


def test_readme_starts_with_the_two_commands() -> None:
    lines = [line for line in (ROOT / "README.md").read_text("utf-8").splitlines() if line]
    assert lines[0].startswith("# ") and lines[1] == "```bash", "README must open with them"
    first = next(b for b in all_blocks() if b.path == ROOT / "README.md")
    commands = [line.split("#")[0].strip() for line in first.code.splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]


def test_relative_links_point_at_files_that_exist() -> None:
    for path in DOC_FILES:
        text = path.read_text(encoding="utf-8")
        for target in re.findall(r"\]\((?!https?:|mailto:|#)([^)\s#]+)", text):
            assert (path.parent / target).exists(), f"{path.relative_to(ROOT)} links to {target}"

"""Finding the code blocks of README.md and docs/**/*.md (pure; used by the docs tests).

A block fenced as ```python runs as a test. ```python skip: <reason> is skipped, visibly,
with that reason (keep these rare). Any other fence language (```bash, ```text …) is not run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parents[2]
DOC_FILES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")


@attrs.frozen
class Block:
    """One fenced code block: where it is, its info string and its code."""

    path: Path
    line: int  # 1-based line of the opening fence
    info: str
    code: str

    @property
    def language(self) -> str:
        return self.info.split()[0].lower() if self.info.split() else ""

    @property
    def runs(self) -> bool:
        return self.language == "python"

    @property
    def skip_reason(self) -> str | None:
        """The reason after ``skip:``, or None if the block is not skipped."""
        match = re.match(r"python\s+skip:\s*(?P<reason>\S.*)$", self.info.strip())
        return match.group("reason").strip() if match else None

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(path: Path) -> Iterator[Block]:
    """Every fenced block of a Markdown file (CommonMark fences, backticks or tildes)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, indent = opening.group("fence"), len(opening.group("indent"))
        start = index
        body: list[str] = []
        index += 1
        while index < len(lines):
            closing = re.match(rf"^ {{0,3}}{fence[0]}{{{len(fence)},}}\s*$", lines[index])
            if closing:
                break
            line = lines[index]
            # CommonMark: remove up to the opening fence's indentation from each line
            strip = len(line) - len(line.lstrip(" "))
            body.append(line[min(indent, strip) :])
            index += 1
        index += 1
        yield Block(path, start + 1, opening.group("info").strip(), "\n".join(body) + "\n")


def all_blocks() -> list[Block]:
    """The blocks of README.md and every file under docs/, in file order."""
    return [block for path in DOC_FILES for block in blocks(path)]


def python_blocks() -> list[Block]:
    """The blocks that run (or are skipped with a reason)."""
    return [block for block in all_blocks() if block.runs]

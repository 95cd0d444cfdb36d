"""Every ```python block of docs/webhooks.md runs, each on its own, as a reader would run it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```$", DOC.read_text(encoding="utf-8"), re.M | re.S)


def test_the_page_has_examples() -> None:
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("number", range(len(BLOCKS)))
def test_example_runs(number: int, capsys: pytest.CaptureFixture[str]) -> None:
    code = compile(BLOCKS[number], f"{DOC.name}[python block {number + 1}]", "exec")
    exec(code, {"__name__": f"webhooks_doc_{number}"})
    if "asyncio.run(main())" in BLOCKS[number]:
        out = capsys.readouterr().out
        assert "succeeded" in out  # the end-to-end example saw the completed prediction

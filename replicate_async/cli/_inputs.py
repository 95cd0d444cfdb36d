"""``-i key=value`` parsing (pure): JSON when it parses, else text; ``@path`` for files."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ._errors import CliError

__all__ = ["parse_input_value", "parse_inputs"]


def parse_input_value(raw: str) -> Any:
    """``"3"`` → 3, ``"true"`` → True, ``'["a"]'`` → list, ``"@cat.png"`` → ``Path``, and
    anything that is not JSON stays the text it is (``"a cat"``). ``@@x`` is the text ``@x``."""
    if raw.startswith("@@"):
        return raw[1:]
    if raw.startswith("@"):
        path = Path(raw[1:]).expanduser()
        if not raw[1:]:
            raise CliError("'@' must be followed by a file path, as in -i image=@cat.png")
        if not path.is_file():
            raise CliError(f"input file not found: {raw[1:]}")
        return path
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    # A bare JSON string ("\"x\"") unquotes; other JSON (numbers, booleans, null, lists,
    # objects) is taken as given.
    return value


def parse_inputs(pairs: Iterable[str]) -> dict[str, Any]:
    """``["prompt=a cat", "steps=20"]`` → ``{"prompt": "a cat", "steps": 20}``."""
    result: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CliError(
                f"inputs are key=value (or key=@file), got {pair!r}; for example "
                "-i prompt='a cat' -i steps=20 -i image=@cat.png"
            )
        if key in result:
            raise CliError(f"input {key!r} given twice")
        result[key] = parse_input_value(raw)
    return result

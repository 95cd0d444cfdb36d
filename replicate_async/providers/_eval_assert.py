"""promptfoo's deterministic assertions (pure): ``assert:`` entries of an eval test, checked
against a case's output.

Checked, with promptfoo's semantics (and each with its ``not-`` form):
``equals`` (an object or list value compares as JSON), ``contains``, ``icontains``,
``contains-any``, ``icontains-any``, ``contains-all``, ``icontains-all`` (a string value is a
comma-separated list; quote an item to keep a comma in it), ``starts-with``, ``regex``,
``is-json``, ``contains-json`` (without a schema ``value``), ``levenshtein`` (distance at most
``threshold``, default 5) and ``latency`` (milliseconds at most ``threshold``).

Every other type (``llm-rubric``, ``javascript``, ``similar`` …), and a JSON-schema ``value``
of ``is-json``/``contains-json``, is reported as **not checked**: never as passed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import attrs

from .. import ConfigurationError

__all__ = [
    "CHECKED_TYPES",
    "Assertion",
    "AssertionResult",
    "Verdict",
    "check",
    "parse_assertions",
    "split_values",
]

Verdict = Literal["passed", "failed", "not checked"]

DEFAULT_LEVENSHTEIN_THRESHOLD = 5.0


@attrs.frozen
class Assertion:
    """One ``assert:`` entry: ``type`` as written (``not-contains``), its value, threshold."""

    type: str
    value: Any = None
    threshold: float | None = None

    @property
    def inverse(self) -> bool:
        """Whether this is the ``not-`` form of a checked type."""
        return self.type.startswith("not-") and self.type[4:] in CHECKED_TYPES

    @property
    def base(self) -> str:
        """The type without its ``not-`` prefix."""
        return self.type[4:] if self.inverse else self.type


@attrs.frozen
class AssertionResult:
    """The verdict on one assertion and, unless it passed, why."""

    type: str
    verdict: Verdict
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        """The JSONL form."""
        return {"type": self.type, "verdict": self.verdict, "reason": self.reason}


def split_values(value: Any) -> list[str]:
    """A list value as strings; a string split at commas as promptfoo does (``"a, b"`` →
    ``["a", "b"]``; ``'"x, y", z'`` → ``["x, y", "z"]``; ``\\"`` or ``""`` inside quotes is
    a quote)."""
    if isinstance(value, (list, tuple)):
        return [_text(v) for v in value]
    if not isinstance(value, str):
        raise ValueError("needs a list or a comma-separated string")
    items: list[str] = []
    i, n = 0, len(value)
    while i < n:
        while i < n and (value[i].isspace() or value[i] == ","):
            i += 1
        if i >= n:
            break
        if value[i] != '"':
            end = value.find(",", i)
            end = n if end < 0 else end
            items.append(value[i:end].strip())
            i = end
            continue
        i += 1
        field: list[str] = []
        while True:
            if i >= n:
                raise ValueError("has an unterminated quoted item")
            if value[i] == "\\" and i + 1 < n and value[i + 1] in '"\\':
                field.append(value[i + 1])
                i += 2
            elif value[i] == '"' and i + 1 < n and value[i + 1] == '"':
                field.append('"')
                i += 2
            elif value[i] == '"':
                i += 1
                break
            else:
                field.append(value[i])
                i += 1
        items.append("".join(field))
        while i < n and value[i].isspace():
            i += 1
        if i < n and value[i] != ",":
            raise ValueError("needs a comma after a quoted item")
    return items


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _levenshtein(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _json_values(text: str) -> list[Any]:
    """Every JSON object or array that can be read starting at a ``{`` or ``[`` of ``text``."""
    decoder = json.JSONDecoder()
    found: list[Any] = []
    i = 0
    while i < len(text):
        if text[i] in "{[":
            try:
                value, end = decoder.raw_decode(text, i)
            except ValueError:
                i += 1
                continue
            found.append(value)
            i = end
        else:
            i += 1
    return found


def _needs_text(assertion: Assertion) -> str:
    value = assertion.value
    if isinstance(value, bool) or not isinstance(value, (str, int, float)) or value == "":
        raise ValueError("needs a string or number value")
    return _text(value)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _equals(a: Assertion, output: str, latency_ms: float | None) -> bool:
    if isinstance(a.value, (Mapping, list)):
        try:
            return bool(json.loads(output) == a.value)
        except ValueError:
            return False
    return output == _text(a.value)


def _latency(a: Assertion, output: str, latency_ms: float | None) -> bool:
    if a.threshold is None:
        raise ValueError("needs a threshold (milliseconds)")
    if latency_ms is None:
        raise LookupError("the case has no measured latency")
    return latency_ms <= a.threshold


def _levenshtein_check(a: Assertion, output: str, latency_ms: float | None) -> bool:
    if not isinstance(a.value, str):
        raise ValueError("needs a string value")
    threshold = a.threshold or DEFAULT_LEVENSHTEIN_THRESHOLD
    return _levenshtein(output, a.value) <= threshold


def _json_check(a: Assertion, output: str, latency_ms: float | None) -> bool:
    if a.value not in (None, ""):
        raise LookupError("JSON-schema validation is not supported")
    if a.base == "is-json":
        return _is_json(output)
    return bool(_json_values(output))


def _regex(a: Assertion, output: str, latency_ms: float | None) -> bool:
    pattern = _needs_text(a)
    try:
        return re.search(pattern, output) is not None
    except re.error as exc:
        raise ValueError(f"has an invalid regular expression: {exc}") from None


def _contains_some(fold: bool, every: bool) -> Callable[[Assertion, str, float | None], bool]:
    def check_values(a: Assertion, output: str, latency_ms: float | None) -> bool:
        if a.value in (None, "", []):
            raise ValueError("needs a value")
        values = split_values(a.value)
        haystack = output.lower() if fold else output
        hits = [(v.lower() if fold else v) in haystack for v in values]
        return all(hits) if every else any(hits)

    return check_values


CHECKS: dict[str, Callable[[Assertion, str, float | None], bool]] = {
    "equals": _equals,
    "contains": lambda a, out, _: _needs_text(a) in out,
    "icontains": lambda a, out, _: _needs_text(a).lower() in out.lower(),
    "contains-any": _contains_some(fold=False, every=False),
    "icontains-any": _contains_some(fold=True, every=False),
    "contains-all": _contains_some(fold=False, every=True),
    "icontains-all": _contains_some(fold=True, every=True),
    "starts-with": lambda a, out, _: out.startswith(_needs_text(a)),
    "regex": _regex,
    "is-json": _json_check,
    "contains-json": _json_check,
    "levenshtein": _levenshtein_check,
    "latency": _latency,
}
CHECKED_TYPES = frozenset(CHECKS)


def check(assertion: Assertion, output: str, latency_ms: float | None = None) -> AssertionResult:
    """The verdict of ``assertion`` on the text ``output`` (``latency_ms``: how long the
    case took). An assertion that cannot be checked here is ``not checked``, never passed;
    one with an unusable value fails (as it does in promptfoo) with the reason."""
    what = assertion.type
    checker = CHECKS.get(assertion.base)
    if checker is None:
        return AssertionResult(what, "not checked", f"assertion type {what!r} is not supported")
    try:
        hit = checker(assertion, output, latency_ms)
    except LookupError as exc:
        return AssertionResult(what, "not checked", str(exc).strip("'\""))
    except ValueError as exc:
        return AssertionResult(what, "failed", f"{what} {exc}")
    if hit != assertion.inverse:
        return AssertionResult(what, "passed")
    expected = _describe(assertion)
    return AssertionResult(what, "failed", f"expected the output {expected}")


def _describe(a: Assertion) -> str:
    neg = "not " if a.inverse else ""
    if a.base == "latency":
        return f"to take {'more than' if a.inverse else 'at most'} {a.threshold:g} ms"
    if a.base == "levenshtein":
        limit = a.threshold or DEFAULT_LEVENSHTEIN_THRESHOLD
        return f"{neg}to be within edit distance {limit:g} of {a.value!r}"
    if a.base in ("is-json", "contains-json"):
        return f"{neg}to {'be' if a.base == 'is-json' else 'contain'} valid JSON"
    value = a.value if isinstance(a.value, str) else json.dumps(a.value, default=str)
    return f"{neg}{_PHRASES[a.base]} {value!r:.80}"


_PHRASES = {
    "equals": "to equal",
    "contains": "to contain",
    "icontains": "to contain (ignoring case)",
    "contains-any": "to contain one of",
    "icontains-any": "to contain (ignoring case) one of",
    "contains-all": "to contain all of",
    "icontains-all": "to contain (ignoring case) all of",
    "starts-with": "to start with",
    "regex": "to match the regular expression",
}


def parse_assertions(raw: Any, where: str) -> tuple[Assertion, ...]:
    """An ``assert:`` list: mappings with ``type`` (and ``value``, ``threshold``)."""
    if raw is None:
        return ()
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise ConfigurationError(f"{where} must be a list of assertions")
    parsed: list[Assertion] = []
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping) or not isinstance(item.get("type"), str):
            raise ConfigurationError(f"{where}[{i}] must be a mapping with a 'type'")
        threshold = item.get("threshold")
        if threshold is not None and (
            isinstance(threshold, bool) or not isinstance(threshold, (int, float))
        ):
            raise ConfigurationError(f"{where}[{i}].threshold must be a number")
        parsed.append(
            Assertion(
                item["type"],
                item.get("value"),
                float(threshold) if threshold is not None else None,
            )
        )
    return tuple(parsed)

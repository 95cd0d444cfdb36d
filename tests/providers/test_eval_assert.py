"""promptfoo's deterministic assertions: each type and its not- form, unusable values, and
every other type reported as not checked (never passed)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replicate_async import ConfigurationError
from replicate_async.providers._eval_assert import (
    CHECKED_TYPES,
    Assertion,
    check,
    parse_assertions,
    split_values,
)

OUT = 'Hello, World! Here is {"a": 1, "b": [2, 3]} as asked.'

CASES: list[tuple[str, Any, float | None, str, bool]] = [
    # type, value, threshold, output, passes
    ("equals", "Hello", None, "Hello", True),
    ("equals", "Hello", None, "Hello ", False),
    ("equals", {"a": 1}, None, '{"a":1}', True),
    ("equals", {"a": 1}, None, "not json", False),
    ("equals", 42, None, "42", True),
    ("contains", "World", None, OUT, True),
    ("contains", "world", None, OUT, False),
    ("icontains", "WORLD", None, OUT, True),
    ("icontains", "moon", None, OUT, False),
    ("contains-any", "moon, World", None, OUT, True),
    ("contains-any", ["moon", "sun"], None, OUT, False),
    ("icontains-any", "MOON,world", None, OUT, True),
    ("contains-all", '"Hello, World", asked', None, OUT, True),
    ("contains-all", ["Hello", "moon"], None, OUT, False),
    ("icontains-all", ["hello", "ASKED"], None, OUT, True),
    ("starts-with", "Hello", None, OUT, True),
    ("starts-with", "World", None, OUT, False),
    ("regex", r"\{.*\}", None, OUT, True),
    ("regex", r"^\d+$", None, OUT, False),
    ("is-json", None, None, '{"a": 1}', True),
    ("is-json", None, None, OUT, False),
    ("contains-json", None, None, OUT, True),
    ("contains-json", None, None, "no braces {here", False),
    ("levenshtein", "kitten", None, "sitting", True),  # distance 3 <= default 5
    ("levenshtein", "kitten", 2, "sitting", False),
    ("levenshtein", "abc", 0, "abc", True),
]


@pytest.mark.parametrize(("kind", "value", "threshold", "output", "passes"), CASES)
def test_each_type_and_its_not_form(
    kind: str, value: Any, threshold: float | None, output: str, passes: bool
) -> None:
    assert check(Assertion(kind, value, threshold), output).verdict == (
        "passed" if passes else "failed"
    )
    inverse = check(Assertion(f"not-{kind}", value, threshold), output)
    assert inverse.verdict == ("failed" if passes else "passed"), inverse


def test_latency_compares_milliseconds_with_the_threshold() -> None:
    assert check(Assertion("latency", threshold=500), "x", latency_ms=120.0).verdict == "passed"
    slow = check(Assertion("latency", threshold=500), "x", latency_ms=800.0)
    assert slow.verdict == "failed" and "500 ms" in slow.reason
    assert check(Assertion("not-latency", threshold=500), "x", 800.0).verdict == "passed"
    # without a measured latency, or a threshold, it is not a pass
    assert check(Assertion("latency", threshold=500), "x", None).verdict == "not checked"
    assert check(Assertion("latency"), "x", 5.0).verdict == "failed"


@pytest.mark.parametrize(
    "kind", ["llm-rubric", "javascript", "python", "similar", "model-graded-closedqa", "cost"]
)
def test_other_types_are_not_checked_never_passed(kind: str) -> None:
    for written in (kind, f"not-{kind}"):
        result = check(Assertion(written, "anything"), OUT)
        assert result.verdict == "not checked"
        assert written in result.reason


def test_a_json_schema_is_not_checked_rather_than_passed() -> None:
    schema = {"type": "object", "required": ["zzz"]}
    assert check(Assertion("is-json", schema), '{"a": 1}').verdict == "not checked"
    assert check(Assertion("contains-json", schema), OUT).verdict == "not checked"


@pytest.mark.parametrize(
    "assertion",
    [
        Assertion("contains"),
        Assertion("contains", ""),
        Assertion("icontains", ["a"]),
        Assertion("contains-any"),
        Assertion("regex", "(unclosed"),
        Assertion("contains-all", '"open quote, x'),
        Assertion("levenshtein", 3),
    ],
)
def test_an_unusable_value_fails_with_its_reason(assertion: Assertion) -> None:
    result = check(assertion, OUT)
    assert result.verdict == "failed"
    assert assertion.type in result.reason


def test_every_checked_type_is_covered_here() -> None:
    covered = {kind for kind, *_ in CASES} | {"latency"}
    assert covered == CHECKED_TYPES


def test_comma_separated_values_follow_promptfoo() -> None:
    assert split_values("a, b,,c ") == ["a", "b", "c"]
    assert split_values('"x, y", z') == ["x, y", "z"]
    assert split_values(r'"say \"hi\"", "it""s"') == ['say "hi"', 'it"s']
    assert split_values([1, "b", True]) == ["1", "b", "true"]


def test_assert_lists_are_validated() -> None:
    assert parse_assertions(
        [{"type": "contains", "value": "x"}, {"type": "latency", "threshold": 100}], "t"
    ) == (Assertion("contains", "x"), Assertion("latency", threshold=100.0))
    with pytest.raises(ConfigurationError, match=r"t\[0\] must be a mapping with a 'type'"):
        parse_assertions([{"value": "x"}], "t")
    with pytest.raises(ConfigurationError, match="threshold must be a number"):
        parse_assertions([{"type": "latency", "threshold": "fast"}], "t")
    with pytest.raises(ConfigurationError, match="must be a list"):
        parse_assertions("contains", "t")


def _reference_distance(a: str, b: str) -> int:
    if not a or not b:
        return len(a) + len(b)
    return min(
        _reference_distance(a[1:], b) + 1,
        _reference_distance(a, b[1:]) + 1,
        _reference_distance(a[1:], b[1:]) + (a[0] != b[0]),
    )


@settings(derandomize=True, max_examples=150, deadline=None)
@given(st.text("abc", max_size=6), st.text("abc", max_size=6), st.integers(0, 6))
def test_levenshtein_matches_the_textbook_distance(a: str, b: str, threshold: int) -> None:
    expected = _reference_distance(a, b) <= (threshold or 5)  # promptfoo: 0 means default
    verdict = check(Assertion("levenshtein", b, float(threshold)), a).verdict
    assert verdict == ("passed" if expected else "failed")


@settings(derandomize=True, max_examples=150, deadline=None)
@given(st.text(max_size=30), st.text(min_size=1, max_size=5))
def test_contains_and_its_inverse_never_agree(output: str, needle: str) -> None:
    for kind in ("contains", "icontains", "starts-with"):
        yes = check(Assertion(kind, needle), output).verdict
        no = check(Assertion(f"not-{kind}", needle), output).verdict
        assert {yes, no} == {"passed", "failed"}

"""Pure helpers of the emulator: header parsing, timestamps, ids, pagination."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replicate_async.emulator import Emulator
from replicate_async.emulator._http import parse_cancel_after, parse_prefer
from replicate_async.emulator._problems import Problem
from replicate_async.emulator._state import paginate
from replicate_async.emulator._util import format_ts, format_ts_ns, new_id, parse_ts, parse_ts_ns


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("wait", (60.0, "wait")),
        ("wait=1", (1.0, "wait=1")),
        ("wait=60", (60.0, "wait=60")),
        ("respond-async", None),
        ("respond-async, wait=5", (5.0, "wait=5")),
    ],
)
def test_parse_prefer(header: str | None, expected: object) -> None:
    assert parse_prefer(header) == expected


@pytest.mark.parametrize("header", ["wait=0", "wait=61", "wait=99"])
def test_parse_prefer_out_of_range(header: str) -> None:
    with pytest.raises(Problem):
        parse_prefer(header)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("30", 30), ("45s", 45), ("5m", 300), ("1h30m", 5400), ("1h30m45s", 5445), ("5", 5)],
)
def test_parse_cancel_after(header: str, seconds: float) -> None:
    assert parse_cancel_after(header) == seconds


@pytest.mark.parametrize("header", ["4", "4s", "", "m", "5x", "-10", "1.5s"])
def test_parse_cancel_after_invalid(header: str) -> None:
    with pytest.raises(Problem) as info:
        parse_cancel_after(header)
    assert info.value.status == 422


def test_timestamps_vary_and_parse_back() -> None:
    rng = random.Random(0)
    t = 1_700_000_000.123456789
    shapes = {len(format_ts(t, rng).split(".")[-1]) for _ in range(200)}
    assert len(shapes) >= 3
    pattern = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
    for digits in range(10):
        text = format_ts(t, digits=digits)
        assert pattern.match(text), text
        parsed = parse_ts(text)
        assert parsed is not None and abs(parsed - t) <= 1
    assert format_ts(1_700_000_000.0, digits=6) == "2023-11-14T22:13:20Z"
    assert parse_ts("2023-11-27T13:35:45.99397566Z") == pytest.approx(1701092145.99397566)
    assert parse_ts("not a date") is None


def test_ids() -> None:
    rng = random.Random(5)
    ids = {new_id(rng) for _ in range(500)}
    assert len(ids) == 500
    assert all(re.match(r"^[a-z2-7]{26}$", i) for i in ids)
    assert len({i[0] for i in ids}) > 20


def test_paginate_anchored_cursors() -> None:
    items = list(range(10, 0, -1))  # newest first, key = value
    page = paginate(items, cursor=None, page_size=4, url="u", query={"f": "x"}, key=int)
    assert page.results == [10, 9, 8, 7] and page.previous is None
    assert page.next is not None and page.next.startswith("u?f=x&cursor=")
    cursor = page.next.split("cursor=")[1]
    items.insert(0, 11)  # a new item does not shift the next page
    page2 = paginate(items, cursor=cursor, page_size=4, url="u", query={"f": "x"}, key=int)
    assert page2.results == [6, 5, 4, 3]
    assert page2.previous is not None
    back = paginate(
        items, cursor=page2.previous.split("cursor=")[1], page_size=4, url="u", query={}, key=int
    )
    assert back.results == [10, 9, 8, 7]


def test_printed_times_never_later_than_real_and_parse_exactly() -> None:
    ns = 1_700_000_000_987_654_321
    for digits in range(10):
        text = format_ts_ns(ns, digits=digits)
        parsed = parse_ts_ns(text)
        assert parsed is not None and ns - 10 ** (9 - digits) < parsed <= ns, (digits, text)
    assert format_ts_ns(ns, digits=3) == "2023-11-14T22:13:20.987Z"  # truncated, not rounded
    assert parse_ts_ns("2023-11-14T22:13:20.987654321Z") == ns
    assert parse_ts_ns("2023-11-14T23:13:20.987654321+01:00") == ns
    assert parse_ts_ns("2023-11-14T22:13:20.9876543211Z") == ns + 1  # sub-ns digits round up
    assert parse_ts_ns("2023-11-14T22:13:20Z") == 1_700_000_000 * 10**9
    # A "+" that arrived unencoded in a query string was decoded to " ".
    assert parse_ts_ns("2023-11-14T23:13:20 01:00") == 1_700_000_000 * 10**9
    assert parse_ts_ns("yesterday") is None


@given(
    ns=st.integers(min_value=0, max_value=253_402_300_799 * 10**9),  # up to 9999-12-31
    digits=st.integers(min_value=0, max_value=9),
)
def test_a_printed_time_is_the_real_one_truncated_to_its_digits(ns: int, digits: int) -> None:
    text = format_ts_ns(ns, digits=digits)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?Z", text), text
    assert parse_ts_ns(text) == ns - ns % 10 ** (9 - digits)


def test_secrets_are_public_and_follow_the_seed() -> None:
    one, same, other = Emulator(seed=3), Emulator(seed=3), Emulator(seed=4)
    assert one.file_signing_secret == same.file_signing_secret != other.file_signing_secret
    assert one.webhook_secret == same.webhook_secret != other.webhook_secret
    assert Emulator(file_signing_secret="k").file_signing_secret == "k"

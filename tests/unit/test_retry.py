"""Tests of the retry policy: the decision table, Retry-After parsing, backoff and jitter."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replicate_async._core.errors import ConfigurationError
from replicate_async._core.retry import RetryDecision, RetryPolicy, parse_retry_after

NOW = 1_700_000_000.0
POLICY = RetryPolicy()


def half() -> float:
    return 0.5


# (idempotent, status, error, retry?) for attempt 1 with the default policy.
TABLE: list[tuple[bool, int | None, str | None, bool]] = [
    # idempotent: retryable statuses and every transport failure
    (True, 429, None, True),
    (True, 502, None, True),
    (True, 503, None, True),
    (True, 504, None, True),
    (True, 500, None, True),
    (True, 501, None, False),
    (True, 400, None, False),
    (True, 401, None, False),
    (True, 404, None, False),
    (True, 409, None, False),
    (True, 422, None, False),
    (True, None, "connect", True),
    (True, None, "timeout", True),
    (True, None, "read", True),
    # non-idempotent (creates): only 429 and never-sent connection failures
    (False, 429, None, True),
    (False, 502, None, False),
    (False, 503, None, False),
    (False, 504, None, False),
    (False, 500, None, False),
    (False, 422, None, False),
    (False, None, "connect", True),
    (False, None, "timeout", False),
    (False, None, "read", False),
    # nothing went wrong at the transport level and no status: nothing to retry
    (True, None, None, False),
    (False, None, None, False),
]


@pytest.mark.parametrize(("idempotent", "status", "error", "retry"), TABLE)
def test_decision_table(idempotent: bool, status: int | None, error: Any, retry: bool) -> None:
    decision = POLICY.decide(1, idempotent=idempotent, status=status, error=error, rand=half)
    assert isinstance(decision, RetryDecision)
    assert decision.retry is retry
    assert decision.reason
    if retry:
        assert decision.delay == 0.5 * 0.25
    else:
        assert decision.delay == 0.0


def test_post_is_retried_on_429_and_connect_errors__peer_defect_18() -> None:
    assert POLICY.decide(1, idempotent=False, status=429).retry
    assert POLICY.decide(1, idempotent=False, error="connect").retry
    assert POLICY.decide(1, idempotent=True, status=502).retry
    assert POLICY.decide(1, idempotent=True, error="read").retry


def test_creates_are_not_retried_when_they_may_have_been_processed() -> None:
    assert not POLICY.decide(1, idempotent=False, status=500).retry
    for kwargs in ({"status": 502}, {"status": 503}, {"error": "timeout"}, {"error": "read"}):
        decision = POLICY.decide(1, idempotent=False, **kwargs)
        assert not decision.retry
        assert "non-idempotent" in decision.reason


def test_never_beyond_max_retries() -> None:
    policy = RetryPolicy(max_retries=2)
    decisions = [policy.decide(n, idempotent=True, status=503).retry for n in range(1, 6)]
    assert decisions == [True, True, False, False, False]
    assert "giving up after 3 attempts" in policy.decide(3, idempotent=True, status=503).reason


def test_none_policy_never_retries() -> None:
    policy = RetryPolicy.none()
    assert policy.max_retries == 0
    assert not policy.decide(1, idempotent=True, status=429, retry_after="1").retry
    assert not policy.decide(1, idempotent=True, error="connect").retry


def test_custom_statuses() -> None:
    policy = RetryPolicy(statuses=frozenset({500}))
    assert policy.decide(1, idempotent=True, status=500).retry
    assert not policy.decide(1, idempotent=True, status=503).retry
    assert not policy.decide(1, idempotent=False, status=429).retry  # 429 removed by the user


def test_attempt_must_be_positive() -> None:
    with pytest.raises(ValueError, match="starts at 1"):
        POLICY.decide(0, idempotent=True, status=503)


def test_retry_after_seconds_wins_and_reason_says_so() -> None:
    decision = POLICY.decide(1, idempotent=False, status=429, retry_after="3", now=NOW)
    assert decision == RetryDecision(True, 3.0, "429 Too Many Requests, Retry-After 3s")
    assert POLICY.decide(2, idempotent=True, status=503, retry_after="1.5").delay == 1.5
    assert POLICY.decide(1, idempotent=True, status=503, retry_after=" 0 ").delay == 0.0


def test_retry_after_http_date__peer_defect_19() -> None:
    later = datetime.fromtimestamp(NOW, timezone.utc) + timedelta(seconds=7)
    header = format_datetime(later, usegmt=True)
    assert header.endswith("GMT")
    decision = POLICY.decide(1, idempotent=True, status=503, retry_after=header, now=NOW)
    assert decision.retry and decision.delay == pytest.approx(7.0)
    assert parse_retry_after(header, NOW) == pytest.approx(7.0)
    # obsolete but legal forms (RFC 850, asctime) and a naive date are all GMT
    assert parse_retry_after("Tuesday, 14-Nov-23 22:13:27 GMT", NOW) == pytest.approx(7.0)
    assert parse_retry_after("Tue Nov 14 22:13:27 2023", NOW) == pytest.approx(7.0)


def test_retry_after_in_the_past_is_zero_not_negative() -> None:
    earlier = format_datetime(datetime.fromtimestamp(NOW - 100, timezone.utc), usegmt=True)
    assert parse_retry_after(earlier, NOW) == 0.0
    assert POLICY.decide(1, idempotent=True, status=503, retry_after=earlier, now=NOW).delay == 0.0


def test_large_retry_after_is_capped__peer_defect_19() -> None:
    decision = POLICY.decide(1, idempotent=True, status=429, retry_after="3600")
    assert (decision.retry, decision.delay) == (True, 60.0)
    assert "capped" in decision.reason
    far = format_datetime(datetime.fromtimestamp(NOW + 86400, timezone.utc), usegmt=True)
    assert POLICY.decide(1, idempotent=True, status=429, retry_after=far, now=NOW).delay == 60.0
    huge = POLICY.decide(1, idempotent=True, status=429, retry_after="9" * 500)
    assert huge.delay == 60.0
    assert RetryPolicy(retry_after_max=5).decide(1, idempotent=True, status=429, retry_after="9")


@pytest.mark.parametrize(
    "garbage",
    ["", "  ", "soon", "-5", "1e3", "inf", "nan", "3s", "1_000", "0x10", "Mon, 99 Foo 2023", "½"],
)
def test_garbage_retry_after_falls_back_to_backoff(garbage: str) -> None:
    assert parse_retry_after(garbage, NOW) is None
    decision = POLICY.decide(1, idempotent=True, status=429, retry_after=garbage, rand=half)
    assert (decision.retry, decision.delay) == (True, 0.125)
    assert "backoff" in decision.reason


def test_parse_retry_after_none() -> None:
    assert parse_retry_after(None, NOW) is None


def test_jitter_bounds_with_injected_rand() -> None:
    for attempt in range(1, 5):
        ceiling = 0.25 * 2 ** (attempt - 1)
        low = POLICY.decide(attempt, idempotent=True, status=503, rand=lambda: 0.0)
        high = POLICY.decide(attempt, idempotent=True, status=503, rand=lambda: 0.999)
        assert low.delay == 0.0
        assert high.delay == pytest.approx(0.999 * ceiling)


def test_backoff_is_capped_at_backoff_max() -> None:
    policy = RetryPolicy(max_retries=100)
    assert policy.backoff(8, lambda: 0.999) == pytest.approx(0.999 * 20.0)
    assert policy.backoff(100, lambda: 1.0) == 20.0
    assert policy.backoff(10**9, lambda: 1.0) == 20.0  # no overflow with absurd attempt numbers


def test_backoff_grows_unlike_the_javascript_client__peer_defect_20() -> None:
    # Six retries that all happen within milliseconds would be the JS defect. With the default
    # policy the upper bounds double and the expected total wait is seconds, not milliseconds.
    policy = RetryPolicy(max_retries=6)
    ceilings = [policy.backoff(n, lambda: 1.0) for n in range(1, 7)]
    assert ceilings == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
    assert sum(c / 2 for c in ceilings) > 7  # expected total with uniform jitter
    delays = [policy.decide(n, idempotent=True, status=503, rand=half).delay for n in range(1, 7)]
    assert delays == sorted(delays) and delays[-1] >= 4.0


@given(st.integers(1, 50), st.floats(0, 1, exclude_max=True))
def test_backoff_property(attempt: int, r: float) -> None:
    delay = POLICY.backoff(attempt, lambda: r)
    assert 0.0 <= delay <= min(20.0, 0.25 * 2 ** (attempt - 1))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_retries": -1},
        {"backoff_base": -0.1},
        {"backoff_max": -1},
        {"retry_after_max": -1},
        {"max_retries": 1.5},
        {"max_retries": True},
        {"backoff_base": float("nan")},
        {"backoff_max": "2"},
        {"statuses": {429}},
        {"statuses": frozenset({"429"})},
        {"statuses": frozenset({42})},
    ],
)
def test_invalid_policies(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="RetryPolicy"):
        RetryPolicy(**kwargs)


def test_zero_values_are_valid() -> None:
    policy = RetryPolicy(max_retries=0, backoff_base=0, backoff_max=0, retry_after_max=0)
    assert not policy.decide(1, idempotent=True, status=503).retry
    assert RetryPolicy(backoff_base=0).decide(1, idempotent=True, status=503).delay == 0.0

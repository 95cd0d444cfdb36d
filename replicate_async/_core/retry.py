"""Retry policy (pure): whether to retry a failed request, and how long to wait first.

ARCHITECTURE rule 6 and PEER-DEFECTS 18-20:

* idempotent requests (GET, DELETE, cancel, …) are retried on the retryable statuses
  (429, 500, 502, 503, 504 by default) and on any connection failure or timeout: a poll that
  meets a passing 500 must not fail a run whose prediction succeeds;
* non-idempotent ones (creates: a POST may start a prediction and a bill) only on 429, which
  means the request was not processed, and on ``error="connect"``, which means it was never
  sent: never on 5xx, timeouts or read errors (API-FACTS, "Errors");
* ``Retry-After`` (delay-seconds or an HTTP-date, RFC 9110 section 10.2.3) wins when present,
  capped at ``retry_after_max``; otherwise exponential backoff with full jitter, so retries
  spread out and grow (never the JavaScript client's six retries within milliseconds).

The caller sleeps (through its injectable clock); this module only decides.
"""

from __future__ import annotations

import email.utils
import math
import random
import re
import time
from collections.abc import Callable
from datetime import timezone
from http import HTTPStatus
from typing import Literal

import attrs

from .errors import ConfigurationError

__all__ = ["RetryDecision", "RetryPolicy", "parse_retry_after"]

ErrorKind = Literal["connect", "timeout", "read"]

_DELAY_SECONDS = re.compile(r"\d+(?:\.\d+)?")  # RFC 9110: 1*DIGIT; fractions tolerated
_MAX_EXPONENT = 62  # 2**62 * any sane base exceeds every backoff_max; avoids float overflow


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait according to a ``Retry-After`` header, or None when absent or garbage.

    Accepts delay-seconds (``"3"``, and ``"1.5"`` although RFC 9110 allows digits only) and an
    HTTP-date (``"Wed, 21 Oct 2015 07:28:00 GMT"``), which is taken relative to ``now`` (unix
    seconds). A date in the past gives 0.0; the result is never negative. Not capped here.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if _DELAY_SECONDS.fullmatch(text):
        return float(text)  # may be huge (even inf): decide() caps it
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # HTTP-dates are always GMT
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now)


@attrs.frozen
class RetryDecision:
    """The outcome of :meth:`RetryPolicy.decide`: retry or not, after ``delay`` seconds.

    ``reason`` is a short human-readable explanation for debug logs.
    """

    retry: bool
    delay: float
    reason: str


def _non_negative_number(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ConfigurationError(f"RetryPolicy.{attribute.name} must be a number, got {value!r}")
    if value < 0:
        raise ConfigurationError(f"RetryPolicy.{attribute.name} must be >= 0, got {value!r}")


def _non_negative_int(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(f"RetryPolicy.{attribute.name} must be an int, got {value!r}")
    if value < 0:
        raise ConfigurationError(f"RetryPolicy.{attribute.name} must be >= 0, got {value!r}")


def _statuses(instance: object, attribute: attrs.Attribute[frozenset[int]], value: object) -> None:
    if not isinstance(value, frozenset) or not all(
        isinstance(s, int) and not isinstance(s, bool) and 100 <= s <= 599 for s in value
    ):
        raise ConfigurationError(
            f"RetryPolicy.statuses must be a frozenset of HTTP status codes, got {value!r}"
        )


def _status_text(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


@attrs.frozen
class RetryPolicy:
    """When and how long to retry failed requests; see the module docstring for the rules.

    ``max_retries`` counts retries, not attempts (4 means at most 5 attempts). Backoff without
    ``Retry-After`` is ``rand() * min(backoff_max, backoff_base * 2 ** (attempt - 1))`` seconds.
    Negative values raise :class:`ConfigurationError`.
    """

    max_retries: int = attrs.field(default=4, validator=_non_negative_int)
    backoff_base: float = attrs.field(default=0.25, validator=_non_negative_number)
    backoff_max: float = attrs.field(default=20.0, validator=_non_negative_number)
    retry_after_max: float = attrs.field(default=60.0, validator=_non_negative_number)
    statuses: frozenset[int] = attrs.field(
        default=frozenset({429, 500, 502, 503, 504}), validator=_statuses
    )

    @classmethod
    def none(cls) -> RetryPolicy:
        """A policy that never retries."""
        return cls(max_retries=0)

    def backoff(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Full-jitter exponential backoff after ``attempt`` attempts (AWS "full jitter")."""
        ceiling = min(self.backoff_max, self.backoff_base * 2.0 ** min(attempt - 1, _MAX_EXPONENT))
        return max(0.0, rand() * ceiling)

    def decide(
        self,
        attempt: int,
        *,
        idempotent: bool,
        status: int | None = None,
        error: ErrorKind | None = None,
        retry_after: str | None = None,
        now: float | None = None,
        rand: Callable[[], float] = random.random,
    ) -> RetryDecision:
        """Decide about a failure after ``attempt`` attempts (1 after the first one failed).

        Pass the response ``status`` when the API answered (and its ``Retry-After`` header), or
        ``error`` when it did not: ``"connect"`` (the request was never sent), ``"timeout"`` or
        ``"read"`` (it may have been processed). ``now`` (unix seconds, default ``time.time()``)
        anchors HTTP-date ``Retry-After`` values; ``rand`` is the jitter source in [0, 1).
        """
        if attempt < 1:
            raise ValueError(f"attempt counts attempts already made and starts at 1, got {attempt}")
        if status is not None:
            what = _status_text(status)
            if status not in self.statuses:
                return RetryDecision(False, 0.0, f"{what} is not retryable")
            if not idempotent and status != 429:
                return RetryDecision(
                    False, 0.0, f"{what} on a non-idempotent request: it may have been processed"
                )
        elif error is not None:
            what = f"{error} error"
            if not idempotent and error != "connect":
                return RetryDecision(
                    False, 0.0, f"{what} on a non-idempotent request: it may have been processed"
                )
        else:
            return RetryDecision(False, 0.0, "nothing to retry: no status and no error")
        if attempt > self.max_retries:
            return RetryDecision(False, 0.0, f"{what}, giving up after {attempt} attempts")
        header = (
            parse_retry_after(retry_after, time.time() if now is None else now)
            if retry_after is not None
            else None
        )
        if header is not None:
            delay = min(header, self.retry_after_max)
            capped = f" (capped at {self.retry_after_max:g}s)" if header > delay else ""
            return RetryDecision(True, delay, f"{what}, Retry-After {delay:g}s{capped}")
        delay = self.backoff(attempt, rand)
        return RetryDecision(True, delay, f"{what}, backoff {delay:.2f}s (retry {attempt})")

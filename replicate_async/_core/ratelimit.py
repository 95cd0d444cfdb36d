"""The client-side rate limiter: one token bucket per rate class, shared by every caller.

Replicate allows 600 prediction creates per minute and 3000 other requests per minute per
token, with short bursts, and answers 429 beyond that (API-FACTS, "Errors"). A client that
fans out thousands of predictions must stay inside those limits itself instead of finding them
by hammering the server, and all its callers together must: the limiter is installed on the
client's transport, which asks it before every send (``acquire``) and tells it about every
answer (``observe``). Creates draw from the ``"create"`` bucket, everything else from
``"other"``.

How it works
------------
Each bucket is a token bucket whose count may go below zero: a call takes a token under a
lock and, when none is left, sleeps until its own token will have accrued (the "virtual
scheduling" of GCRA, ITU-T I.371, kept in token units so that the rate can change). Waiters
are served in arrival order, nothing polls, and since the state is a few floats behind a
``threading.Lock`` the limiter works from any event loop or thread (the blocking bridge and
the caller's own loop share one client). A bucket starts full, so a burst of ``burst`` calls
goes out at once.

Adapting to the server
----------------------
* ``ratelimit-remaining``: when the server has fewer calls left than the local bucket thinks
  (other processes share the token, or the account's limit is lower), the local bucket is
  lowered to match, counting the calls sent after the answered one as already spent.
* 429: the bucket pauses until ``Retry-After`` (or ``ratelimit-reset`` when there is no
  ``Retry-After``, or a short growing backoff when there is neither), then resumes at the
  steady rate without a burst; every waiter takes a fresh slot after the pause. The rate is
  halved (at most once per round of calls sent before the previous halving) and climbs back
  by 1/100 of the configured rate per successful call, never above the configured rate
  (additive increase, multiplicative decrease, as in TCP congestion control).
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import threading
import time
from collections.abc import Awaitable, Callable, Mapping

import attrs

from .errors import ConfigurationError
from .retry import parse_retry_after

__all__ = [
    "DEFAULT_CREATES_PER_MINUTE",
    "DEFAULT_REQUESTS_PER_MINUTE",
    "LimiterStats",
    "TokenBucketLimiter",
]

DEFAULT_CREATES_PER_MINUTE = 600.0
DEFAULT_REQUESTS_PER_MINUTE = 3000.0
_BURST_SECONDS = 10.0  # default burst: ten seconds' worth of calls
_RECOVERY_STEP = 0.01  # additive increase per success, as a fraction of the configured rate
_MIN_RATE_FRACTION = 1 / 64  # the rate never drops below this fraction of the configured one
_MAX_PAUSE = 60.0


@attrs.define
class LimiterStats:
    """Counters of a :class:`TokenBucketLimiter` (for progress displays and benchmarks)."""

    acquired: int = 0
    """Calls let through."""
    delayed: int = 0
    """Calls that had to wait for a slot."""
    rate_limited: int = 0
    """429 answers observed."""
    slowdowns: int = 0
    """Times a bucket halved its rate after a 429."""


@attrs.frozen
class _Ticket:
    limiter: TokenBucketLimiter
    rate_class: str
    number: int
    sent_at: float


# The transport calls acquire() and observe() from the same coroutine, so a context variable
# links an answer to the slot its request took without changing the RateLimiter protocol.
_TICKET: contextvars.ContextVar[_Ticket | None] = contextvars.ContextVar(
    "replicate_async_rate_ticket", default=None
)


class _Bucket:
    """One rate class: a token count that may go negative (calls waiting for their slot),
    plus the adaptive rate. Pure: the caller passes ``now``."""

    def __init__(self, per_minute: float, burst: float) -> None:
        self.max_rate = per_minute / 60.0
        self.rate = self.max_rate
        self.capacity = max(1.0, burst)
        self.tokens = self.capacity  # below zero: that many calls are queued for a slot
        self.updated = -math.inf  # tokens are exact at this time (in the future while paused)
        self.epoch = 0  # bumped by every pause: slots reserved before it are void
        self.sent = 0  # calls let through so far
        self.floor = 0  # calls up to this one were sent before the last slowdown
        self.consecutive_429 = 0

    def _refill(self, now: float) -> None:
        if now > self.updated:
            elapsed = now - self.updated if math.isfinite(self.updated) else math.inf
            self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
            self.updated = now

    def reserve(self, now: float) -> tuple[float, int]:
        """Take the next slot: (time it may be sent, the epoch it belongs to)."""
        self._refill(now)
        self.tokens -= 1.0
        start = max(now, self.updated)
        if self.tokens < 0:
            start += -self.tokens / self.rate
        return start, self.epoch

    def let_through(self) -> int:
        """Count a call that is being sent; returns its number."""
        self.sent += 1
        return self.sent

    def refund(self, epoch: int) -> None:
        """Give back a slot whose call was never sent (its waiter was cancelled)."""
        if epoch == self.epoch:
            self.tokens = min(self.capacity, self.tokens + 1.0)

    def remaining(self, now: float) -> float:
        """How many calls could go out right now (negative: how many are queued)."""
        self._refill(now)
        return self.tokens

    def set_rate(self, now: float, rate: float) -> None:
        self._refill(now)  # what accrued so far accrued at the old rate
        self.rate = rate

    def sync(self, now: float, server_remaining: int, number: int, sent_at: float) -> None:
        """Lower the bucket to the server's count (never raise it above the local one).

        ``number`` and ``sent_at`` are those of the call the server answered: the calls sent
        after it have spent (or will spend) server tokens that its answer does not show.
        """
        sent_since = self.sent - number
        refilled = max(0.0, now - sent_at) * self.rate
        estimate = server_remaining - sent_since + refilled
        if estimate < self.remaining(now):
            self.tokens = estimate

    def throttled(self, now: float, delay: float, number: int | None) -> None:
        """A 429: pause for ``delay`` seconds, maybe halve the rate, resume without a burst.

        Only a call sent after the previous slowdown halves the rate again: the calls that
        went out together before it come back 429 together, and count once.
        """
        if number is None or number > self.floor:
            self.set_rate(now, max(self.max_rate * _MIN_RATE_FRACTION, self.rate / 2.0))
            self.floor = self.sent
        # Retry-After is when the server has a token again: one call then, then the rate.
        self.updated = max(self.updated, now + delay)
        self.tokens = 1.0
        self.epoch += 1

    def succeeded(self, now: float, number: int | None) -> None:
        """A call went through: climb back towards the configured rate."""
        self.consecutive_429 = 0
        if self.rate < self.max_rate and (number is None or number > self.floor):
            self.set_rate(now, min(self.max_rate, self.rate + self.max_rate * _RECOVERY_STEP))


def _per_minute(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ConfigurationError(f"{name} must be a positive number or None, got {value!r}")
    if math.isinf(value):
        return None
    return float(value)


def _header_number(headers: Mapping[str, str], name: str) -> float | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


class TokenBucketLimiter:
    """A client-side rate limiter with one token bucket per rate class.

    ``create_per_minute`` limits prediction and training creates (default 600, Replicate's
    limit), ``per_minute`` every other call (default 3000); ``None`` leaves a class unlimited.
    ``create_burst``/``burst`` set how many calls may go out at once from a full bucket
    (default: ten seconds' worth). Every :class:`~replicate_async.Client` has one, shared by
    all its callers; replace it with ``client.rate_limiter = TokenBucketLimiter(...)``, or turn
    limiting off with ``client.rate_limiter = None``. It follows the server's
    ``ratelimit-remaining`` header and pauses on 429 until ``Retry-After`` (see the module
    documentation). ``clock`` and ``sleep`` are injectable for tests.
    """

    def __init__(
        self,
        create_per_minute: float | None = DEFAULT_CREATES_PER_MINUTE,
        per_minute: float | None = DEFAULT_REQUESTS_PER_MINUTE,
        *,
        create_burst: float | None = None,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.create_per_minute = _per_minute("create_per_minute", create_per_minute)
        self.per_minute = _per_minute("per_minute", per_minute)
        self._buckets: dict[str, _Bucket] = {}
        for name, rate, given in (
            ("create", self.create_per_minute, create_burst),
            ("other", self.per_minute, burst),
        ):
            if given is not None and (isinstance(given, bool) or not given >= 1):
                raise ConfigurationError(f"a burst must be at least 1, got {given!r}")
            if rate is not None:
                size = given if given is not None else rate / 60.0 * _BURST_SECONDS
                self._buckets[name] = _Bucket(rate, size)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self.stats = LimiterStats()

    def __repr__(self) -> str:
        def shown(value: float | None) -> str:
            return "unlimited" if value is None else f"{value:g}/min"

        return (
            f"<TokenBucketLimiter creates={shown(self.create_per_minute)} "
            f"other={shown(self.per_minute)}>"
        )

    def _bucket(self, rate_class: str) -> _Bucket | None:
        return self._buckets.get("create" if rate_class == "create" else "other")

    def current_rate(self, rate_class: str) -> float | None:
        """Calls per minute the class is allowed right now (lower than configured after 429s)."""
        bucket = self._bucket(rate_class)
        return None if bucket is None else bucket.rate * 60.0

    async def acquire(self, rate_class: str) -> None:
        """Wait until a call of ``rate_class`` (``"create"`` or any other) may be sent."""
        bucket = self._bucket(rate_class)
        if bucket is None:
            return
        waited = False
        while True:
            with self._lock:
                now = self._clock()
                start, epoch = bucket.reserve(now)
            if start > now:
                waited = True
                try:
                    await self._sleep(start - now)
                except BaseException:
                    with self._lock:
                        bucket.refund(epoch)
                    raise
                with self._lock:
                    if bucket.epoch != epoch:
                        continue  # a 429 paused the bucket meanwhile: take a fresh slot
                    now = self._clock()
            break
        with self._lock:
            number = bucket.let_through()
            self.stats.acquired += 1
            self.stats.delayed += waited
        _TICKET.set(_Ticket(self, rate_class, number, now))

    def observe(self, rate_class: str, status: int, headers: Mapping[str, str]) -> None:
        """Learn from an answer: follow ``ratelimit-remaining``, pause on 429."""
        bucket = self._bucket(rate_class)
        ticket = _TICKET.get()
        if ticket is not None and ticket.limiter is self and ticket.rate_class == rate_class:
            _TICKET.set(None)
        else:
            ticket = None
        if bucket is None:
            return
        with self._lock:
            now = self._clock()
            number = ticket.number if ticket is not None else None
            if status == 429:
                self.stats.rate_limited += 1
                bucket.consecutive_429 += 1
                before = bucket.rate
                bucket.throttled(now, self._pause(bucket, headers), number)
                self.stats.slowdowns += bucket.rate < before
                return
            remaining = _header_number(headers, "ratelimit-remaining")
            if remaining is not None:
                sent_at = ticket.sent_at if ticket is not None else now
                bucket.sync(now, int(remaining), bucket.sent if number is None else number, sent_at)
            if status < 400:
                bucket.succeeded(now, number)

    @staticmethod
    def _pause(bucket: _Bucket, headers: Mapping[str, str]) -> float:
        delay = parse_retry_after(headers.get("Retry-After"), time.time())
        if delay is None:
            delay = _header_number(headers, "ratelimit-reset")
        if delay is None:
            delay = 0.5 * 2.0 ** min(bucket.consecutive_429 - 1, 6)
        return min(delay, _MAX_PAUSE)

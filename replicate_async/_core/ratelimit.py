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
The limiter keeps, per bucket, a *current rate* (what it sends at now) and a *learned limit*
(what it believes the server allows). The current rate stays between a floor (1/64 of the
configured rate) and the learned limit; the learned limit stays between that floor and a
ceiling (``create_max_per_minute``/``max_per_minute``, by default ten times the configured
rate). It starts at the configured rate. Time is cut into windows of ``window`` seconds (1 s by
default); the decisions below are taken at most once per window.

* ``ratelimit-remaining``: when the server has fewer calls left than the local bucket thinks
  (other processes share the token, or the account's limit is lower), the local bucket is
  lowered to match, counting the calls sent after the answered one as already spent. It is
  never raised above the local count.
* A 429 is taken as *exhaustion* when its ``ratelimit-remaining`` is absent or low (below a
  tenth of the burst, at least 1), or when 429s are a burst: at least three in the current
  window and at least half of its answers. Any other 429 (a lone 429 while the server shows
  plenty of calls left) neither pauses nor slows the bucket, and its slot is given back (the
  next ``ratelimit-remaining`` corrects that if the server did count it): the transport retries
  that one request after its own ``Retry-After``/backoff, and the other callers carry on.
* On exhaustion the bucket pauses until ``Retry-After`` (or ``ratelimit-reset`` when there is
  no ``Retry-After``, or a short growing backoff when there is neither, at most 60 s), then
  resumes at the steady rate without a burst; every waiter takes a fresh slot after the pause.
  The first exhaustion of a window, from a call sent after the previous slowdown, halves the
  current rate; a new window starts when the pause ends, so further 429s of the same storm do
  not halve again. When that halving comes within 30 windows of the previous one (not a
  one-off: the server does not allow the rate), it also lowers the learned limit to 90% of
  the rate it happened at.
* Recovery: after every window without exhaustion, the current rate grows by half (x1.5)
  towards the learned limit (from a halving: back in two quiet windows).
* Whenever the rate changes, the calls already waiting give up their slots, spaced at the
  old rate, and take fresh ones within a window (waiters sleep at most a window at a time).
* Learning a higher limit: after a window without exhaustion in which calls had to wait for
  the local bucket (the client wants more than it allows itself) while the current rate is at
  the learned limit, and in which every success answering such a call showed *headroom* of at
  least 1.5 times the current rate, and that headroom held (the last one at least 95% of the
  first), the learned limit and the current rate grow by half, up to the ceiling. Headroom is
  ``ratelimit-remaining / max(ratelimit-reset, window)``: the rate at which the calls the
  server has left could be spent before it resets. A server that allows exactly the
  configured rate shows almost nothing left, and a fixed-window counter spent at its own pace
  shows ``remaining / reset`` equal to that pace, so neither raises the limit. The first raise
  needs one such window; every exhaustion doubles the number the next one needs (at most 32).
* Taking a raise back: above the configured rate, a window in which calls waited and the
  headroom fell below 80% of where it started (the server does not refill as fast as the
  client now sends) divides the learned limit and the current rate by 1.5 (never below the
  configured rate), before the server runs dry, and doubles the windows of headroom the
  next raise needs. An exhaustion above the real limit brings
  the learned limit down below it as described above.
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
DEFAULT_WINDOW = 1.0  # seconds: the limiter adapts at most once per window
_BURST_SECONDS = 10.0  # default burst: ten seconds' worth of calls
_MIN_RATE_FRACTION = 1 / 64  # the rate never drops below this fraction of the configured one
_LEARN_FACTOR = 10.0  # default ceiling of the learned limit, times the configured rate
_GROWTH = 1.5  # recovery and probing: x1.5 per quiet window
_EXHAUSTION_MARGIN = 0.9  # exhaustion at rate r: the learned limit becomes at most 0.9 r
_LOW_REMAINING_FRACTION = 0.1  # remaining below this fraction of the burst is "low"
_BURST_429S = 3  # this many 429s in a window, half of its answers or more: exhaustion
_HEADROOM_STEADY = 0.95  # raise only while the headroom holds (last >= 95% of first) ...
_HEADROOM_FALLING = 0.8  # ... and take a raise back when it falls below 80% in a window
_RECUR_WINDOWS = 30  # an exhaustion this many windows after the previous one lowers the limit
_MAX_PROBE_AFTER = 32  # windows of headroom a raise waits for, at most
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
    """Times a bucket halved its rate after the server signalled exhaustion."""
    lone_429s: int = 0
    """429 answers not taken as exhaustion (the server showed headroom): no pause, no halving."""
    speedups: int = 0
    """Times a bucket raised its learned limit because the server showed headroom."""


@attrs.frozen
class _Ticket:
    limiter: TokenBucketLimiter
    rate_class: str
    number: int
    sent_at: float
    waited: bool


# The transport calls acquire() and observe() from the same coroutine, so a context variable
# links an answer to the slot its request took without changing the RateLimiter protocol.
_TICKET: contextvars.ContextVar[_Ticket | None] = contextvars.ContextVar(
    "replicate_async_rate_ticket", default=None
)


class _Bucket:
    """One rate class: a token count that may go negative (calls waiting for their slot),
    plus the adaptive rate and learned limit. Pure: the caller passes ``now``.

    Rates are per second here; the limiter shows them per minute.
    """

    def __init__(
        self,
        per_minute: float,
        burst: float,
        *,
        max_per_minute: float | None = None,
        window: float = DEFAULT_WINDOW,
    ) -> None:
        self.base = per_minute / 60.0  # the configured rate
        ceiling = max_per_minute if max_per_minute is not None else per_minute * _LEARN_FACTOR
        self.ceiling = max(ceiling, per_minute) / 60.0
        self.min_rate = self.base * _MIN_RATE_FRACTION
        self.limit = self.base  # learned: what the server allows, as far as we know
        self.rate = self.base  # current: between min_rate and limit
        self.capacity = max(1.0, burst)
        self.low_remaining = max(1.0, self.capacity * _LOW_REMAINING_FRACTION)
        self.window = window
        self.tokens = self.capacity  # below zero: that many calls are queued for a slot
        self.updated = -math.inf  # tokens are exact at this time (in the future while paused)
        self.epoch = 0  # bumped by every pause: slots reserved before it are void
        self.sent = 0  # calls let through so far
        self.floor = 0  # calls up to this one were sent before the last slowdown
        self.consecutive_429 = 0
        self.speedups = 0  # times roll() raised the learned limit
        self.last_halving = -math.inf
        self.probe_after = 1  # windows showing headroom needed before raising the limit
        self.headroom_windows = 0  # consecutive such windows so far
        self._open_window(-math.inf)

    # -- windows ---------------------------------------------------------------------------
    def _open_window(self, start: float, *, halved: bool = False) -> None:
        self.win_start = start
        self.win_halved = halved  # a halving already happened for this window
        self.win_exhausted = False  # the server signalled exhaustion in this window
        self.win_bound = False  # some call had to wait for the local bucket
        self.win_answers = 0
        self.win_429s = 0
        self.win_headroom = math.inf  # least headroom shown to a paced call's success
        self.win_headroom_first: float | None = None  # the first and last such headroom
        self.win_headroom_last = 0.0

    def roll(self, now: float) -> None:
        """Close the current window if it is over: recover, or learn a higher limit."""
        if not math.isfinite(self.win_start):
            self._open_window(now)
            return
        if now < self.win_start + self.window:
            return
        if not self.win_exhausted:
            if self.rate < self.limit:
                self.retime(now, min(self.limit, self.rate * _GROWTH))
            elif (
                self.win_bound
                and self.win_headroom_first is not None
                and self.rate > self.base
                and self.win_headroom_last < self.win_headroom_first * _HEADROOM_FALLING
            ):
                # above the configured rate and the server's headroom shrinks: it does not
                # keep up with the last raise, so take it back before it runs dry
                self.headroom_windows = 0
                self.probe_after = min(_MAX_PROBE_AFTER, self.probe_after * 2)
                self.limit = max(self.base, self.rate / _GROWTH)
                self.retime(now, self.limit)
            elif (
                self.win_bound
                and self.win_headroom_first is not None
                and self.limit < self.ceiling
                and self.win_headroom >= self.rate * _GROWTH
                and self.win_headroom_last >= self.win_headroom_first * _HEADROOM_STEADY
            ):
                self.headroom_windows += 1
                if self.headroom_windows >= self.probe_after:
                    self.headroom_windows = 0
                    self.limit = min(self.ceiling, self.rate * _GROWTH)
                    self.retime(now, self.limit)
                    self.speedups += 1
            else:
                self.headroom_windows = 0
        else:
            self.headroom_windows = 0
        self._open_window(now)

    # -- slots -----------------------------------------------------------------------------
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
        if start > now:
            self.win_bound = True
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

    def retime(self, now: float, rate: float) -> None:
        """A new rate for the calls already queued too: their slots, spaced at the old rate,
        are void (the epoch changes) and they take fresh ones."""
        self.set_rate(now, rate)
        if self.tokens < 0:
            self.tokens = 0.0
            self.epoch += 1

    # -- answers ---------------------------------------------------------------------------
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

    def succeeded(self, now: float, headroom: float | None) -> None:
        """A call went through; ``headroom`` is the server's (for a call that had waited)."""
        self.roll(now)
        self.consecutive_429 = 0
        self.win_answers += 1
        if headroom is not None:
            self.win_headroom = min(self.win_headroom, headroom)
            if self.win_headroom_first is None:
                self.win_headroom_first = headroom
            self.win_headroom_last = headroom

    def answered(self, now: float) -> None:
        """Another answer (an error other than 429): only counted."""
        self.roll(now)
        self.win_answers += 1

    def is_exhaustion(self, now: float, server_remaining: float | None) -> bool:
        """Count a 429; whether it signals that the server's allowance is spent."""
        self.roll(now)
        self.win_answers += 1
        self.win_429s += 1
        self.consecutive_429 += 1
        if server_remaining is None or server_remaining < self.low_remaining:
            return True
        return self.win_429s >= _BURST_429S and 2 * self.win_429s >= self.win_answers

    def throttled(self, now: float, delay: float, number: int | None) -> bool:
        """Exhaustion: pause for ``delay`` seconds, maybe halve, resume without a burst.

        Only the first exhaustion of a window, from a call sent after the previous slowdown,
        halves the rate: the calls that went out together before it come back 429 together,
        and count once. Returns whether the rate was halved.
        """
        fresh = number is None or number > self.floor
        halve = fresh and not self.win_halved
        if fresh:
            self.win_exhausted = True
        if halve:
            before = self.rate
            if now - self.last_halving <= _RECUR_WINDOWS * self.window:
                # not a one-off: the server does not allow this rate
                self.limit = max(self.min_rate, min(self.limit, before * _EXHAUSTION_MARGIN))
            self.last_halving = now
            self.set_rate(now, max(self.min_rate, before / 2.0))
            self.floor = self.sent
            # each exhaustion makes the next raise wait for more windows of headroom
            self.probe_after = min(_MAX_PROBE_AFTER, self.probe_after * 2)
        # Retry-After is when the server has a token again: one call then, then the rate.
        self.updated = max(self.updated, now + delay)
        self.tokens = 1.0
        self.epoch += 1
        if halve:
            self._open_window(self.updated, halved=True)  # the next window starts after it
        return halve


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
    (default: ten seconds' worth). The limiter learns a higher limit when the server shows
    headroom, up to ``create_max_per_minute``/``max_per_minute`` (default: ten times the
    configured rate; pass the configured rate itself to never go above it), and slows down when
    the server signals exhaustion, adapting at most once per ``window`` seconds. Every
    :class:`~replicate_async.Client` has one, shared by all its callers; replace it with
    ``client.rate_limiter = TokenBucketLimiter(...)``, or turn limiting off with
    ``client.rate_limiter = None``. It follows the server's ``ratelimit-remaining`` header and
    pauses on exhaustion until ``Retry-After`` (see the module documentation). ``clock`` and
    ``sleep`` are injectable for tests.
    """

    def __init__(
        self,
        create_per_minute: float | None = DEFAULT_CREATES_PER_MINUTE,
        per_minute: float | None = DEFAULT_REQUESTS_PER_MINUTE,
        *,
        create_burst: float | None = None,
        burst: float | None = None,
        create_max_per_minute: float | None = None,
        max_per_minute: float | None = None,
        window: float = DEFAULT_WINDOW,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.create_per_minute = _per_minute("create_per_minute", create_per_minute)
        self.per_minute = _per_minute("per_minute", per_minute)
        if isinstance(window, bool) or not isinstance(window, (int, float)) or not window > 0:
            raise ConfigurationError(f"window must be a positive number of seconds, got {window!r}")
        if not math.isfinite(window):
            raise ConfigurationError(f"window must be finite, got {window!r}")
        self.window = float(window)
        self._buckets: dict[str, _Bucket] = {}
        for name, rate, given, most in (
            ("create", self.create_per_minute, create_burst, create_max_per_minute),
            ("other", self.per_minute, burst, max_per_minute),
        ):
            if given is not None and (isinstance(given, bool) or not given >= 1):
                raise ConfigurationError(f"a burst must be at least 1, got {given!r}")
            ceiling = _per_minute(f"{'create_' if name == 'create' else ''}max_per_minute", most)
            if rate is not None and ceiling is not None and ceiling < rate:
                raise ConfigurationError(
                    f"the most per minute ({ceiling:g}) is below the rate ({rate:g})"
                )
            if rate is not None:
                size = given if given is not None else rate / 60.0 * _BURST_SECONDS
                self._buckets[name] = _Bucket(
                    rate, size, max_per_minute=ceiling, window=self.window
                )
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
        """Calls per minute the class is allowed right now (lower than the learned limit after
        the server signalled exhaustion); None when the class is unlimited."""
        bucket = self._bucket(rate_class)
        return None if bucket is None else bucket.rate * 60.0

    def learned_limit(self, rate_class: str) -> float | None:
        """Calls per minute the limiter believes the server allows the class (starts at the
        configured rate; see the module documentation); None when the class is unlimited."""
        bucket = self._bucket(rate_class)
        return None if bucket is None else bucket.limit * 60.0

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
                # Sleep a window at a time: a pause or a faster rate voids the slot (the epoch
                # changes) and the caller takes a fresh one within a window, not at the old
                # slot's time. Counted down, not read off the clock, so this always ends.
                left = start - now
                try:
                    while left > 0:
                        step = min(left, self.window)
                        await self._sleep(step)
                        left -= step
                        with self._lock:
                            if bucket.epoch != epoch:
                                break
                except BaseException:
                    with self._lock:
                        bucket.refund(epoch)
                    raise
                with self._lock:
                    if bucket.epoch != epoch:
                        continue  # paused or sped up meanwhile: take a fresh slot
                    now = self._clock()
            break
        with self._lock:
            number = bucket.let_through()
            self.stats.acquired += 1
            self.stats.delayed += waited
        _TICKET.set(_Ticket(self, rate_class, number, now, waited))

    def observe(self, rate_class: str, status: int, headers: Mapping[str, str]) -> None:
        """Learn from an answer: follow ``ratelimit-remaining``, tell a lone 429 from
        exhaustion, pause and slow down on exhaustion, recover and learn after quiet windows."""
        bucket = self._bucket(rate_class)
        ticket = _TICKET.get()
        if ticket is not None and ticket.limiter is self and ticket.rate_class == rate_class:
            _TICKET.set(None)
        else:
            ticket = None
        if bucket is None:
            return
        remaining = _header_number(headers, "ratelimit-remaining")
        with self._lock:
            now = self._clock()
            number = ticket.number if ticket is not None else None
            speedups = bucket.speedups
            if status == 429:
                self.stats.rate_limited += 1
                if bucket.is_exhaustion(now, remaining):
                    delay = self._pause(bucket, headers)
                    self.stats.slowdowns += bucket.throttled(now, delay, number)
                else:
                    # not processed and, as the server shows, not for want of allowance: the
                    # slot is given back (ratelimit-remaining corrects it if the server did
                    # count the call)
                    bucket.refund(bucket.epoch)
                    self.stats.lone_429s += 1
            else:
                if remaining is not None:
                    sent_at = ticket.sent_at if ticket is not None else now
                    number_or_last = bucket.sent if number is None else number
                    bucket.sync(now, int(remaining), number_or_last, sent_at)
                if status < 400:
                    headroom = None
                    if remaining is not None and ticket is not None and ticket.waited:
                        reset = _header_number(headers, "ratelimit-reset") or 0.0
                        headroom = remaining / max(reset, bucket.window)
                    bucket.succeeded(now, headroom)
                else:
                    bucket.answered(now)
            self.stats.speedups += bucket.speedups - speedups

    @staticmethod
    def _pause(bucket: _Bucket, headers: Mapping[str, str]) -> float:
        delay = parse_retry_after(headers.get("Retry-After"), time.time())
        if delay is None:
            delay = _header_number(headers, "ratelimit-reset")
        if delay is None:
            delay = 0.5 * 2.0 ** min(bucket.consecutive_429 - 1, 6)
        return min(delay, _MAX_PAUSE)

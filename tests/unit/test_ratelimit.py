"""The rate limiter under 429s: exhaustion vs lone 429s, windows, recovery, learning.

Everything runs on a fake clock: time moves only when the limiter sleeps or a test advances it,
so windows are simulated exactly and nothing waits.
"""

from __future__ import annotations

import asyncio
import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import FakeTime
from support import fake_limiter as limiter

from replicate_async import ConfigurationError
from replicate_async._core.ratelimit import TokenBucketLimiter

HEALTHY = {"ratelimit-remaining": "80", "ratelimit-reset": "2"}
EXHAUSTED = {"ratelimit-remaining": "0", "ratelimit-reset": "6"}


async def call(lim: TokenBucketLimiter, status: int, headers: dict[str, str]) -> None:
    await lim.acquire("create")
    lim.observe("create", status, headers)


class ServerBucket:
    """A server-side token bucket answering like Replicate (and the emulator): 201 with
    ``ratelimit-remaining``/``ratelimit-reset`` while it has a token, else 429 with
    ``Retry-After``. ``random_429`` answers that fraction of the calls 429 anyway (with the
    healthy headers), without spending a token."""

    def __init__(
        self, fake: FakeTime, per_minute: float, burst: float, random_429: float = 0.0
    ) -> None:
        self.fake = fake
        self.rate = per_minute / 60.0
        self.capacity = burst
        self.tokens = burst
        self.updated = fake.now
        self.random_429 = random_429
        self.rng = random.Random(7)
        self.answered: list[tuple[float, int]] = []

    def headers(self) -> dict[str, str]:
        reset = math.ceil((self.capacity - self.tokens) / self.rate)
        return {"ratelimit-remaining": str(int(self.tokens)), "ratelimit-reset": str(reset)}

    def answer(self) -> tuple[int, dict[str, str]]:
        now = self.fake.now
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.random_429 and self.rng.random() < self.random_429:
            status, headers = 429, self.headers()
        elif self.tokens >= 1.0:
            self.tokens -= 1.0
            status, headers = 201, self.headers()
        else:
            wait = max(1, math.ceil((1.0 - self.tokens) / self.rate))
            status, headers = 429, {**self.headers(), "Retry-After": str(wait)}
        self.answered.append((now, status))
        return status, headers

    def created_per_minute(self, since: float) -> float:
        times = [t for t, status in self.answered if status == 201 and t >= since]
        return len(times) / (self.fake.now - since) * 60.0

    def throttled(self, since: float = -math.inf) -> int:
        return sum(1 for t, status in self.answered if status == 429 and t >= since)


async def drive(lim: TokenBucketLimiter, server: ServerBucket, seconds: float) -> None:
    """One caller that always wants to send (the client is never idle), for ``seconds``."""
    end = server.fake.now + seconds
    while server.fake.now < end:
        await lim.acquire("create")
        status, headers = server.answer()
        lim.observe("create", status, headers)


async def test_a_lone_429_among_healthy_headers_neither_halves_nor_pauses() -> None:
    fake = FakeTime()
    lim = limiter(fake, create_per_minute=600, create_burst=10)
    await call(lim, 201, HEALTHY)
    await call(lim, 429, {**HEALTHY, "Retry-After": "30"})  # the server shows 80 left
    assert lim.current_rate("create") == 600
    assert lim.learned_limit("create") == 600
    assert lim.stats.rate_limited == 1 and lim.stats.lone_429s == 1
    assert lim.stats.slowdowns == 0
    # nobody else waits for its Retry-After, and its slot was given back: 9 go out at once
    for _ in range(9):
        await lim.acquire("create")
    assert fake.sleeps == []


async def test_429s_among_plenty_of_successes_never_slow_the_bucket_down() -> None:
    fake = FakeTime()
    lim = limiter(fake, create_per_minute=600, create_burst=10)
    for i in range(400):  # one call in ten is a 429 that shows headroom, for 40 s
        await call(lim, 429 if i % 10 == 5 else 201, HEALTHY)
    assert lim.stats.lone_429s == 40
    assert lim.stats.slowdowns == 0
    rate = lim.current_rate("create")
    assert rate is not None and rate >= 600  # (the headers show headroom: it even learned)


async def test_exhaustion_halves_once_per_window() -> None:
    fake = FakeTime()
    lim = limiter(fake, create_per_minute=600, create_burst=100, window=1.0)
    # calls go out one after another and every answer says the server has nothing left
    for _ in range(5):
        await call(lim, 429, {**EXHAUSTED, "Retry-After": "0"})
    assert lim.stats.slowdowns == 1
    assert lim.current_rate("create") == 300
    assert lim.stats.rate_limited == 5
    fake.now += 1.0  # the next window: the server still says it is exhausted
    for _ in range(5):
        await call(lim, 429, {**EXHAUSTED, "Retry-After": "0"})
    assert lim.stats.slowdowns == 2
    assert lim.current_rate("create") == 150


async def test_a_burst_of_429s_is_exhaustion_even_with_headroom_in_the_headers() -> None:
    fake = FakeTime()
    lim = limiter(fake, create_per_minute=600, create_burst=100)
    await call(lim, 201, HEALTHY)
    await call(lim, 429, {**HEALTHY, "Retry-After": "2"})
    await call(lim, 429, {**HEALTHY, "Retry-After": "2"})
    assert lim.stats.slowdowns == 0  # two 429s out of three answers: not yet a burst
    await call(lim, 429, {**HEALTHY, "Retry-After": "2"})  # three, and half the answers
    assert lim.stats.slowdowns == 1
    assert lim.current_rate("create") == 300
    start = fake.now
    await lim.acquire("create")
    assert fake.now - start == pytest.approx(2.0)  # paused until Retry-After


async def test_the_rate_recovers_within_two_quiet_windows() -> None:
    fake = FakeTime()
    lim = limiter(fake, create_per_minute=600, create_burst=100, window=2.0)
    quiet = {"ratelimit-remaining": "0", "ratelimit-reset": "0"}  # no headroom to learn from
    await call(lim, 429, {**EXHAUSTED, "Retry-After": "0"})
    assert lim.current_rate("create") == 300
    assert lim.learned_limit("create") == 600  # a one-off: the limit stays
    fake.now += 1.9
    await call(lim, 201, quiet)
    assert lim.current_rate("create") == 300  # the window is not over yet
    fake.now += 0.1
    await call(lim, 201, quiet)
    assert lim.current_rate("create") == pytest.approx(450)  # one quiet window: x1.5
    fake.now += 2.0
    await call(lim, 201, quiet)
    assert lim.current_rate("create") == 600  # two: back at the limit
    fake.now += 2.0
    await call(lim, 201, quiet)
    assert lim.current_rate("create") == 600  # and no further


async def test_exhaustion_that_recurs_lowers_the_learned_limit() -> None:
    fake = FakeTime()
    lim = limiter(fake, create_per_minute=600, create_burst=100, window=1.0)
    await call(lim, 429, {**EXHAUSTED, "Retry-After": "0"})
    fake.now += 3.0
    await call(lim, 201, EXHAUSTED)
    fake.now += 1.0
    await call(lim, 201, EXHAUSTED)
    assert lim.current_rate("create") == 600  # recovered
    await call(lim, 429, {**EXHAUSTED, "Retry-After": "0"})  # and exhausted again at 600
    assert lim.current_rate("create") == 300
    assert lim.learned_limit("create") == pytest.approx(540)  # 90% of where it hit
    fake.now += 31.0  # long after: another one-off changes the rate, not the limit
    await call(lim, 201, EXHAUSTED)
    fake.now += 1.0
    await call(lim, 201, EXHAUSTED)
    assert lim.current_rate("create") == pytest.approx(540)
    fake.now += 31.0
    await call(lim, 429, {**EXHAUSTED, "Retry-After": "0"})
    assert lim.learned_limit("create") == pytest.approx(540)


async def test_retry_after_pauses_every_caller_on_exhaustion_only() -> None:
    fake = FakeTime()
    lim = limiter(fake, create_per_minute=60, create_burst=10)
    await lim.acquire("create")
    # a lone 429 (the server has 80 left): its Retry-After is for its own retry only
    lim.observe("create", 429, {"ratelimit-remaining": "80", "Retry-After": "30"})
    await lim.acquire("create")
    assert fake.sleeps == []
    # exhaustion: every caller waits for the server's Retry-After
    lim.observe("create", 429, {"ratelimit-remaining": "0", "Retry-After": "7"})
    times = []
    for _ in range(3):
        await lim.acquire("create")
        times.append(round(fake.now - 1000.0, 6))
    assert times == [7, 9, 11]  # paused 7 s, then the halved rate (30/min), no burst


async def test_a_429_without_rate_headers_counts_as_exhaustion() -> None:
    fake = FakeTime()
    lim = limiter(fake, create_per_minute=600, create_burst=10)
    await call(lim, 201, HEALTHY)
    await call(lim, 429, {"Retry-After": "3"})
    assert lim.stats.slowdowns == 1 and lim.stats.lone_429s == 0
    start = fake.now
    await lim.acquire("create")
    assert fake.now - start == pytest.approx(3.0)


async def test_learns_a_higher_limit_from_a_server_that_allows_3000_creates_a_minute() -> None:
    fake = FakeTime()
    lim = limiter(fake)  # the defaults: 600 creates/min, a burst of 100
    server = ServerBucket(fake, per_minute=3000, burst=500)
    await drive(lim, server, 120.0)
    # it went above 600/min in steps of x1.5 and settled at the step nearest the server's
    # limit (600 * 1.5**4 = 3037.5, which the server's burst absorbs), without a single 429
    assert lim.stats.speedups >= 4
    limit = lim.learned_limit("create")
    assert limit is not None and 2000 <= limit <= 3000 * 1.1
    since = fake.now - 60.0
    assert 0.9 * 3000 <= server.created_per_minute(since) <= 3000 * 1.02
    assert server.throttled() == 0


async def test_a_raise_the_server_cannot_keep_up_with_is_taken_back_before_any_429() -> None:
    # 1,000/min with a deep bucket: a full bucket shows headroom whatever its refill rate, so
    # the limiter overshoots while the bucket absorbs it, sees the headroom shrink and steps
    # back to 900/min, before the server runs dry
    fake = FakeTime()
    lim = limiter(fake)
    server = ServerBucket(fake, per_minute=1000, burst=2000)
    await drive(lim, server, 600.0)
    assert server.throttled() == 0
    assert lim.learned_limit("create") == pytest.approx(900)
    assert 850 <= server.created_per_minute(fake.now - 300.0) <= 1000


async def test_an_account_below_the_configured_rate_is_found_with_a_few_429s() -> None:
    fake = FakeTime()
    lim = limiter(fake)  # 600/min, but the server allows 450/min (credit running low)
    server = ServerBucket(fake, per_minute=450, burst=75)
    await drive(lim, server, 300.0)
    limit = lim.learned_limit("create")
    assert limit is not None and limit <= 500
    assert server.throttled() <= 10
    assert server.created_per_minute(fake.now - 120.0) >= 0.85 * 450


async def test_never_goes_above_what_the_server_shows_or_the_ceiling() -> None:
    # a server that allows exactly the configured rate shows no headroom: nothing is learned
    fake = FakeTime()
    lim = limiter(fake)
    server = ServerBucket(fake, per_minute=600, burst=100)
    await drive(lim, server, 60.0)
    assert lim.learned_limit("create") == 600
    assert lim.stats.speedups == 0
    assert server.throttled() == 0
    # a server with far more room: the learned limit stops at the ceiling
    fake = FakeTime()
    lim = limiter(fake, create_max_per_minute=1500)
    server = ServerBucket(fake, per_minute=30_000, burst=5000)
    await drive(lim, server, 60.0)
    assert lim.learned_limit("create") == 1500
    assert server.created_per_minute(fake.now - 30.0) <= 1500 * 1.01
    assert server.throttled() == 0


async def test_a_fixed_window_counter_spent_at_its_own_pace_shows_no_headroom() -> None:
    # A server counting calls per minute: "remaining" falls through the minute, "reset" is the
    # time left in it. Spent at exactly its limit, remaining / reset is that same rate.
    fake = FakeTime()
    lim = limiter(fake, create_per_minute=600, create_burst=1)
    minute_start = fake.now
    used = 0
    for _ in range(1200):
        await lim.acquire("create")
        if fake.now - minute_start >= 60:
            minute_start, used = minute_start + 60, 0
        used += 1
        left = 60 - (fake.now - minute_start)
        lim.observe(
            "create",
            201,
            {"ratelimit-remaining": str(600 - used), "ratelimit-reset": str(math.ceil(left))},
        )
    assert lim.learned_limit("create") == 600


async def test_five_percent_random_429s_keep_the_rate() -> None:
    fake = FakeTime()
    lim = limiter(fake)
    server = ServerBucket(fake, per_minute=600, burst=100, random_429=0.05)
    await drive(lim, server, 120.0)
    assert server.throttled() >= 50  # about one answer in twenty
    # Some come while the server shows nothing left (client and server run at the same
    # rate), which looks like exhaustion: a slowdown or two, no collapse, no lasting loss.
    assert lim.stats.slowdowns <= 2
    assert lim.stats.lone_429s >= 0.9 * server.throttled()
    assert server.created_per_minute(fake.now - 60.0) >= 0.95 * 600
    assert lim.learned_limit("create") == 600


class VirtualTime:
    """Concurrent sleepers on a virtual clock: ``run`` moves time to the earliest wake-up."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self.count = 0

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        future = asyncio.get_running_loop().create_future()
        self.count += 1
        self.sleepers.append((self.now + delay, self.count, future))
        await future

    async def run(self, tasks: list[asyncio.Task[None]], until: float) -> None:
        for _ in range(1_000_000):
            for _ in range(5):
                await asyncio.sleep(0)  # let every runnable task reach its next sleep
            if all(task.done() for task in tasks):
                return
            if not self.sleepers:
                continue
            self.sleepers.sort(key=lambda item: item[:2])
            wake_at, _, future = self.sleepers.pop(0)
            if wake_at > until:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                return
            self.now = max(self.now, wake_at)
            future.set_result(None)


async def test_a_faster_rate_applies_to_the_calls_already_queued() -> None:
    clock = VirtualTime()
    lim = TokenBucketLimiter(create_burst=10, clock=clock.clock, sleep=clock.sleep)
    sent: list[float] = []

    async def caller() -> None:
        while True:
            await lim.acquire("create")
            sent.append(clock.now)
            # the server has plenty left: the limit grows x1.5 per window
            lim.observe("create", 201, {"ratelimit-remaining": "5000", "ratelimit-reset": "0"})

    tasks = [asyncio.ensure_future(caller()) for _ in range(50)]
    await clock.run(tasks, until=6.0)
    assert lim.stats.speedups >= 4
    # the callers that queued at 600/min (slots 0.1 s apart until t=4) take fresh slots at
    # each raise (900, 1350, 2025/min in seconds 1, 2 and 3): about 15 + 22 + 33 calls, not
    # the 10 a second the old slots would give
    assert sum(1 for t in sent if 1.0 <= t < 4.0) >= 60


def test_the_ceiling_must_not_be_below_the_rate() -> None:
    with pytest.raises(ConfigurationError):
        TokenBucketLimiter(create_per_minute=600, create_max_per_minute=300)
    with pytest.raises(ConfigurationError):
        TokenBucketLimiter(max_per_minute=0)
    with pytest.raises(ConfigurationError):
        TokenBucketLimiter(window=0)
    with pytest.raises(ConfigurationError):
        TokenBucketLimiter(window=math.inf)
    lim = TokenBucketLimiter(create_per_minute=600, create_max_per_minute=600)
    assert lim.learned_limit("create") == 600
    assert TokenBucketLimiter(create_per_minute=None).learned_limit("create") is None


# -- property: whatever the server says, the rate stays between the floor and the limit -------
_headers = st.fixed_dictionaries(
    {},
    optional={
        "ratelimit-remaining": st.sampled_from(["0", "1", "5", "50", "500", "100000", "x", "-3"]),
        "ratelimit-reset": st.sampled_from(["0", "1", "2", "30", "600", "nan", ""]),
        "Retry-After": st.sampled_from(["0", "1", "5", "120", "soon"]),
    },
)
_events = st.lists(
    st.tuples(
        st.sampled_from([0.0, 0.01, 0.3, 1.0, 5.0]),  # time passing before the call
        st.sampled_from([201, 201, 200, 429, 429, 500]),
        _headers,
    ),
    max_size=60,
)


@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(events=_events, ceiling=st.sampled_from([None, 600.0, 900.0, 3000.0]))
def test_the_rate_stays_between_the_floor_and_the_learned_limit(
    events: list[tuple[float, int, dict[str, str]]], ceiling: float | None
) -> None:
    fake = FakeTime()
    lim = limiter(fake, create_per_minute=600, create_burst=20, create_max_per_minute=ceiling)
    floor = 600 / 64
    most = 6000 if ceiling is None else ceiling

    async def main() -> None:
        for gap, status, headers in events:
            fake.now += gap
            await lim.acquire("create")
            lim.observe("create", status, headers)
            rate, limit = lim.current_rate("create"), lim.learned_limit("create")
            assert rate is not None and limit is not None
            assert floor - 1e-9 <= rate <= limit + 1e-9
            assert floor - 1e-9 <= limit <= most + 1e-9

    asyncio.run(main())

"""The client-side rate limiter, on a fake clock (no waiting, no server)."""

from __future__ import annotations

import asyncio
import threading

import pytest
from support import FakeTime
from support import fake_limiter as limiter

from replicate_async import Client, ConfigurationError
from replicate_async._core.ratelimit import TokenBucketLimiter, _Bucket
from replicate_async.emulator import Emulator


async def send_times(lim: TokenBucketLimiter, fake: FakeTime, n: int, cls: str) -> list[float]:
    times = []
    for _ in range(n):
        await lim.acquire(cls)
        times.append(round(fake.now - 100.0, 6))
    return times


async def test_a_full_bucket_bursts_then_spaces_calls_evenly() -> None:
    fake = FakeTime(100.0)
    lim = limiter(fake, create_per_minute=60, create_burst=3)
    assert await send_times(lim, fake, 6, "create") == [0, 0, 0, 1, 2, 3]
    assert lim.stats.acquired == 6
    assert lim.stats.delayed == 3


async def test_creates_and_other_calls_draw_from_separate_buckets() -> None:
    fake = FakeTime(100.0)
    lim = limiter(fake, create_per_minute=60, per_minute=120, create_burst=1, burst=1)
    await lim.acquire("create")
    await lim.acquire("other")  # not held back by the create that just went out
    assert fake.sleeps == []
    await lim.acquire("get")  # any class but "create" is "other": 0.5 s apart
    assert fake.sleeps == [0.5]


async def test_default_burst_is_ten_seconds_worth() -> None:
    fake = FakeTime(100.0)
    lim = limiter(fake)  # 600 creates/min: 100 at once, then one every 0.1 s
    times = await send_times(lim, fake, 101, "create")
    assert times[99] == 0
    assert times[100] == pytest.approx(0.1)


async def test_none_leaves_a_class_unlimited() -> None:
    fake = FakeTime(100.0)
    lim = limiter(fake, create_per_minute=None, per_minute=1, burst=1)
    await send_times(lim, fake, 50, "create")
    assert fake.sleeps == []
    assert lim.current_rate("create") is None


async def test_a_429_pauses_until_retry_after_then_resumes_without_a_burst() -> None:
    fake = FakeTime(100.0)
    lim = limiter(fake, create_per_minute=60, create_burst=10)
    await lim.acquire("create")
    lim.observe("create", 429, {"Retry-After": "5"})
    assert lim.stats.rate_limited == 1
    assert lim.current_rate("create") == 30  # halved
    times = await send_times(lim, fake, 3, "create")
    assert times == [5, 7, 9]  # paused 5 s, then the (halved) steady rate: no burst


async def test_429s_from_one_round_of_calls_halve_the_rate_once() -> None:
    fake = FakeTime(100.0)
    lim = limiter(fake, create_per_minute=600, create_burst=8)

    all_sent = asyncio.Event()

    async def call(wait_for_others: bool = True) -> None:
        await lim.acquire("create")
        if lim.stats.acquired == 8:
            all_sent.set()
        if wait_for_others:
            await all_sent.wait()
        lim.observe("create", 429, {"Retry-After": "1"})

    # eight calls went out together and all came back 429: one slowdown, not eight
    await asyncio.gather(*(call() for _ in range(8)))
    assert lim.stats.rate_limited == 8
    assert lim.stats.slowdowns == 1
    assert lim.current_rate("create") == 300
    # a call sent after the slowdown, throttled in the same window: paused, not halved again
    await call(wait_for_others=False)
    assert lim.current_rate("create") == 300
    # one sent in the next window (a second after the pause ended) halves it again
    fake.now += 1.0
    await call(wait_for_others=False)
    assert lim.current_rate("create") == 150
    assert lim.stats.slowdowns == 2


async def test_the_pause_comes_from_ratelimit_reset_or_a_growing_backoff() -> None:
    fake = FakeTime(100.0)
    lim = limiter(fake, create_per_minute=6000, create_burst=100)
    await lim.acquire("create")
    lim.observe("create", 429, {"ratelimit-reset": "3"})
    await lim.acquire("create")
    assert fake.now - 100 == pytest.approx(3)
    lim.observe("create", 429, {})  # nothing to go by: 0.5 s, then 1 s, 2 s ...
    start = fake.now
    await lim.acquire("create")
    assert fake.now - start == pytest.approx(1.0)
    lim.observe("create", 200, {})
    lim.observe("create", 429, {"Retry-After": "Thu, 01 Jan 1970 00:00:00 GMT"})  # past: 0
    start = fake.now
    await lim.acquire("create")
    assert fake.now - start < 0.1


async def test_ratelimit_remaining_lowers_the_bucket_but_never_raises_it() -> None:
    fake = FakeTime(100.0)
    lim = limiter(fake, create_per_minute=60, create_burst=10)
    await lim.acquire("create")
    lim.observe("create", 201, {"ratelimit-remaining": "2"})  # the server has 2 left, not 9
    assert await send_times(lim, fake, 4, "create") == [0, 0, 1, 2]

    fake2 = FakeTime(100.0)
    lim2 = limiter(fake2, create_per_minute=60, create_burst=3)
    await lim2.acquire("create")
    lim2.observe("create", 201, {"ratelimit-remaining": "500"})  # more than ours: ignored
    assert await send_times(lim2, fake2, 3, "create") == [0, 0, 1]


async def test_calls_sent_after_the_answered_one_count_as_spent() -> None:
    fake = FakeTime(100.0)
    lim = limiter(fake, create_per_minute=60, create_burst=10)

    seen: list[None] = []

    async def first() -> None:
        await lim.acquire("create")
        seen.append(None)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        # four more were sent meanwhile; the server had 5 left when it answered this one
        lim.observe("create", 201, {"ratelimit-remaining": "5"})

    async def later() -> None:
        await asyncio.sleep(0)
        await lim.acquire("create")

    await asyncio.gather(first(), *(later() for _ in range(4)))
    assert await send_times(lim, fake, 2, "create") == [0, 1]  # 5 - 4 = 1 left, then 1/s


async def test_successes_climb_back_to_the_learned_limit_and_no_further() -> None:
    fake = FakeTime(100.0)
    lim = limiter(fake, create_per_minute=600, create_burst=1)
    await lim.acquire("create")
    lim.observe("create", 429, {"Retry-After": "0"})
    assert lim.current_rate("create") == 300
    for _ in range(200):
        await lim.acquire("create")
        lim.observe("create", 201, {})  # no headers: nothing shows headroom
    assert lim.current_rate("create") == 600
    assert lim.learned_limit("create") == 600


async def test_a_cancelled_waiter_gives_its_slot_back() -> None:
    fake = FakeTime(100.0)

    async def sleep_forever(delay: float) -> None:
        fake.sleeps.append(delay)
        await asyncio.Event().wait()

    lim = TokenBucketLimiter(
        create_per_minute=60, create_burst=1, clock=fake.clock, sleep=sleep_forever
    )
    await lim.acquire("create")
    for _ in range(2):
        waiter = asyncio.ensure_future(lim.acquire("create"))
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
    # each waiter was offered the slot at 1 s; the second got the slot the first gave back
    assert fake.sleeps == [1.0, 1.0]


async def test_a_waiter_takes_a_fresh_slot_when_a_429_arrives_while_it_sleeps() -> None:
    fake = FakeTime(100.0)
    gate = asyncio.Event()

    async def sleep(delay: float) -> None:
        fake.sleeps.append(delay)
        await gate.wait()
        fake.now += delay

    lim = TokenBucketLimiter(create_per_minute=60, create_burst=1, clock=fake.clock, sleep=sleep)
    await lim.acquire("create")
    waiter = asyncio.ensure_future(lim.acquire("create"))
    await asyncio.sleep(0)
    lim.observe("create", 429, {"Retry-After": "10"})  # the first call came back throttled
    gate.set()
    await waiter
    assert fake.sleeps[0] == 1.0  # its first slot was at 1 s ...
    assert fake.now - 100 >= 10  # ... but it went out only after the pause


def test_one_limiter_schedules_callers_from_all_threads_and_loops() -> None:
    now = [0.0]
    delays: list[float] = []
    lock = threading.Lock()

    async def record(delay: float) -> None:
        with lock:
            delays.append(round(delay, 6))

    lim = TokenBucketLimiter(  # a window longer than any wait: one sleep per call
        create_per_minute=60, create_burst=1, window=100, clock=lambda: now[0], sleep=record
    )

    def worker() -> None:
        async def main() -> None:
            for _ in range(10):
                await lim.acquire("create")

        asyncio.run(main())

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    # 30 calls, one slot each: 0 (no wait) then 1 s, 2 s, ... 29 s, never two in one slot
    assert sorted(delays) == [float(i) for i in range(1, 30)]


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ConfigurationError):
        TokenBucketLimiter(create_per_minute=0)
    with pytest.raises(ConfigurationError):
        TokenBucketLimiter(per_minute=-5)
    with pytest.raises(ConfigurationError):
        TokenBucketLimiter(create_burst=0.5)
    with pytest.raises(ConfigurationError):
        TokenBucketLimiter(create_per_minute=True)  # a bool is no rate


def test_every_client_has_a_limiter_that_can_be_replaced_or_turned_off() -> None:
    client = Client(api_token="r8_test")
    assert isinstance(client.rate_limiter, TokenBucketLimiter)
    assert client.rate_limiter.create_per_minute == 600
    assert client.rate_limiter.per_minute == 3000
    custom = TokenBucketLimiter(create_per_minute=1200)
    client.rate_limiter = custom
    assert client._transport.limiter is custom
    client.rate_limiter = None
    assert client._transport.limiter is None
    assert "600/min" in repr(TokenBucketLimiter())


def test_bucket_remaining_counts_what_could_go_out_now() -> None:
    bucket = _Bucket(per_minute=60, burst=5)
    assert bucket.remaining(0.0) == 5
    bucket.reserve(0.0)
    bucket.reserve(0.0)
    assert bucket.remaining(0.0) == pytest.approx(3)
    assert bucket.remaining(2.0) == pytest.approx(5)  # refilled, capped at the burst


@pytest.mark.replicate_emulator(seed=3)  # the faults' random draws repeat
async def test_random_429s_from_the_emulator_are_lone_and_slow_nothing_down(
    client: Client, replicate_emulator: Emulator
) -> None:
    # a quarter of the creates answered 429 with the emulator's usual headers (plenty left)
    replicate_emulator.faults.add(route="*predictions.create", status=429, probability=0.25)
    limiter = client.rate_limiter
    assert isinstance(limiter, TokenBucketLimiter)
    semaphore = asyncio.Semaphore(10)

    async def one(i: int) -> None:
        async with semaphore:
            assert await client.run("replicate/instant", input={"text": str(i)}) == f"instant: {i}"

    await asyncio.gather(*(one(i) for i in range(40)))
    injected = replicate_emulator.stats.faults_injected
    assert injected >= 5
    assert limiter.stats.rate_limited == injected
    assert limiter.stats.lone_429s == injected
    assert limiter.stats.slowdowns == 0
    assert limiter.current_rate("create") == 600
    assert replicate_emulator.stats.rate_limited == 0


def test_the_cli_rate_limit_is_a_cap_never_learned_above() -> None:
    """``--rate-limit N`` is what the user allows: headroom shown by the server never raises it."""
    from replicate_async.cli.batch import batch_limiter

    assert batch_limiter(0) is None
    limiter = batch_limiter(120)
    assert limiter is not None
    assert limiter.learned_limit("create") == 120
    assert limiter._buckets["create"].ceiling * 60 == 120  # what learning may never exceed
    default = type(limiter)(120)
    assert default._buckets["create"].ceiling * 60 > 120  # unlike a limiter left to learn

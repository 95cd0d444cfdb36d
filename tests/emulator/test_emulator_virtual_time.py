"""``Emulator(clock=VirtualClock())``: a test moves time itself, exactly, without sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from emu_helpers import AUTH, HELLO, call, wait_until

from replicate_async.emulator import Emulator, VirtualClock
from replicate_async.emulator._util import parse_ts

HELLO_REF = "replicate/hello-world"


@pytest_asyncio.fixture
async def clock() -> VirtualClock:
    return VirtualClock(start=1_750_000_000.0)


@pytest_asyncio.fixture
async def emu(clock: VirtualClock) -> AsyncIterator[Emulator]:
    async with Emulator(
        clock=clock, rate_limit=False, model_timings={HELLO_REF: (2.0, 3.0)}
    ) as emulator:
        yield emulator


async def create(http: aiohttp.ClientSession, emu: Emulator, **headers: str) -> dict[str, Any]:
    _, body, _ = await call(
        http,
        "POST",
        f"{emu.url}/predictions",
        headers=headers,
        json={"version": HELLO, "input": {"text": "time"}},
        expect=201,
    )
    return dict(body)


async def test_virtual_clock_runs_timers_in_order_at_their_instants() -> None:
    clock = VirtualClock(start=100.0)
    seen: list[tuple[str, float, float]] = []

    def note(name: str) -> None:
        seen.append((name, clock.monotonic(), clock.time()))

    clock.call_later(2.0, note, "b")
    clock.call_later(1.0, note, "a")
    clock.call_later(2.0, note, "c")  # same instant: in the order they were set
    clock.call_later(5.0, note, "never").cancel()
    clock.call_later(9.0, note, "later")
    await clock.advance(3.0)
    assert seen == [("a", 1.0, 101.0), ("b", 2.0, 102.0), ("c", 2.0, 102.0)]
    assert clock.monotonic() == 3.0 and clock.time() == 103.0
    assert clock.pending == 1 and clock.next_deadline() == 6.0
    with pytest.raises(ValueError):
        await clock.advance(-1)


async def test_virtual_sleep_and_wait_finish_only_when_time_moves() -> None:
    clock = VirtualClock()
    sleeper = asyncio.create_task(clock.sleep(10.0))
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    waiter = asyncio.create_task(clock.wait(never, 4.0))
    await clock.advance(3.999)
    assert not sleeper.done() and not waiter.done()
    await clock.advance(0.001)
    assert waiter.done() and waiter.result() is False and not never.cancelled()
    await clock.advance(6.0)
    assert sleeper.done()
    never.cancel()


async def test_prediction_lifecycle_follows_virtual_time_exactly(
    emu: Emulator, clock: VirtualClock
) -> None:
    async with aiohttp.ClientSession(headers=AUTH) as http:
        pred = await create(http, emu)
        job = emu.predictions[pred["id"]]
        await clock.advance(1.999)
        assert job.status == "starting"
        await clock.advance(0.001)
        assert job.status == "processing"
        await clock.advance(2.999)
        assert job.status == "processing"
        await clock.advance(0.001)
        assert job.status == "succeeded"
        _, done, _ = await call(http, "GET", pred["urls"]["get"], expect=200)
    assert done["output"] == "hello time"
    assert done["metrics"] == {"predict_time": 3.0, "total_time": 5.0}
    created = parse_ts(done["created_at"])
    assert created is not None and abs(created - 1_750_000_000.0) < 1e-3
    assert parse_ts(done["completed_at"]) == pytest.approx(created + 5.0, abs=1e-3)


async def test_cancel_after_deadline_aborts_or_cancels_on_time(
    emu: Emulator, clock: VirtualClock
) -> None:
    emu.options.model_timings = {HELLO_REF: (10.0, 60.0)}
    async with aiohttp.ClientSession(headers=AUTH) as http:
        queued = await create(http, emu, **{"Cancel-After": "5s"})
        await clock.advance(4.999)
        assert emu.predictions[queued["id"]].status == "starting"
        await clock.advance(0.001)
        assert emu.predictions[queued["id"]].status == "aborted"
        running = await create(http, emu, **{"Cancel-After": "15"})
        await clock.advance(14.0)
        assert emu.predictions[running["id"]].status == "processing"
        await clock.advance(1.0)
        assert emu.predictions[running["id"]].status == "canceled"


async def test_prefer_wait_returns_when_virtual_time_runs_out(
    emu: Emulator, clock: VirtualClock
) -> None:
    emu.options.model_timings = {HELLO_REF: (100.0, 1.0)}
    async with aiohttp.ClientSession(headers=AUTH) as http:
        held = asyncio.create_task(create(http, emu, Prefer="wait=5"))
        await wait_until(lambda: len(emu.predictions) == 1)
        await clock.advance(4.9)
        assert not held.done()
        await clock.advance(0.1)
        body = await asyncio.wait_for(held, 10)
    assert body["status"] == "starting"


async def test_stream_idle_end_comes_after_exactly_the_idle_timeout(clock: VirtualClock) -> None:
    async with (
        Emulator(
            clock=clock, rate_limit=False, model_timings={"meta/meta-llama-3-8b-instruct": (1e6, 1)}
        ) as emu,
        aiohttp.ClientSession(headers=AUTH) as http,
    ):
        _, pred, _ = await call(
            http,
            "POST",
            f"{emu.url}/models/meta/meta-llama-3-8b-instruct/predictions",
            json={"input": {"prompt": "hi"}},
            expect=201,
        )

        async def read() -> bytes:
            async with http.get(pred["urls"]["stream"]) as resp:
                return await resp.read()

        reader = asyncio.create_task(read())
        await wait_until(lambda: emu.stats.stream_connections == 1)
        await clock.advance(29.9)
        assert not reader.done()
        await clock.advance(0.1)
        body = await asyncio.wait_for(reader, 10)
    assert body == b": hi\n\n:408: 408 Request Timeout\n\n"


async def test_rate_limit_window_refills_with_virtual_time(clock: VirtualClock) -> None:
    async with (
        Emulator(
            clock=clock,
            create_rate_per_minute=60,
            create_burst=2,
            model_timings={HELLO_REF: (0, 0)},
        ) as emu,
        aiohttp.ClientSession(headers=AUTH) as http,
    ):
        await create(http, emu)
        await create(http, emu)
        status, _, headers = await call(
            http,
            "POST",
            f"{emu.url}/predictions",
            json={"version": HELLO, "input": {"text": "x"}},
        )
        assert status == 429 and headers["Retry-After"] == "1"
        await clock.advance(0.999)
        status, _, _ = await call(
            http, "POST", f"{emu.url}/predictions", json={"version": HELLO, "input": {"text": "x"}}
        )
        assert status == 429
        await clock.advance(0.001)
        await create(http, emu)


async def test_retention_removes_data_after_an_hour_of_virtual_time(
    emu: Emulator, clock: VirtualClock
) -> None:
    async with aiohttp.ClientSession(headers=AUTH) as http:
        pred = await create(http, emu)
        await clock.advance(5.0)
        await clock.advance(3599.0)
        assert not emu.predictions[pred["id"]].data_removed
        await clock.advance(1.0)
        _, body, _ = await call(http, "GET", pred["urls"]["get"], expect=200)
    assert body["data_removed"] is True and body["output"] is None


async def test_retention_removes_each_prediction_at_its_own_instant_with_one_timer(
    emu: Emulator, clock: VirtualClock
) -> None:
    # Instant predictions finish inside their create: one at t=0, two at t=10, one at t=25.
    # Their data goes exactly an hour after each finished, while a single retention timer
    # stands for all of them (not one per prediction).
    async with aiohttp.ClientSession(headers=AUTH) as http:

        async def instant() -> str:
            _, body, _ = await call(
                http,
                "POST",
                f"{emu.url}/models/replicate/instant/predictions",
                json={"input": {"text": "x"}},
                expect=201,
            )
            assert body["status"] == "succeeded"
            return str(body["id"])

        first = await instant()
        await clock.advance(10.0)
        second, third = await instant(), await instant()
        await clock.advance(15.0)
        fourth = await instant()
        assert clock.pending == 1
        removed = lambda: [emu.predictions[p].data_removed for p in (first, second, third, fourth)]  # noqa: E731
        await clock.advance(3600.0 - 25.0 - 0.001)
        assert removed() == [False, False, False, False]
        await clock.advance(0.001)
        assert removed() == [True, False, False, False]
        await clock.advance(9.999)
        assert removed() == [True, False, False, False]
        await clock.advance(0.001)
        assert removed() == [True, True, True, False]
        await clock.advance(15.0)
        assert removed() == [True, True, True, True]
        assert clock.pending == 0
        _, body, _ = await call(http, "GET", f"{emu.url}/predictions/{fourth}", expect=200)
    assert body["data_removed"] is True and body["output"] is None and body["input"] == {}

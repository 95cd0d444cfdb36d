"""Rate limits (token buckets, 429s) and fault injection."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from emu_helpers import LLAMA3, call, wait_until

from replicate_async.emulator import Emulator, VirtualClock


async def test_general_bucket_429(emulator_factory: Any, http: aiohttp.ClientSession) -> None:
    async with emulator_factory(rate_per_minute=60, burst=3) as emu:
        remaining = []
        for _ in range(3):
            _, _, headers = await call(http, "GET", f"{emu.url}/account", expect=200)
            remaining.append(int(headers["ratelimit-remaining"]))
            assert int(headers["ratelimit-reset"]) >= 0
        assert remaining == [2, 1, 0]
        _, body, headers = await call(http, "GET", f"{emu.url}/account", expect=429)
        assert body["status"] == 429
        assert body["detail"].startswith("Request was throttled. Your rate limit resets in ~")
        assert body["detail"].endswith(f"~{headers['Retry-After']}s.")
        assert int(headers["Retry-After"]) >= 1
        assert headers["Content-Type"].startswith("application/problem+json")
        assert emu.stats.rate_limited == 1
        # a different token has its own buckets; creates use the create bucket
        other = {"Authorization": "Bearer other"}
        await call(http, "GET", f"{emu.url}/account", headers=other, expect=200)
        await call(
            http,
            "POST",
            f"{emu.url}/models/replicate/instant/predictions",
            json={"input": {}},
            expect=201,
        )


async def test_create_bucket(emulator_factory: Any, http: aiohttp.ClientSession) -> None:
    async with emulator_factory(create_rate_per_minute=6, create_burst=2) as emu:
        url = f"{emu.url}/models/replicate/instant/predictions"
        for _ in range(2):
            await call(http, "POST", url, json={"input": {}}, expect=201)
        _, _body, headers = await call(http, "POST", url, json={"input": {}}, expect=429)
        assert headers["Retry-After"] == "10"
        assert emu.stats.predictions_created == 2
        await call(http, "GET", f"{emu.url}/predictions", expect=200)


async def test_rate_limit_off(emulator_factory: Any, http: aiohttp.ClientSession) -> None:
    async with emulator_factory(rate_limit=False, rate_per_minute=1, burst=1) as emu:
        for _ in range(5):
            _, _, headers = await call(http, "GET", f"{emu.url}/hardware", expect=200)
            assert "ratelimit-remaining" in headers


async def test_status_fault_times(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emu = replicate_emulator
    fault = emu.faults.add(route="models.predictions.create", status=503, times=2)
    url = f"{emu.url}/models/replicate/instant/predictions"
    for _ in range(2):
        _, body, headers = await call(http, "POST", url, json={"input": {}}, expect=503)
        assert body["status"] == 503 and headers["Content-Type"].startswith("application/problem")
    await call(http, "POST", url, json={"input": {}}, expect=201)
    assert fault.hits == 2 and len(emu.faults) == 0
    assert emu.stats.faults_injected == 2 and emu.stats.predictions_created == 1
    await call(http, "GET", f"{emu.url}/account", expect=200)


async def test_fault_patterns_and_custom_body(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emu = replicate_emulator
    emu.faults.add(
        route="GET /predictions/*",
        status=429,
        body={"detail": "slow down", "status": 429},
        headers={"Retry-After": "1"},
    )
    _, body, headers = await call(http, "GET", f"{emu.url}/predictions/abc", expect=429)
    assert body == {"detail": "slow down", "status": 429} and headers["Retry-After"] == "1"
    await call(http, "GET", f"{emu.url}/predictions", expect=200)  # pattern needs a path segment
    emu.faults.clear()
    emu.faults.add(route="models.*", status=500, times=1)
    await call(http, "GET", f"{emu.url}/models/stability-ai/sdxl", expect=500)
    await call(http, "GET", f"{emu.url}/models/stability-ai/sdxl", expect=200)


async def test_probability_is_deterministic_with_seed(
    emulator_factory: Any, http: aiohttp.ClientSession
) -> None:
    patterns = []
    for _ in range(2):
        async with emulator_factory(seed=1234) as emu:
            emu.faults.add(route="hardware.list", status=502, probability=0.5)
            statuses = []
            for _ in range(20):
                status, _, _ = await call(http, "GET", f"{emu.url}/hardware")
                statuses.append(status)
            patterns.append(statuses)
    assert patterns[0] == patterns[1]
    assert 502 in patterns[0] and 200 in patterns[0]


async def test_latency_reset_malformed(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emu = replicate_emulator
    # aiohttp itself retries idempotent requests once after a disconnect: reset twice
    emu.faults.add(route="account.get", reset=True, times=2)
    with pytest.raises(aiohttp.ClientError):
        await call(http, "GET", f"{emu.url}/account")
    await call(http, "GET", f"{emu.url}/account", expect=200)
    emu.faults.add(route="models.predictions.create", reset=True, times=1)
    with pytest.raises(aiohttp.ClientError):
        await call(
            http, "POST", f"{emu.url}/models/replicate/instant/predictions", json={"input": {}}
        )
    assert emu.stats.predictions_created == 0
    emu.faults.add(route="account.get", malformed=True, times=1)
    status, body, _ = await call(http, "GET", f"{emu.url}/account")
    assert status == 200 and isinstance(body, str)
    with pytest.raises(ValueError):
        json.loads(body)


async def test_fault_latency_delays_by_exactly_that_much_emulated_time(
    http: aiohttp.ClientSession,
) -> None:
    clock = VirtualClock()
    async with Emulator(clock=clock, rate_limit=False) as emu:
        emu.faults.add(route="account.get", latency=0.3, times=1)
        slow = asyncio.create_task(call(http, "GET", f"{emu.url}/account", expect=200))
        await wait_until(lambda: emu.stats.faults_injected == 1)
        await clock.advance(0.299)
        assert not slow.done()
        await clock.advance(0.001)
        await asyncio.wait_for(slow, 10)
        # Only the next request was delayed (times=1).
        await call(http, "GET", f"{emu.url}/account", expect=200)


async def test_stream_cut_and_resume(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emu = replicate_emulator
    _, pred, _ = await call(
        http,
        "POST",
        f"{emu.url}/models/{LLAMA3}/predictions",
        json={"input": {"prompt": "x", "seed": 1}},
        headers={"Prefer": "wait"},
        expect=201,
    )
    emu.faults.add(route="stream", cut_after=3, times=1)
    got = b""
    with pytest.raises(aiohttp.ClientPayloadError):
        async with http.get(pred["urls"]["stream"]) as resp:
            async for chunk in resp.content.iter_any():
                got += chunk
    text = got.decode()
    assert text.count("\nid: ") + text.startswith("id: ") == 3
    last_id = [line for line in text.split("\n") if line.startswith("id: ")][-1][4:]
    async with http.get(pred["urls"]["stream"], headers={"Last-Event-ID": last_id}) as resp:
        rest = (await resp.read()).decode()
    ids = [line[4:] for line in (text + rest).split("\n") if line.startswith("id: ")]
    assert [int(i.split(":")[1]) for i in ids] == list(range(len(ids)))
    assert rest.rstrip().endswith("data: {}")


async def test_delivery_fault(replicate_emulator: Emulator) -> None:
    emu = replicate_emulator
    emu.faults.add(route="delivery", status=503, times=1)
    async with aiohttp.ClientSession() as anon:
        await call(anon, "GET", f"{emu.delivery_url}/anything", expect=503)
        await call(anon, "GET", f"{emu.delivery_url}/anything", expect=404)
    assert [r.status for r in emu.delivery_requests] == [503, 404]


async def test_unknown_fault_setting_rejected(replicate_emulator: Emulator) -> None:
    with pytest.raises(TypeError):
        replicate_emulator.faults.add(route="x", explode=True)

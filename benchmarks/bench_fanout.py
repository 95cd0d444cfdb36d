"""Benchmark: client CPU per prediction for a fan-out of ``run()`` calls.

2,000 ``await client.run("replicate/instant", …)`` calls at concurrency 100 against the
emulator running in another process, next to a bare aiohttp loop that sends the same requests
in the same run: ``POST /models/replicate/instant/predictions`` with ``Prefer: wait``, JSON
decoded, status checked, plus the version-schema ``GET`` once. Rate limits are off on both
sides (the emulator's, and the client's own 600-creates-per-minute limiter, which would pace
2,000 calls). Only the client process's CPU time is counted (``time.process_time``), so the
emulator's work does not blur the figures. Rounds alternate between the two loops; the medians
are compared.

Run: ``.venv/bin/python benchmarks/bench_fanout.py [--quick] [--calls N] [--profile]``.
A third series runs the same calls with ``validate=True`` (inputs checked against the version's
schema before each create, as ``use()`` does) and reports its cost as a ratio to plain runs.
Prints ms of CPU per prediction for both and the ratio (target: at most 1.5), and writes
``benchmarks/results/fanout.json``. ``--profile`` prints the client's hottest functions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import TOKEN, EmulatorProcess, platform_info, profiled, save

MODEL = "replicate/instant"


# -- the two loops ---------------------------------------------------------------------------
async def fan_out(call: Callable[[int], Awaitable[Any]], n: int, concurrency: int) -> None:
    """``call(i)`` for i in range(n), ``concurrency`` at a time (same driver for both loops)."""
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            await call(i)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def client_round(
    url: str, n: int, concurrency: int, profile: bool = False, validate: bool = False
) -> float:
    """CPU seconds of ``n`` ``client.run`` calls (after a warm-up); ``validate=True`` checks
    each input against the version's schema first (``run(validate=True)``, as ``use()`` does)."""
    from replicate_async import Client

    async with Client(api_token=TOKEN, base_url=url, max_connections=concurrency) as client:
        client.rate_limiter = None  # rate limits off on both sides (600 creates/min otherwise)

        async def call(i: int) -> None:
            output = await client.run(MODEL, input={"text": f"{i}"}, validate=validate)
            assert output == f"instant: {i}", output

        await fan_out(call, concurrency * 2, concurrency)  # connections, schema cache
        with profiled(profile, os.environ.get("BENCH_FILTER", ""), 40):
            start = time.process_time()
            await fan_out(call, n, concurrency)
            spent = time.process_time() - start
        return spent


async def bare_round(url: str, n: int, concurrency: int) -> float:
    """CPU seconds of ``n`` hand-written aiohttp creates (after a warm-up)."""
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        headers = {"Authorization": f"Bearer {TOKEN}", "Prefer": "wait"}
        create_url = f"{url}/models/{MODEL}/predictions"
        schema: dict[str, Any] = {}

        async def call(i: int) -> None:
            async with session.post(
                create_url, json={"input": {"text": f"{i}"}}, headers=headers
            ) as resp:
                body = json.loads(await resp.read())
            assert resp.status == 201 and body["status"] == "succeeded", body
            if not schema:  # the version schema, once (as the client caches it)
                version_url = f"{url}/models/{MODEL}/versions/{body['version']}"
                async with session.get(version_url, headers=headers) as resp:
                    schema.update(json.loads(await resp.read()))
            assert body["output"] == f"instant: {i}"

        await fan_out(call, concurrency * 2, concurrency)
        schema.clear()
        start = time.process_time()
        await fan_out(call, n, concurrency)
        return time.process_time() - start


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the figures and save them as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="a short smoke run (CI)")
    parser.add_argument("--profile", action="store_true", help="cProfile one client round")
    args = parser.parse_args(argv)
    if args.quick:
        args.calls, args.rounds = 300, 1

    client_times: list[float] = []
    bare_times: list[float] = []
    validated_times: list[float] = []
    with EmulatorProcess(speed=float("inf"), rate_limit=False) as emu:
        url = emu.url
        for _ in range(args.rounds):
            bare_times.append(asyncio.run(bare_round(url, args.calls, args.concurrency)))
            client_times.append(asyncio.run(client_round(url, args.calls, args.concurrency)))
            validated_times.append(
                asyncio.run(client_round(url, args.calls, args.concurrency, validate=True))
            )
        if args.profile:
            asyncio.run(client_round(url, args.calls, args.concurrency, profile=True))

    client_ms = statistics.median(client_times) / args.calls * 1000
    bare_ms = statistics.median(bare_times) / args.calls * 1000
    validated_ms = statistics.median(validated_times) / args.calls * 1000
    result = {
        "calls": args.calls,
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "client_cpu_ms_per_prediction": round(client_ms, 4),
        "bare_aiohttp_cpu_ms_per_prediction": round(bare_ms, 4),
        "ratio": round(client_ms / bare_ms, 3),
        "client_validated_cpu_ms_per_prediction": round(validated_ms, 4),
        "validate_ratio": round(validated_ms / client_ms, 3),
        "target_ratio": 1.5,
        "quick": args.quick,
        **platform_info(),
    }
    print(
        f"run() fan-out, {args.calls} calls at concurrency {args.concurrency} "
        f"(median of {args.rounds} rounds, client process CPU):\n"
        f"  replicate_async client.run : {client_ms:.3f} ms/prediction\n"
        f"  bare aiohttp loop          : {bare_ms:.3f} ms/prediction\n"
        f"  ratio                      : {client_ms / bare_ms:.2f}x (target <= 1.5x)\n"
        f"  client.run(validate=True)  : {validated_ms:.3f} ms/prediction "
        f"({validated_ms / client_ms:.2f}x of client.run: local input checks)"
    )
    if not args.quick:
        save("fanout", result)
    return result


if __name__ == "__main__":
    main()

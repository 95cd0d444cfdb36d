"""How many instant predictions per second the emulator sustains on one core.

The emulator runs in this process (one event-loop thread, so at most one core); a separate
process generates load with aiohttp: ``POST /models/replicate/instant/predictions`` with
``Prefer: wait`` at concurrency 64, rate limits off. Prints predictions/s and the
emulator process's CPU seconds per prediction (the figure that does not depend on what
else the machine is doing; 1 / it is the throughput one dedicated core sustains), and saves
``benchmarks/results/emulator.json``.

Baseline, measured the same way in the same run: a bare aiohttp server in this process that
answers the same requests with a fixed copy of the emulator's answer (the floor any aiohttp
server has on this machine; the emulator's figure cannot go above it).

Run: ``.venv/bin/python benchmarks/bench_emulator.py [--count 20000] [--concurrency 64]
[--quick]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import platform_info, save

PATH = "/models/replicate/instant/predictions"


async def generate_load(url: str, count: int, concurrency: int, warmup: int) -> dict[str, Any]:
    import aiohttp

    headers = {"Authorization": "Bearer r8_bench", "Prefer": "wait"}
    body = json.dumps({"input": {"text": "bench"}}).encode()
    connector = aiohttp.TCPConnector(limit=concurrency)
    statuses: dict[int, int] = {}
    async with aiohttp.ClientSession(
        connector=connector, headers={**headers, "Content-Type": "application/json"}
    ) as session:

        async def worker(n: int) -> None:
            for _ in range(n):
                async with session.post(url + PATH, data=body) as resp:
                    await resp.read()
                    statuses[resp.status] = statuses.get(resp.status, 0) + 1

        async def run(total: int) -> None:
            per, extra = divmod(total, concurrency)
            await asyncio.gather(*(worker(per + (i < extra)) for i in range(concurrency)))

        await run(warmup)
        statuses.clear()
        print("ready", flush=True)
        sys.stdin.readline()  # the parent starts its CPU clock, then says go
        start = time.perf_counter()
        await run(count)
        elapsed = time.perf_counter() - start
    return {"elapsed": elapsed, "statuses": statuses}


def loadgen_main(url: str, count: int, concurrency: int, warmup: int) -> None:
    result = asyncio.run(generate_load(url, count, concurrency, warmup))
    print(json.dumps(result), flush=True)


@contextlib.asynccontextmanager
async def bare_server(answer: bytes) -> AsyncIterator[str]:
    """An aiohttp server answering ``POST PATH`` with ``answer``, nothing else."""
    from aiohttp import web

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=answer, status=201, content_type="application/json")

    app = web.Application()
    app.router.add_post(PATH, handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def baseline(count: int, concurrency: int, warmup: int, answer: bytes) -> dict[str, Any]:
    async with bare_server(answer) as url:
        measured = await measure(url, count, concurrency, warmup)
    return {
        "requests_per_second": round(count / measured["elapsed"], 1),
        "cpu_s_per_request": round(measured["cpu"] / count, 7),
        "one_core_capacity_per_second": (
            round(count / measured["cpu"], 1) if measured["cpu"] > 0 else None
        ),
    }


async def bench(count: int, concurrency: int, warmup: int) -> dict[str, Any]:
    import aiohttp

    from replicate_async.emulator import Emulator

    async with Emulator(rate_limit=False, retention=3600) as emu:
        created_before = emu.stats.predictions_created
        measured = await measure(emu.url, count, concurrency, warmup)
        created = emu.stats.predictions_created - created_before - warmup
        async with aiohttp.ClientSession() as session:  # one answer, for the baseline
            async with session.post(
                emu.url + PATH,
                json={"input": {"text": "bench"}},
                headers={"Authorization": "Bearer r8_bench", "Prefer": "wait"},
            ) as resp:
                answer = await resp.read()
    bare = await baseline(count, concurrency, warmup, answer)
    elapsed, cpu, user, system = (measured[k] for k in ("elapsed", "cpu", "user", "system"))
    capacity = round(count / cpu, 1) if cpu > 0 else None
    return {
        "benchmark": "emulator instant predictions (POST with Prefer: wait)",
        "count": count,
        "concurrency": concurrency,
        "predictions_created": created,
        "statuses": measured["statuses"],
        "elapsed_s": round(elapsed, 3),
        "predictions_per_second": round(count / elapsed, 1),
        "emulator_cpu_s_per_prediction": round(cpu / count, 7),
        "emulator_cpu_utilisation": round(cpu / elapsed, 3),
        "one_core_capacity_per_second": capacity,
        # the kernel's share (loopback sends and receives) next to the emulator's own code
        "user_cpu_s_per_prediction": round(user / count, 7),
        "system_cpu_s_per_prediction": round(system / count, 7),
        "bare_aiohttp_server": bare,
        **platform_info(),
        "cpus": os.cpu_count(),
    }


async def measure(url: str, count: int, concurrency: int, warmup: int) -> dict[str, Any]:
    """Load ``url`` from another process; this process's CPU time while it does."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--loadgen",
        url,
        "--count",
        str(count),
        "--concurrency",
        str(concurrency),
        "--warmup",
        str(warmup),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stdin is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 120)
    assert line.strip() == b"ready", line
    cpu_start, times_start = time.process_time(), os.times()
    proc.stdin.write(b"go\n")
    await proc.stdin.drain()
    line = await asyncio.wait_for(proc.stdout.readline(), 600)
    cpu = time.process_time() - cpu_start
    times_end = os.times()
    await proc.wait()
    result = json.loads(line)
    return {
        "elapsed": result["elapsed"],
        "statuses": result["statuses"],
        "cpu": cpu,
        "user": times_end.user - times_start.user,
        "system": times_end.system - times_start.system,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=1_000)
    parser.add_argument("--quick", action="store_true", help="a short run (5,000 predictions)")
    parser.add_argument("--loadgen", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.count, args.warmup = min(args.count, 5_000), min(args.warmup, 500)
    if args.loadgen:
        loadgen_main(args.loadgen, args.count, args.concurrency, args.warmup)
        return
    report = asyncio.run(bench(args.count, args.concurrency, args.warmup))
    path = save("emulator", report)
    print(
        f"emulator: {report['predictions_per_second']:.0f} instant predictions/s "
        f"({report['count']} at concurrency {report['concurrency']}), "
        f"{report['emulator_cpu_s_per_prediction'] * 1e6:.0f} µs CPU per prediction "
        f"(one dedicated core: {report['one_core_capacity_per_second']:.0f}/s; "
        f"user {report['user_cpu_s_per_prediction'] * 1e6:.0f} µs, "
        f"kernel {report['system_cpu_s_per_prediction'] * 1e6:.0f} µs) -> {path}"
    )
    bare = report["bare_aiohttp_server"]
    print(
        f"baseline, a bare aiohttp server with the same answer: "
        f"{bare['cpu_s_per_request'] * 1e6:.0f} µs CPU per request "
        f"(one dedicated core: {bare['one_core_capacity_per_second']:.0f}/s)"
    )


if __name__ == "__main__":
    main()

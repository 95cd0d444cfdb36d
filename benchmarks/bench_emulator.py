"""How many instant predictions per second the emulator sustains on one core.

The emulator runs in this process (one event-loop thread, so at most one core); a separate
process generates load with aiohttp: ``POST /models/replicate/instant/predictions`` with
``Prefer: wait`` at concurrency 64, rate limits off. Prints predictions/s and the
emulator process's CPU seconds per prediction (the figure that does not depend on what
else the machine is doing; 1 / it is the throughput one dedicated core sustains), and saves
``benchmarks/results/emulator.json``.

Run: ``.venv/bin/python benchmarks/bench_emulator.py [--count 20000] [--concurrency 64]
[--quick]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
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


async def bench(count: int, concurrency: int, warmup: int) -> dict[str, Any]:
    from replicate_async.emulator import Emulator

    async with Emulator(rate_limit=False, retention=3600) as emu:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--loadgen",
            emu.url,
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
        created_before = emu.stats.predictions_created
        cpu_start, times_start = time.process_time(), os.times()
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
        line = await asyncio.wait_for(proc.stdout.readline(), 600)
        cpu = time.process_time() - cpu_start
        times_end = os.times()
        user = times_end.user - times_start.user
        system = times_end.system - times_start.system
        await proc.wait()
        created = emu.stats.predictions_created - created_before
    result = json.loads(line)
    elapsed = result["elapsed"]
    return {
        "benchmark": "emulator instant predictions (POST with Prefer: wait)",
        "count": count,
        "concurrency": concurrency,
        "predictions_created": created,
        "statuses": result["statuses"],
        "elapsed_s": round(elapsed, 3),
        "predictions_per_second": round(count / elapsed, 1),
        "emulator_cpu_s_per_prediction": round(cpu / count, 7),
        "emulator_cpu_utilisation": round(cpu / elapsed, 3),
        "one_core_capacity_per_second": round(count / cpu, 1) if cpu > 0 else None,
        # the kernel's share (loopback sends and receives) next to the emulator's own code
        "user_cpu_s_per_prediction": round(user / count, 7),
        "system_cpu_s_per_prediction": round(system / count, 7),
        **platform_info(),
        "cpus": os.cpu_count(),
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


if __name__ == "__main__":
    main()

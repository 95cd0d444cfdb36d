"""Benchmark: many runs at once, 10,000 concurrent ``run()`` calls of a 2-second model.

The emulator runs in another process (rate limits off, ``replicate/instant`` set to take 2
seconds). Each side runs in a fresh process of its own, one after the other, against it:

* ours: ``asyncio.gather`` of ``--count`` ``client.run(...)`` calls (``max_connections`` set to
  the count, so every call is in flight at once: sync-mode creates hold their connection);
* the bare loop: ``asyncio.gather`` of the same number of aiohttp ``POST``s with
  ``Prefer: wait`` (connection limit the same), JSON decoded, status checked.

Reports, for each, the errors, the wall time of the calls, and the peak memory per in-flight
run: the rise of the process's peak RSS (``ru_maxrss``) over its RSS just before the calls
(after imports and a warm-up), divided by the count. Target: ours at most 1.5x the bare
loop, no error.
Writes ``benchmarks/results/many.json``.

Run: ``.venv/bin/python benchmarks/bench_many.py [--quick] [--count N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import TOKEN, EmulatorProcess, platform_info, save

MODEL = "replicate/instant"
SECONDS = 2.0


def rss_kib() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


async def ours(url: str, count: int) -> tuple[int, int, float]:
    """(errors, RSS before the calls in KiB, wall seconds of the calls)."""
    from replicate_async import Client

    async with Client(api_token=TOKEN, base_url=url, max_connections=count) as client:
        client.rate_limiter = None

        async def call(i: int) -> bool:
            output = await client.run(MODEL, input={"text": f"{i}"})
            return bool(output == f"instant: {i}")

        await asyncio.gather(*(call(i) for i in range(20)))  # warm-up: schema, session
        before, start = rss_kib(), time.perf_counter()
        results = await asyncio.gather(*(call(i) for i in range(count)), return_exceptions=True)
        wall = time.perf_counter() - start
    return sum(1 for r in results if r is not True), before, wall


async def bare(url: str, count: int) -> tuple[int, int, float]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=count, limit_per_host=0)
    headers = {"Authorization": f"Bearer {TOKEN}", "Prefer": "wait"}
    create_url = f"{url}/models/{MODEL}/predictions"
    async with aiohttp.ClientSession(connector=connector) as session:

        async def call(i: int) -> bool:
            async with session.post(
                create_url, json={"input": {"text": f"{i}"}}, headers=headers
            ) as resp:
                body = json.loads(await resp.read())
            return resp.status == 201 and body["output"] == f"instant: {i}"

        await asyncio.gather(*(call(i) for i in range(20)))
        before, start = rss_kib(), time.perf_counter()
        results = await asyncio.gather(*(call(i) for i in range(count)), return_exceptions=True)
        wall = time.perf_counter() - start
    return sum(1 for r in results if r is not True), before, wall


def worker(side: str, url: str, count: int) -> None:
    errors, before, wall = asyncio.run((ours if side == "ours" else bare)(url, count))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"errors": errors, "wall_s": wall, "rise_kib": peak - before}))


def run_side(side: str, url: str, count: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", side, url, "--count", str(count)],
        check=True,
        capture_output=True,
        text=True,
        timeout=900,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def raise_file_limit(count: int) -> int:
    """Raise this process's open-file limit (inherited by the emulator and the workers) so
    ``count`` connections fit; returns the count that fits when the hard limit is lower."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = count + 512
    if soft < needed:
        new = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        soft = new
    fits = max(100, soft - 512)
    if fits < count:
        print(f"(open-file limit {soft}: {fits} runs at once instead of {count})")
    return min(count, fits)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="a short smoke run (CI)")
    parser.add_argument("--worker", nargs=2, metavar=("SIDE", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker[0], args.worker[1], args.count)
        return {}
    if args.quick:
        args.count = 1_000
    args.count = raise_file_limit(args.count)
    options = {"rate_limit": False, "model_timings": {MODEL: (0.0, SECONDS)}}
    with EmulatorProcess(**options) as emu:
        sides = {side: run_side(side, emu.url, args.count) for side in ("bare", "ours")}
    per_run = {side: r["rise_kib"] / args.count for side, r in sides.items()}
    ratio = per_run["ours"] / per_run["bare"] if per_run["bare"] > 0 else float("nan")
    print(f"{args.count} concurrent run() calls of a {SECONDS:.0f}-second model:")
    for side, r in sides.items():
        print(
            f"  {side:5s}: {r['errors']} errors, wall {r['wall_s']:.1f} s, "
            f"peak memory {per_run[side]:.1f} KiB per in-flight run"
        )
    print(f"  memory ratio: {ratio:.2f}x (target <= 1.5x)")
    result = {
        "count": args.count,
        "seconds_per_prediction": SECONDS,
        "sides": {
            side: {
                "errors": r["errors"],
                "wall_s": round(r["wall_s"], 2),
                "kib_per_run": round(per_run[side], 2),
            }
            for side, r in sides.items()
        },
        "memory_ratio": round(ratio, 3),
        "target_ratio": 1.5,
        "load_average": os.getloadavg(),
        "quick": args.quick,
        **platform_info(),
    }
    save("many", result)
    return result


if __name__ == "__main__":
    main()

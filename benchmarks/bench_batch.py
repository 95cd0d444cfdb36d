"""Benchmark: ``client.batch`` against a create limit of 6,000 per minute.

5,000 inputs (a lazy generator) go through ``client.batch("replicate/instant", …)`` against
the emulator running in another process, with a create limit of 6,000 per minute on both sides:
the emulator's token bucket (burst: its default, ten seconds' worth) and the client's
``TokenBucketLimiter`` (same limit, same default burst). Figures:

* creates per minute achieved as a fraction of the limit, measured over the second half of
  the creates that follow the first full bucket (the burst): the rate a long batch keeps up
  (target: >= 0.95); and the ideal duration over the run's, where the ideal,
  ``(items - burst) / rate``, is the least time a full token bucket allows;
* 429 answers the client received (target: a handful at most), and failed items (target: 0);
* peak memory of the client process (``ru_maxrss``) and its growth during the batch.

The baseline, in the same run against a fresh emulator, is what the issue describes people
doing today: ``asyncio.gather`` over ``client.run`` with a semaphore and no client-side
limiter, where only the server's 429s (and the retries they trigger) hold the rate down.

Run: ``.venv/bin/python benchmarks/bench_batch.py [--quick] [--items N] [--no-baseline]``.
Prints the figures and writes ``benchmarks/results/batch.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import TOKEN, EmulatorProcess, platform_info, save

MODEL = "replicate/instant"
LIMIT = 6000.0  # creates per minute, on both sides
CONCURRENCY = 32


def emulator_options() -> dict[str, Any]:
    return {
        "speed": float("inf"),
        "create_rate_per_minute": LIMIT,  # burst: the emulator's default, LIMIT / 6
        "rate_per_minute": 300_000.0,
    }


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def inputs(n: int) -> Iterator[dict[str, str]]:
    for i in range(n):
        yield {"text": str(i)}


# -- the batch -------------------------------------------------------------------------------
async def batch_run(url: str, n: int) -> dict[str, Any]:
    from replicate_async import Client
    from replicate_async.batch import TokenBucketLimiter

    created_at: list[float] = []  # when each successful create was answered
    throttled = 0

    class Counting(TokenBucketLimiter):
        def observe(self, rate_class: str, status: int, headers: Mapping[str, str]) -> None:
            nonlocal throttled
            super().observe(rate_class, status, headers)
            if rate_class == "create":
                if status == 429:
                    throttled += 1
                elif status < 400:
                    created_at.append(time.monotonic())

    limiter = Counting(create_per_minute=LIMIT)
    burst = limiter._buckets["create"].capacity
    async with Client(api_token=TOKEN, base_url=url, max_connections=CONCURRENCY) as client:
        client.rate_limiter = limiter
        rss_before = peak_rss_mb()
        start = time.monotonic()
        failed = 0
        async for result in client.batch(MODEL, inputs(n), concurrency=CONCURRENCY):
            failed += not result.ok
        duration = time.monotonic() - start
    created_at.sort()
    # The steady rate: the second half of the creates after the first full bucket, once the
    # tokens that accrued while the burst went out are spent too.
    tail = created_at[int(burst) + (len(created_at) - int(burst)) // 2 :]
    sustained = (len(tail) - 1) / (tail[-1] - tail[0]) * 60 if len(tail) > 10 else float("nan")
    ideal = max(0.0, n - burst) / (LIMIT / 60)
    return {
        "items": n,
        "failed_items": failed,
        "duration_s": round(duration, 2),
        "ideal_duration_s": round(ideal, 2),
        "duration_vs_ideal": round(ideal / duration, 3) if duration else None,
        "creates_per_minute_sustained": round(sustained, 1),
        "fraction_of_limit": round(sustained / LIMIT, 3),
        "creates_per_minute_overall": round(len(created_at) / duration * 60, 1),
        "responses_429": throttled,
        "limiter_slowdowns": limiter.stats.slowdowns,
        "burst": burst,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_growth_mb": round(peak_rss_mb() - rss_before, 1),
    }


# -- the baseline: gather + semaphore, no client-side limiter --------------------------------
async def naive_run(url: str, n: int) -> dict[str, Any]:
    from replicate_async import Client, ReplicateAsyncError

    failed = 0
    async with Client(api_token=TOKEN, base_url=url, max_connections=CONCURRENCY) as client:
        client.rate_limiter = None
        semaphore = asyncio.Semaphore(CONCURRENCY)

        async def one(i: int) -> None:
            nonlocal failed
            async with semaphore:
                try:
                    await client.run(MODEL, input={"text": str(i)}, wait=False)
                except ReplicateAsyncError:
                    failed += 1

        start = time.monotonic()
        await asyncio.gather(*(one(i) for i in range(n)))
        duration = time.monotonic() - start
    return {"items": n, "failed_items": failed, "duration_s": round(duration, 2)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the figures and save them as JSON."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--items", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="1,500 items (about 5 s of rate)")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args(argv)
    n = args.items or (1500 if args.quick else 5000)

    with EmulatorProcess(**emulator_options()) as emu:
        figures = asyncio.run(batch_run(emu.url, n))
    figures["server_429s"] = emu.stats.get("rate_limited")
    figures["server_predictions"] = emu.stats.get("created")
    report: dict[str, Any] = {
        "benchmark": "batch",
        "create_limit_per_minute": LIMIT,
        "concurrency": CONCURRENCY,
        "batch": figures,
        **platform_info(),
    }
    print(
        f"batch: {n} items in {figures['duration_s']} s (ideal {figures['ideal_duration_s']} s); "
        f"sustained {figures['creates_per_minute_sustained']:.0f} creates/min = "
        f"{figures['fraction_of_limit']:.3f} of the {LIMIT:.0f}/min limit (target >= 0.95); "
        f"{figures['responses_429']} 429s; {figures['failed_items']} failed; "
        f"peak RSS {figures['peak_rss_mb']} MB (+{figures['rss_growth_mb']} MB during the batch)"
    )
    if not args.no_baseline:
        with EmulatorProcess(**emulator_options()) as emu:
            naive = asyncio.run(naive_run(emu.url, n))
        naive["server_429s"] = emu.stats.get("rate_limited")
        report["baseline_gather_semaphore"] = naive
        print(
            f"baseline (gather + semaphore, no limiter): {naive['duration_s']} s, "
            f"{naive['server_429s']} 429s, {naive['failed_items']} failed items"
        )
    save("batch", report)
    return report


if __name__ == "__main__":
    main()

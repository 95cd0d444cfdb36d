"""Benchmark: throughput of a ``run()`` fan-out when the server answers random 429s.

``--items`` (default 160) ``client.run("replicate/instant", …)`` calls at concurrency 50, with
the client's default limiter (600 creates per minute, a burst of 100), against the emulator
(in this process, instant predictions) allowing 600 creates per minute with its default burst,
with 0%, 2% and 5% of the creates answered by an injected 429 (``emu.faults.add(route=
"*predictions.create", status=429, probability=p)``: the emulator's usual rate-limit headers,
which show plenty of calls left, and no ``Retry-After``). The shape is that of the issue (300
runs at concurrency 50: a third goes out in the burst, the rest at the steady rate), scaled
down. A fourth fan-out runs against an account whose server allows 3,000 creates per minute
(the emulator's ``create_rate_per_minute``) with the same default client: the limiter must
learn the higher limit from the server's ``ratelimit-remaining``/``ratelimit-reset``.

Each fan-out's throughput (predictions per second) is compared with the 0% run of the same
process (target: at least 0.8 at 5% random 429s). Then, at 5% random 429s, ``client.batch``
over the same inputs is compared with the naive baseline the issue describes (``asyncio.gather``
over ``client.run`` under a semaphore, no client-side limiter): the 429s the emulator sent,
split into injected ones and those of its own rate limit (target: batch sends no storm).

Run: ``.venv/bin/python benchmarks/bench_ratelimit.py [--quick] [--items N]``. Prints the
figures and writes ``benchmarks/results/ratelimit.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import TOKEN, platform_info, save

MODEL = "replicate/instant"
CONCURRENCY = 50
CREATE_ROUTE = "*predictions.create"


async def fan_out(call: Callable[[int], Awaitable[Any]], n: int, concurrency: int) -> None:
    """``call(i)`` for i in range(n), ``concurrency`` at a time."""
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            await call(i)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def server_figures(emu: Any) -> dict[str, int]:
    stats = emu.stats
    sent = stats.by_status.get(429, 0)
    return {
        "server_429s": sent,
        "server_429s_injected": sent - stats.rate_limited,
        "server_429s_rate_limit": stats.rate_limited,
        "server_predictions": stats.predictions_created,
    }


async def scenario(
    kind: str, n: int, probability: float, server_per_minute: float, seed: int
) -> dict[str, Any]:
    """One run against a fresh emulator: ``kind`` is "fanout", "batch" or "naive"."""
    from replicate_async import ReplicateAsyncError
    from replicate_async.emulator import Emulator

    options: dict[str, Any] = {
        "speed": float("inf"),
        "seed": seed,
        "token": TOKEN,
        "create_rate_per_minute": server_per_minute,
        "request_log_size": 100,
    }
    async with Emulator(**options) as emu:
        if probability:
            emu.faults.add(route=CREATE_ROUTE, status=429, probability=probability)
        async with emu.client(max_connections=CONCURRENCY) as client:
            limiter = client.rate_limiter
            if kind == "naive":
                client.rate_limiter = None
            failed = 0
            start = time.monotonic()
            if kind == "batch":
                items = ({"text": str(i)} for i in range(n))
                async for result in client.batch(MODEL, items, concurrency=CONCURRENCY):
                    failed += not result.ok
            else:
                semaphore = asyncio.Semaphore(CONCURRENCY)

                async def one(i: int) -> None:
                    nonlocal failed
                    try:
                        output = await client.run(MODEL, input={"text": str(i)})
                        assert output == f"instant: {i}", output
                    except ReplicateAsyncError:
                        failed += 1

                if kind == "naive":

                    async def guarded(i: int) -> None:
                        async with semaphore:
                            await one(i)

                    await asyncio.gather(*(guarded(i) for i in range(n)))
                else:
                    await fan_out(one, n, CONCURRENCY)
            duration = time.monotonic() - start
    figures: dict[str, Any] = {
        "kind": kind,
        "items": n,
        "random_429_probability": probability,
        "server_creates_per_minute": server_per_minute,
        "failed_items": failed,
        "duration_s": round(duration, 3),
        "predictions_per_s": round((n - failed) / duration, 2),
        **server_figures(emu),
    }
    if kind != "naive" and limiter is not None:
        stats = limiter.stats  # type: ignore[attr-defined]
        figures.update(
            limiter_429s_seen=stats.rate_limited,
            limiter_lone_429s=stats.lone_429s,
            limiter_slowdowns=stats.slowdowns,
            limiter_speedups=stats.speedups,
            final_create_rate_per_minute=round(limiter.current_rate("create"), 1),  # type: ignore[attr-defined]
            learned_create_limit_per_minute=round(limiter.learned_limit("create"), 1),  # type: ignore[attr-defined]
        )
    return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the figures and save them as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=160)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="a short smoke run (CI)")
    args = parser.parse_args(argv)
    if args.quick:
        args.items = 120

    n = args.items
    fanouts = {
        "0%": asyncio.run(scenario("fanout", n, 0.0, 600.0, args.seed)),
        "2%": asyncio.run(scenario("fanout", n, 0.02, 600.0, args.seed)),
        "5%": asyncio.run(scenario("fanout", n, 0.05, 600.0, args.seed)),
        "3000/min account": asyncio.run(scenario("fanout", n, 0.0, 3000.0, args.seed)),
    }
    base = fanouts["0%"]["predictions_per_s"]
    for figures in fanouts.values():
        figures["throughput_vs_0pct"] = round(figures["predictions_per_s"] / base, 3)
    batch = asyncio.run(scenario("batch", n, 0.05, 600.0, args.seed))
    naive = asyncio.run(scenario("naive", n, 0.05, 600.0, args.seed))
    result = {
        "benchmark": "ratelimit",
        "items": n,
        "concurrency": CONCURRENCY,
        "client_limiter": "default (600 creates/min, burst 100)",
        "fanout": fanouts,
        "target_throughput_vs_0pct_at_5pct": 0.8,
        "batch_5pct": batch,
        "naive_gather_semaphore_5pct": naive,
        "quick": args.quick,
        **platform_info(),
    }
    print(f"run() fan-out, {n} calls at concurrency {CONCURRENCY}, default client limiter:")
    for name, figures in fanouts.items():
        print(
            f"  {name:>17}: {figures['duration_s']:6.2f} s, "
            f"{figures['predictions_per_s']:6.2f} predictions/s, "
            f"x{figures['throughput_vs_0pct']:.2f} of 0%, "
            f"429s sent {figures['server_429s']} "
            f"(injected {figures['server_429s_injected']}, "
            f"rate limit {figures['server_429s_rate_limit']}), "
            f"slowdowns {figures['limiter_slowdowns']}, "
            f"learned {figures['learned_create_limit_per_minute']:g}/min, "
            f"failed {figures['failed_items']}"
        )
    for name, figures in (("batch", batch), ("naive gather+semaphore", naive)):
        print(
            f"  5% random 429s, {name}: {figures['duration_s']:.2f} s, "
            f"429s sent {figures['server_429s']} "
            f"(injected {figures['server_429s_injected']}, "
            f"rate limit {figures['server_429s_rate_limit']}), "
            f"failed {figures['failed_items']}"
        )
    save("ratelimit", result)
    return result


if __name__ == "__main__":
    main()

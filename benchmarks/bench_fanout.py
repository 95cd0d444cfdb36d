"""Benchmark: client CPU per prediction for a fan-out of ``run()`` calls.

2,000 ``await client.run("replicate/instant", …)`` calls at concurrency 100, next to a bare
aiohttp loop that sends the same requests in the same run, against two servers, each in
another process: the emulator, and the minimal Replicate-shaped server of
``_minimal_server.py`` (answers sync-mode creates at once, so the figure does not depend on
the emulator). The bare loop sends ``POST /models/replicate/instant/predictions`` with
``Prefer: wait``, JSON decoded, status checked, plus the version-schema ``GET`` once. Rate
limits are off on both
sides (the emulator's, and the client's own 600-creates-per-minute limiter, which would pace
2,000 calls). Only the client process's CPU time is counted (``time.process_time``), so the
emulator's work does not blur the figures. Rounds alternate between the two loops; the medians
are compared.

The costs of two guarantees are measured beside it: ``run(cancel_on_exit=False)`` (the create
awaited without the lifetime registry's guard, the task that lets a run abandoned mid-create
still cancel what it made) and, when ``run()`` takes ``validate=``, ``run(validate=True)``
(local input checking). The official clients installed under ``.venv/conformance`` (``make
conformance-clients``) run the same fan-out against the minimal server in a subprocess each
(fewer calls: they are several times slower), with ``PYTHONPATH`` pointing at them.

Run: ``.venv/bin/python benchmarks/bench_fanout.py [--quick] [--calls N] [--profile]
[--target emulator|minimal]``. Prints ms of CPU per prediction and the ratios (target: at most
1.25), and writes ``benchmarks/results/fanout.json``. ``--profile`` prints the client's
hottest functions (``$BENCH_FILTER`` restricts them to matching paths).
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    TOKEN,
    EmulatorProcess,
    MinimalServerProcess,
    official_clients,
    platform_info,
    profiled,
    save,
)

MODEL = "replicate/instant"


# -- the two loops ---------------------------------------------------------------------------
async def fan_out(call: Callable[[int], Awaitable[Any]], n: int, concurrency: int) -> None:
    """``call(i)`` for i in range(n), ``concurrency`` at a time (same driver for both loops)."""
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            await call(i)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def has_validate() -> bool:
    """Whether ``Client.run`` takes ``validate=`` (local input checking)."""
    from replicate_async import Client

    return "validate" in inspect.signature(Client.run).parameters


async def client_round(
    url: str,
    n: int,
    concurrency: int,
    profile: bool = False,
    validate: bool = False,
    unguarded: bool = False,
) -> float:
    """CPU seconds of ``n`` ``client.run`` calls (after a warm-up); ``unguarded``:
    ``cancel_on_exit=False``, the create awaited without the lifetime guard's task."""
    from replicate_async import Client

    options: dict[str, Any] = {"validate": True} if validate else {}
    if unguarded:
        options["cancel_on_exit"] = False
    async with Client(api_token=TOKEN, base_url=url, max_connections=concurrency) as client:
        client.rate_limiter = None  # rate limits off on both sides (600 creates/min otherwise)

        async def call(i: int) -> None:
            output = await client.run(MODEL, input={"text": f"{i}"}, **options)
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


def official_round(label: str, path: str, url: str, calls: int, concurrency: int) -> float:
    """CPU seconds per call of an official client's fan-out (its own subprocess)."""
    script = Path(__file__).resolve().parent / "_official.py"
    out = subprocess.run(
        [sys.executable, str(script), "fanout", url, str(calls), str(concurrency), "1"],
        env={**os.environ, "PYTHONPATH": path},
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    ).stdout
    cpu = json.loads(out.strip().splitlines()[-1])["cpu_s"]
    return float(statistics.median(cpu)) / calls


def measure(url: str, args: argparse.Namespace, validate: bool) -> dict[str, float]:
    """ms of CPU per prediction: ours, the bare loop, ours without the lifetime guard (and
    ours with validate=True)."""
    times: dict[str, list[float]] = {"client": [], "bare": [], "client_unguarded": []}
    if validate:
        times["client_validate"] = []
    for _ in range(args.rounds):
        times["bare"].append(asyncio.run(bare_round(url, args.calls, args.concurrency)))
        times["client"].append(asyncio.run(client_round(url, args.calls, args.concurrency)))
        spent = asyncio.run(client_round(url, args.calls, args.concurrency, unguarded=True))
        times["client_unguarded"].append(spent)
        if validate:
            spent = asyncio.run(client_round(url, args.calls, args.concurrency, validate=True))
            times["client_validate"].append(spent)
    if args.profile:
        asyncio.run(client_round(url, args.calls, args.concurrency, profile=True))
    return {k: statistics.median(v) / args.calls * 1000 for k, v in times.items()}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the figures and save them as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--official-calls", type=int, default=400)
    parser.add_argument("--target", choices=["emulator", "minimal"], action="append")
    parser.add_argument("--quick", action="store_true", help="a short smoke run (CI)")
    parser.add_argument("--profile", action="store_true", help="cProfile one client round")
    args = parser.parse_args(argv)
    if args.quick:
        args.calls, args.rounds, args.official_calls = 300, 1, 100
    targets = args.target or ["emulator", "minimal"]
    validate = has_validate()

    servers: dict[str, dict[str, Any]] = {}
    official: dict[str, float] = {}
    for target in targets:
        if target == "emulator":
            with EmulatorProcess(speed=float("inf"), rate_limit=False) as emu:
                servers[target] = measure(emu.url, args, validate)
        else:
            with MinimalServerProcess() as server:
                servers[target] = measure(server.url, args, validate)
                for label, path in official_clients().items():
                    per_call = official_round(
                        label, path, server.url, args.official_calls, args.concurrency
                    )
                    official[label] = per_call * 1000

    print(
        f"run() fan-out, {args.calls} calls at concurrency {args.concurrency} "
        f"(median of {args.rounds} rounds, client process CPU, ms per prediction):"
    )
    figures: dict[str, Any] = {}
    for target, ms in servers.items():
        ratio = ms["client"] / ms["bare"]
        entry: dict[str, Any] = {
            "client_cpu_ms_per_prediction": round(ms["client"], 4),
            "bare_aiohttp_cpu_ms_per_prediction": round(ms["bare"], 4),
            "ratio": round(ratio, 3),
            "target_ratio": 1.25,
        }
        print(f"  [{target}] replicate_async client.run : {ms['client']:.3f}")
        print(f"  [{target}] bare aiohttp loop          : {ms['bare']:.3f}")
        print(f"  [{target}] ratio                      : {ratio:.2f}x (target <= 1.25x)")
        uratio = ms["client_unguarded"] / ms["bare"]
        entry["client_unguarded_cpu_ms_per_prediction"] = round(ms["client_unguarded"], 4)
        entry["unguarded_ratio"] = round(uratio, 3)
        print(f"  [{target}] run(cancel_on_exit=False)  : {uratio:.2f}x (no lifetime guard)")
        if "client_validate" in ms:
            vratio = ms["client_validate"] / ms["bare"]
            entry["client_validate_cpu_ms_per_prediction"] = round(ms["client_validate"], 4)
            entry["validate_ratio"] = round(vratio, 3)
            print(f"  [{target}] run(validate=True)         : {vratio:.2f}x")
        if target == "minimal" and official:
            entry["official_cpu_ms_per_prediction"] = {k: round(v, 4) for k, v in official.items()}
            for label, value in official.items():
                print(
                    f"  [{target}] {label:26s} : {value:.3f} "
                    f"({value / ms['client']:.1f}x ours, {args.official_calls} calls)"
                )
        figures[target] = entry
    result = {
        "calls": args.calls,
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "official_calls": args.official_calls,
        "servers": figures,
        "load_average": os.getloadavg(),
        "quick": args.quick,
        **platform_info(),
    }
    save("fanout", result)
    return result


if __name__ == "__main__":
    main()

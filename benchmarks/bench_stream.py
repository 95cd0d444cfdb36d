"""Benchmark: client CPU per streamed event, ``client.stream`` against a naive aiohttp loop.

One prediction of the emulator's language model streams 100,000 ``output`` events (the
emulator runs in another process, tokens without delay). In the same run, for the same kind
of prediction:

* ``client.stream(...)``: create, then every ``StreamEvent`` through ``async for``;
* a naive hand-written client: ``POST`` the create with aiohttp, ``GET`` the stream, split
  ``resp.content.iter_any()`` chunks on ``\\n``, parse ``event:``/``id:``/``data:`` lines and
  yield the text of each ``output`` event from an async generator: what a quick integration
  looks like (it handles neither CR line ends, comments, multi-line data, reconnection, nor
  errors).

Only the client process's CPU time is counted (``time.process_time``); rounds alternate and
the medians are compared. The naive loop's wall time gives the events per second the emulator
sustains to one client (its target: 100,000/s). The official clients installed under
``.venv/conformance`` stream the same prediction (fewer events) in a subprocess each.

Run: ``.venv/bin/python benchmarks/bench_stream.py [--quick] [--events N] [--profile]``.
Prints µs of CPU per event for both and the ratio, and writes
``benchmarks/results/stream.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    TOKEN,
    EmulatorProcess,
    official_clients,
    platform_info,
    profiled,
    save,
)

MODEL = "meta/meta-llama-3-8b-instruct"


def llm_input(events: int) -> dict[str, Any]:
    # No stop sequences: the emulator searches them in quadratic time over 100,000 tokens.
    return {
        "prompt": "Tell me a long story",
        "max_tokens": events,
        "min_tokens": events,
        "stop_sequences": "",
        "seed": 7,
    }


async def client_round(url: str, events: int, profile: bool = False) -> tuple[float, int]:
    """CPU seconds and event count of one ``client.stream`` prediction."""
    from replicate_async import Client

    async with Client(api_token=TOKEN, base_url=url) as client:
        client.rate_limiter = None
        async for _ in client.stream(MODEL, input=llm_input(3)):  # session, schema cache
            pass
        with profiled(profile, 25):
            start = time.process_time()
            count = chars = 0
            async for event in client.stream(MODEL, input=llm_input(events)):
                if event.event == "output":
                    count += 1
                    chars += len(event.data)
            spent = time.process_time() - start
        return spent, count


async def naive_events(session: Any, url: str, headers: dict[str, str]) -> AsyncIterator[str]:
    """The text of each ``output`` event, the way a quick hand-written client reads SSE."""
    async with session.get(url, headers={**headers, "Accept": "text/event-stream"}) as resp:
        buffer = b""
        event = b""
        data: list[bytes] = []
        async for chunk in resp.content.iter_any():
            lines = (buffer + chunk).split(b"\n")
            buffer = lines.pop()
            for line in lines:
                if not line:
                    if event == b"output":
                        yield b"\n".join(data).decode()
                    elif event == b"done":
                        return
                    event, data = b"", []
                elif line.startswith(b"data: "):
                    data.append(line[6:])
                elif line.startswith(b"event: "):
                    event = line[7:]


async def naive_round(url: str, events: int) -> tuple[float, int, float]:
    """CPU seconds, event count and wall seconds of one prediction streamed by the naive
    loop."""
    import aiohttp

    headers = {"Authorization": f"Bearer {TOKEN}"}
    create_url = f"{url}/models/{MODEL}/predictions"
    async with aiohttp.ClientSession() as session:

        async def stream(n: int) -> tuple[int, int]:
            body = {"input": llm_input(n), "stream": True}
            async with session.post(create_url, json=body, headers=headers) as resp:
                prediction = json.loads(await resp.read())
            count = chars = 0
            async for text in naive_events(session, prediction["urls"]["stream"], headers):
                count += 1
                chars += len(text)
            return count, chars

        await stream(3)
        start, wall = time.process_time(), time.perf_counter()
        count, _ = await stream(events)
        return time.process_time() - start, count, time.perf_counter() - wall


def official_round(path: str, url: str, events: int) -> float:
    """CPU seconds per event of an official client streaming ``events`` (its own process)."""
    script = Path(__file__).resolve().parent / "_official.py"
    out = subprocess.run(
        [sys.executable, str(script), "stream", url, str(events), "1"],
        env={**os.environ, "PYTHONPATH": path},
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return float(result["cpu_s"][0]) / max(1, int(result["events"][0]))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the figures and save them as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--official-events", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="a short smoke run (CI)")
    parser.add_argument("--profile", action="store_true", help="cProfile one client round")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.rounds, args.official_events = 10_000, 1, 2_000

    client_times: list[float] = []
    naive_times: list[float] = []
    rates: list[float] = []
    official: dict[str, float] = {}
    with EmulatorProcess(speed=float("inf"), token_delay=0.0, rate_limit=False) as emu:
        url = emu.url
        for _ in range(args.rounds):
            # The model may end one token short (it never ends on a paragraph break).
            spent, naive_count, wall = asyncio.run(naive_round(url, args.events))
            naive_times.append(spent / naive_count)
            rates.append(naive_count / wall)
            spent, count = asyncio.run(client_round(url, args.events))
            client_times.append(spent / count)
            assert count == naive_count >= args.events - 1, (count, naive_count)
        if args.profile:
            asyncio.run(client_round(url, args.events, profile=True))
        for label, path in official_clients().items():
            official[label] = official_round(path, url, args.official_events) * 1e6

    client_us = statistics.median(client_times) * 1e6
    naive_us = statistics.median(naive_times) * 1e6
    result = {
        "events": args.events,
        "rounds": args.rounds,
        "client_cpu_us_per_event": round(client_us, 4),
        "naive_aiohttp_cpu_us_per_event": round(naive_us, 4),
        "ratio": round(client_us / naive_us, 3),
        "target_ratio": 1.5,
        "official_cpu_us_per_event": {k: round(v, 4) for k, v in official.items()},
        "official_events": args.official_events,
        "emulator_events_per_second": round(statistics.median(rates)),
        "target_emulator_events_per_second": 100_000,
        "load_average": os.getloadavg(),
        "quick": args.quick,
        **platform_info(),
    }
    print(
        f"stream, {args.events} output events in one prediction "
        f"(median of {args.rounds} rounds, client process CPU):\n"
        f"  replicate_async client.stream : {client_us:.3f} µs/event\n"
        f"  naive aiohttp split loop      : {naive_us:.3f} µs/event\n"
        f"  ratio                         : {client_us / naive_us:.2f}x\n"
        f"  emulator, to the naive loop   : {statistics.median(rates):,.0f} events/s"
    )
    for label, us in official.items():
        print(f"  {label:30s}: {us:.3f} µs/event ({us / client_us:.1f}x ours)")
    save("stream", result)
    return result


if __name__ == "__main__":
    main()

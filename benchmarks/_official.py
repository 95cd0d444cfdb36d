"""The official clients on the same work, run in a subprocess with ``PYTHONPATH`` pointing at
one of them (``replicate`` 1.x and 2.x cannot share an environment).

``python benchmarks/_official.py fanout URL CALLS CONCURRENCY ROUNDS`` and
``python benchmarks/_official.py stream URL EVENTS ROUNDS`` print one JSON line: the CPU
seconds (``time.process_time``) of each round, counted as in ``bench_fanout.py`` and
``bench_stream.py`` (after a warm-up, same driver). Both clients are used the way their READMEs
show, in their asyncio flavour (except 2.0.0b4's stream: see ``stream_round``).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

TOKEN = "r8_benchmark"
FANOUT_MODEL = "replicate/instant"
STREAM_MODEL = "meta/meta-llama-3-8b-instruct"


def make_client(url: str) -> tuple[Any, int]:
    import replicate

    major = int(replicate.__version__.split(".")[0]) if hasattr(replicate, "__version__") else 1
    if major >= 2:
        # Its stream() builds a default client of its own, from the environment.
        os.environ.update({"REPLICATE_API_TOKEN": TOKEN, "REPLICATE_BASE_URL": url})
        return replicate.AsyncReplicate(bearer_token=TOKEN, base_url=url), 2
    # 1.x puts /v1 in its paths: its base URL is the origin.
    return replicate.Client(api_token=TOKEN, base_url=url.removesuffix("/v1")), 1


async def fan_out(call: Callable[[int], Awaitable[Any]], n: int, concurrency: int) -> None:
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            await call(i)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def fanout_round(url: str, n: int, concurrency: int) -> float:
    client, major = make_client(url)

    async def call(i: int) -> None:
        if major >= 2:
            output = await client.run(FANOUT_MODEL, input={"text": f"{i}"})
        else:
            output = await client.async_run(FANOUT_MODEL, input={"text": f"{i}"})
        assert str(output) == f"instant: {i}", output

    await fan_out(call, concurrency * 2, concurrency)
    start = time.process_time()
    await fan_out(call, n, concurrency)
    spent = time.process_time() - start
    if major >= 2:
        await client.close()
    return spent


def llm_input(events: int) -> dict[str, Any]:
    return {
        "prompt": "Tell me a long story",
        "max_tokens": events,
        "min_tokens": events,
        "stop_sequences": "",
        "seed": 7,
    }


async def stream_round(url: str, events: int) -> tuple[float, int]:
    client, major = make_client(url)

    async def one(n: int) -> int:
        count = 0
        if major >= 2:
            # 2.0.0b4's async use(streaming=True) awaits the whole output (a str), and
            # Client.use() wants the class: the module-level use() (its README's way, client
            # from the environment) is the one that streams, so that is what is measured.
            import replicate

            model = replicate.use(STREAM_MODEL, streaming=True)
            for _ in model(**llm_input(n)):  # output events only
                count += 1
        else:
            async for event in await client.async_stream(STREAM_MODEL, input=llm_input(n)):
                if getattr(event.event, "value", event.event) == "output":
                    count += 1
        return count

    await one(3)
    start = time.process_time()
    count = await one(events)
    spent = time.process_time() - start
    if major >= 2:
        await client.close()
    return spent, count


def main(argv: list[str]) -> None:
    mode, url = argv[0], argv[1]
    if mode == "fanout":
        n, concurrency, rounds = map(int, argv[2:5])
        times = [asyncio.run(fanout_round(url, n, concurrency)) for _ in range(rounds)]
        print(json.dumps({"cpu_s": times, "calls": n}))
    elif mode == "stream":
        events, rounds = map(int, argv[2:4])
        results = [asyncio.run(stream_round(url, events)) for _ in range(rounds)]
        print(json.dumps({"cpu_s": [r[0] for r in results], "events": [r[1] for r in results]}))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])

"""Stress: many concurrent run() and stream() calls on one client against the emulator.

CI runs a bounded version; ``RUN_SLOW=1`` runs the full size. Nothing here measures time:
the assertions are about correctness under load (every call answered, none lost or
duplicated, nothing leaked, the server never rate limited a client that limits itself).
"""

from __future__ import annotations

import asyncio
import os

import pytest

from replicate_async import TokenBucketLimiter
from replicate_async.emulator import Emulator

FULL = os.environ.get("RUN_SLOW") == "1"
RUNS = 3000 if FULL else 300
STREAMS = 200 if FULL else 30

pytestmark = pytest.mark.slow


async def test_many_concurrent_runs_on_one_client() -> None:
    async with Emulator(speed=1000, create_rate_per_minute=60_000) as emu:
        async with emu.client() as client:
            # The server allows 60,000 creates a minute here; so does the client.
            client.rate_limiter = TokenBucketLimiter(create_per_minute=60_000)
            outputs = await asyncio.wait_for(
                asyncio.gather(
                    *(
                        client.run("replicate/hello-world", input={"text": f"n{i}"})
                        for i in range(RUNS)
                    )
                ),
                timeout=120,
            )
        assert outputs == [f"hello n{i}" for i in range(RUNS)]
        assert emu.stats.rate_limited == 0
        assert emu.stats.predictions_created == RUNS
        # hello-world is not official: the first wave finds its latest version with one
        # shared lookup, not one per run.
        assert emu.stats.by_operation["models.get"] == 1


async def test_many_concurrent_streams_on_one_client() -> None:
    async def one(client: object, i: int) -> str:
        text = []
        async for event in client.stream(  # type: ignore[attr-defined]
            "meta/meta-llama-3-8b-instruct", input={"prompt": f"p{i}", "max_tokens": 20, "seed": i}
        ):
            text.append(str(event))
        return "".join(text)

    async with Emulator(speed=1000) as emu:
        async with emu.client() as client:
            streamed = await asyncio.wait_for(
                asyncio.gather(*(one(client, i) for i in range(STREAMS))), timeout=120
            )
            finals = await asyncio.gather(
                *(
                    client.run(
                        "meta/meta-llama-3-8b-instruct",
                        input={"prompt": f"p{i}", "max_tokens": 20, "seed": i},
                    )
                    for i in range(STREAMS)
                )
            )
        assert streamed == finals  # same seed, same text: nothing lost or repeated
        assert all(streamed)

"""THE abandonment test: however a call gives up on a prediction, and whenever, nothing is left
running on the server.

Against the emulator (in a thread, so that blocking twins can run on the main thread and take
a real SIGINT), with a language model that would run far longer than the test: hundreds of
runs and dozens of streams are abandoned at seeded random moments — the task cancelled,
``asyncio.wait_for``, ``asyncio.timeout``, ``run(timeout=)``, ``break`` out of a stream, a
plain ``predictions.async_create`` cancelled, ``client.aclose()`` with work in flight, Ctrl-C in
``run_sync``/``stream_sync`` — some before the create is sent, some while a sync-mode create
is held on the wire (by the server's ``Prefer: wait`` and by injected latency), some while
waiting or streaming. Each abandoning call returns only after its cleanup, so right after
them the emulator must hold no prediction ``starting`` or ``processing``.

The default sync wait is shortened to 1 s (the shortest ``Prefer: wait``) to keep the test
fast; the code path is the default one. No assertion depends on timing.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from replicate_async import Client, RunTimeoutError
from replicate_async._ops import run as run_module
from replicate_async.emulator import Emulator
from replicate_async.emulator.pytest_plugin import FAST_DEFAULTS

LLAMA = "meta/meta-llama-3-8b-instruct"
HELLO = "replicate/hello-world:0000000000000000cde1a443fb5c271536f3fbcf69adf80bf7ecb441405a9e44"
OPTIONS = {
    **FAST_DEFAULTS,
    "seed": 7,
    # Llama runs (streaming a token now and then) and hello-world queues, far longer than
    # the test: only a cancel ends them.
    "model_timings": {LLAMA: (0.0, 100_000.0), HELLO.split(":")[0]: (100_000.0, 1.0)},
}
BOUND = 30.0
"""Seconds any one call may take before the test fails (never reached when it passes)."""
RUNS = 220
STREAMS = 60

Way = Callable[[Client, random.Random], Awaitable[str]]


def moment(rng: random.Random) -> float:
    """A random moment to give up: at once, during the create, or later."""
    return rng.choice([0.0, 0.0, rng.uniform(0.0, 0.02), rng.uniform(0.0, 0.3)])


def run_kwargs(rng: random.Random) -> dict[str, Any]:
    ref = rng.choice([LLAMA, LLAMA, HELLO])
    wait = rng.choice([True, True, 1, False])  # True: the default, a short sync-mode wait
    text = f"{rng.random()}"
    return {"ref": ref, "input": {"prompt": text, "text": text}, "wait": wait}


async def cancel_after(task: asyncio.Task[Any], delay: float) -> None:
    if delay:
        await asyncio.sleep(delay)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, BOUND)


async def run_cancelled(client: Client, rng: random.Random) -> str:
    task = asyncio.ensure_future(client.run(**run_kwargs(rng)))
    await cancel_after(task, moment(rng))
    return "run"


async def run_wait_for(client: Client, rng: random.Random) -> str:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(client.run(**run_kwargs(rng)), moment(rng) or 0.001)
    return "run"


async def run_asyncio_timeout(client: Client, rng: random.Random) -> str:
    with contextlib.suppress(asyncio.TimeoutError):
        async with asyncio.timeout(moment(rng) or 0.001):
            await client.run(**run_kwargs(rng))
    return "run"


async def run_own_timeout(client: Client, rng: random.Random) -> str:
    with contextlib.suppress(RunTimeoutError):
        await client.run(**run_kwargs(rng), timeout=rng.uniform(0.001, 0.3))
    return "run"


async def consume(client: Client, rng: random.Random, events: int, ref: str = "") -> None:
    kwargs = run_kwargs(rng)
    del kwargs["wait"]
    kwargs["ref"] = ref or kwargs["ref"]
    stream = client.stream(**kwargs)
    try:
        seen = 0
        async for _ in stream:
            seen += 1
            if seen >= events:
                break
    finally:
        await stream.aclose()


async def stream_break(client: Client, rng: random.Random) -> str:
    # Llama logs at once (hello-world sits in the queue, silent): leave after a few events.
    await asyncio.wait_for(consume(client, rng, rng.randint(1, 3), LLAMA), BOUND)
    return "stream"


async def stream_cancelled(client: Client, rng: random.Random) -> str:
    task = asyncio.ensure_future(consume(client, rng, 10**9))
    await cancel_after(task, moment(rng))
    return "stream"


async def stream_timeout(client: Client, rng: random.Random) -> str:
    with contextlib.suppress(asyncio.TimeoutError):
        async with asyncio.timeout(moment(rng) or 0.001):
            await consume(client, rng, 10**9)
    return "stream"


async def create_cancelled(client: Client, rng: random.Random) -> str:
    task = asyncio.ensure_future(
        client.predictions.async_create(
            model=LLAMA, input={"prompt": "x"}, wait=rng.choice([None, 1])
        )
    )
    await cancel_after(task, moment(rng))
    if not task.cancelled():  # it answered first: the caller owns it, and cancels it
        await task.result().async_cancel()
    return "create"


RUN_WAYS: list[Way] = [run_cancelled, run_wait_for, run_asyncio_timeout, run_own_timeout]
STREAM_WAYS: list[Way] = [stream_break, stream_cancelled, stream_timeout]


async def closed_under_work(emu: Emulator, rng: random.Random) -> tuple[int, int]:
    """A client closed with runs and streams in flight: ``aclose()`` cancels them."""
    client = unthrottled(emu)
    runs = [asyncio.ensure_future(client.run(**run_kwargs(rng))) for _ in range(4)]
    streams = [asyncio.ensure_future(consume(client, rng, 10**9)) for _ in range(2)]
    await asyncio.sleep(moment(rng))
    await asyncio.wait_for(client.aclose(), BOUND)
    done, pending = await asyncio.wait([*runs, *streams], timeout=BOUND)
    assert not pending
    for task in done:
        task.exception()  # the calls fail (canceled, or the client is closed): expected
    return len(runs), len(streams)


async def abandon_async(emu: Emulator, rng: random.Random) -> dict[str, int]:
    counts = {"run": 0, "stream": 0, "create": 0}
    ways = [rng.choice(RUN_WAYS) for _ in range(RUNS - 40)]
    ways += [rng.choice(STREAM_WAYS) for _ in range(STREAMS - 10)]
    ways += [create_cancelled] * 20
    rng.shuffle(ways)
    seeds = [rng.random() for _ in ways]
    async with unthrottled(emu) as client:
        kinds = await asyncio.gather(
            *(way(client, random.Random(seed)) for way, seed in zip(ways, seeds, strict=True))
        )
    for kind in kinds:
        counts[kind] += 1
    closed = await asyncio.gather(
        *(closed_under_work(emu, random.Random(rng.random())) for _ in range(10))
    )
    for runs, streams in closed:
        counts["run"] += runs
        counts["stream"] += streams
    return counts


def interrupt_after(delay: float) -> threading.Timer:
    """Ctrl-C for the main thread in ``delay`` seconds."""
    main = threading.main_thread().ident
    assert main is not None
    timer = threading.Timer(delay, signal.pthread_kill, (main, signal.SIGINT))
    timer.start()
    return timer


def ctrl_c_in_blocking_twins(emu: Emulator, rng: random.Random) -> dict[str, int]:
    counts = {"run": 0, "stream": 0}
    with unthrottled(emu) as client:
        for n in range(8):
            kwargs = run_kwargs(random.Random(rng.random()))
            timer = None
            try:
                with pytest.raises(KeyboardInterrupt):
                    timer = interrupt_after(rng.uniform(0.0, 0.2))
                    if n % 2:
                        client.run_sync(**kwargs)
                    else:
                        del kwargs["wait"]
                        with contextlib.closing(client.stream_sync(**kwargs)) as events:
                            for _ in events:
                                pass
            finally:
                if timer is not None:
                    timer.join(BOUND)
            counts["run" if n % 2 else "stream"] += 1
    return counts


def unthrottled(emu: Emulator) -> Client:
    """A client on the emulator without the client-side rate limit (600 creates a minute)."""
    client = emu.client()
    client.rate_limiter = None
    return client


def running(emu: Emulator) -> list[tuple[str, str]]:
    return [
        (job.id, job.status)
        for job in list(emu.predictions.values())
        if job.status in ("starting", "processing")
    ]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout in the test itself")
def test_no_abandoned_prediction_is_left_running(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_module, "SYNC_WAIT", 1, raising=False)
    rng = random.Random(20261202)
    with Emulator(**OPTIONS) as emu:
        # Half the creates are held on the wire before the server even sees them.
        emu.faults.add(route="*predictions.create", latency=0.15, probability=0.5)
        counts = asyncio.run(abandon_async(emu, rng))
        blocking = ctrl_c_in_blocking_twins(emu, rng)
        left = running(emu)
        created = len(emu.predictions)
    assert counts["run"] + blocking["run"] >= 200
    assert counts["stream"] + blocking["stream"] >= 50
    assert created >= 150  # most abandoned calls did create a prediction first
    assert left == []

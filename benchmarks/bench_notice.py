"""Benchmark: how soon ``run()`` notices that a prediction is done.

The emulator runs in a child process, as Replicate would (drawing the images a file-output
model answers with must not hold this process's interpreter lock); its ``completed_at``
(``time.time()`` when it marks the prediction terminal) and the moment ``run()`` returns are
read on the same clock, the machine's. Each model is set to take 3 seconds
(``model_timings``); ``--runs`` runs (default 200) go through at ``--concurrency`` at a time,
started a few milliseconds apart so completions do not all land at once:

* a streaming model (``meta/meta-llama-3-8b-instruct``: token output over SSE);
* a file-output model (``stability-ai/sdxl``: its output is a file URL).

Each in two modes: ``run()`` as called by default (sync-mode create, ``Prefer: wait``), and
``run(wait=False)``, which creates without holding and then follows the prediction through its
stream or by polling, the path taken by any prediction longer than the 60 s sync window.

Reports the delay (median and p99, ms) and the API calls per run beyond the create (requests
the emulator's API and stream origins answered, minus the creates, per run; the version
schema, fetched once per model, is included). Targets: median at most 20 ms, at most 3 calls
per run beyond the create. Writes ``benchmarks/results/notice.json``.

Run: ``.venv/bin/python benchmarks/bench_notice.py [--quick] [--runs N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import TOKEN, platform_info, save

SECONDS = 3.0
MODELS = {
    "streaming": ("meta/meta-llama-3-8b-instruct", "prompt"),
    "file output": ("stability-ai/sdxl", "prompt"),
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _serve(conn: Connection, options: dict[str, Any]) -> None:
    """The child process: an emulator, and answers to the parent's questions about it."""
    from replicate_async.emulator import Emulator

    emu = Emulator(**options)
    emu.start_in_thread()
    try:
        conn.send(emu.url)
        while True:
            question = conn.recv()
            if question == "stop":
                return
            if question == "requests":
                conn.send(len(emu.requests))
                continue
            _, before, field, tag = question
            requests = [(r.method, r.path) for r in emu.requests[before:]]
            completed = {
                str(job.input.get(field)): job.completed_at
                for job in list(emu.predictions.values())
                if isinstance(job.input, dict) and str(job.input.get(field, "")).startswith(tag)
            }
            conn.send((requests, completed))
    finally:
        emu.stop_thread()


class NoticeEmulator:
    """The emulator of ``_serve`` in a child process: ``url``, ``requests()`` (how many it has
    answered) and ``since(before, field, tag)`` (what it answered since, and when each tagged
    prediction completed)."""

    def __init__(self, **options: Any) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, options), daemon=True)
        self._process.start()
        if not self._conn.poll(30):
            self._process.kill()
            raise RuntimeError("the emulator process did not start")
        self.url = str(self._conn.recv())

    def requests(self) -> int:
        self._conn.send("requests")
        return int(self._conn.recv())

    def since(
        self, before: int, field: str, tag: str
    ) -> tuple[list[tuple[str, str]], dict[str, float | None]]:
        self._conn.send(("since", before, field, tag))
        requests, completed = self._conn.recv()
        return requests, completed

    def stop(self) -> None:
        self._conn.send("stop")
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()


async def one_batch(
    emu: NoticeEmulator, model: str, field: str, runs: int, concurrency: int, wait: bool, tag: str
) -> dict[str, Any]:
    from replicate_async import Client

    returned: dict[str, float] = {}
    counter = iter(range(runs))
    before = emu.requests()

    async with Client(api_token=TOKEN, base_url=emu.url) as client:
        client.rate_limiter = None

        async def worker(k: int) -> None:
            await asyncio.sleep(k * SECONDS / concurrency)  # spread the completions
            for i in counter:
                marker = f"{tag} {i}"
                extra: dict[str, Any] = {"max_tokens": 30} if "llama" in model else {}
                await client.run(model, input={field: marker, **extra}, wait=wait)
                returned[marker] = time.time()

        await asyncio.gather(*(worker(k) for k in range(concurrency)))

    requests, completed = emu.since(before, field, tag)
    creates = sum(
        1 for method, path in requests if method == "POST" and path.endswith("/predictions")
    )
    delays = [
        (returned[m] - done) * 1000 for m in returned if (done := completed.get(m)) is not None
    ]
    assert len(delays) == runs, (len(delays), runs)
    return {
        "runs": runs,
        "median_ms": round(statistics.median(delays), 2),
        "p99_ms": round(percentile(delays, 0.99), 2),
        "max_ms": round(max(delays), 2),
        "calls_beyond_create_per_run": round((len(requests) - creates) / runs, 2),
        "creates": creates,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="a short smoke run (CI)")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.concurrency = 20, 20
    emu = NoticeEmulator(
        rate_limit=False,
        token_delay=SECONDS / 30,  # 30 tokens over 3 seconds
        model_timings={model: (0.0, SECONDS) for model, _ in MODELS.values()},
        request_log_size=100_000,
    )
    figures: dict[str, Any] = {}
    try:
        for kind, (model, field) in MODELS.items():
            for wait in (True, False):
                mode = "run()" if wait else "run(wait=False)"
                tag = f"notice-{kind}-{wait}-{time.monotonic_ns()}"
                result = asyncio.run(
                    one_batch(emu, model, field, args.runs, args.concurrency, wait, tag)
                )
                figures[f"{kind}, {mode}"] = {"model": model, **result}
                print(
                    f"  {kind:12s} {mode:16s}: median {result['median_ms']:7.1f} ms, "
                    f"p99 {result['p99_ms']:7.1f} ms, "
                    f"{result['calls_beyond_create_per_run']:.2f} calls/run beyond the create",
                    flush=True,
                )
    finally:
        emu.stop()
    result = {
        "seconds_per_prediction": SECONDS,
        "runs": args.runs,
        "concurrency": args.concurrency,
        "target_median_ms": 20,
        "target_calls_beyond_create": 3,
        "figures": figures,
        "load_average": os.getloadavg(),
        "quick": args.quick,
        **platform_info(),
    }
    save("notice", result)
    return result


if __name__ == "__main__":
    main()

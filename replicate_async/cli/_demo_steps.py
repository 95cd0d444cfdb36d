"""The four steps of ``replicate-async demo``, each written as a newcomer would write it."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import struct
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import attrs
from aiohttp import ClientSession, web
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from .. import BatchProgress, Client, Prediction
from ..webhooks import sign, verify

__all__ = [
    "LLAMA",
    "SDXL",
    "LatencySummary",
    "Stopwatch",
    "fan_out",
    "generate_image",
    "latency_summary",
    "png_size",
    "stream_answer",
    "webhook_round_trip",
]

LLAMA = "meta/meta-llama-3-8b-instruct"
SDXL = "stability-ai/sdxl:7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"
FAN_OUT_CONCURRENCY = 64  # predictions in flight at once

T = TypeVar("T")


# -- 1. streaming ------------------------------------------------------------------------------
async def stream_answer(client: Client, console: Console) -> str:
    """Print a Llama 3 answer as it is generated; return the whole text."""
    prompt = "Explain in two sentences why asyncio suits API clients."
    console.print(f"[dim]prompt:[/dim] {escape(prompt)}")
    started = time.perf_counter()
    first: float | None = None
    pieces: list[str] = []
    async for event in client.stream(LLAMA, input={"prompt": prompt, "max_tokens": 60}):
        text = str(event)
        if not text:
            continue
        if first is None:
            first = time.perf_counter() - started
        pieces.append(text)
        console.print(text, end="", markup=False, highlight=False, soft_wrap=True)
    console.print()
    total = time.perf_counter() - started
    console.print(
        f"[green]✓ streamed {len(pieces)} tokens in {total:.2f} s "
        f"(first token after {1000 * (first or 0):.0f} ms)[/green]"
    )
    return "".join(pieces)


# -- 2. an image -------------------------------------------------------------------------------
def png_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` from a PNG's IHDR chunk (``None`` if it is not a PNG)."""
    if len(data) < 24 or not data.startswith(b"\x89PNG\r\n\x1a\n") or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def generate_image(client: Client, console: Console, output_dir: Path) -> Path:
    """Run SDXL, save the image under ``output_dir`` and report its path, size and pixels."""
    prompt = "an astronaut riding a horse, watercolor"
    console.print(f"[dim]prompt:[/dim] {escape(prompt)}")
    started = time.perf_counter()
    with console.status("generating…", spinner="dots"):
        [image] = await client.run(SDXL, input={"prompt": prompt, "width": 768, "height": 768})
        await asyncio.to_thread(output_dir.mkdir, parents=True, exist_ok=True)
        path: Path = await image.async_save(output_dir)
    data = await asyncio.to_thread(path.read_bytes)
    pixels = png_size(data)
    shape = f", {pixels[0]}x{pixels[1]} pixels" if pixels else ""
    console.print(f"[dim]output URL:[/dim] {escape(image.url[:100])}")
    console.print(
        f"[green]✓ saved {escape(str(path))} ({len(data):,} bytes{shape}) "
        f"in {time.perf_counter() - started:.2f} s[/green]"
    )
    return path


# -- 3. fan-out --------------------------------------------------------------------------------
@attrs.frozen
class LatencySummary:
    """What a fan-out achieved: counts, latency percentiles (seconds) and throughput."""

    count: int
    failed: int
    p50: float
    p95: float
    max: float
    wall: float

    @property
    def throughput(self) -> float:
        """Predictions finished per second of wall time."""
        return self.count / self.wall if self.wall > 0 else 0.0


def _percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted values (0 when there are none)."""
    if not ordered:
        return 0.0
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def latency_summary(latencies: Sequence[float], failed: int, wall: float) -> LatencySummary:
    """p50/p95/max of the latencies (pure), with the count of failures and the wall time."""
    ordered = sorted(latencies)
    return LatencySummary(
        count=len(ordered) + failed,
        failed=failed,
        p50=_percentile(ordered, 0.50),
        p95=_percentile(ordered, 0.95),
        max=ordered[-1] if ordered else 0.0,
        wall=wall,
    )


class Stopwatch:
    """What a user waits for each item of a batch: from the moment the batch takes the item's
    input (it submits it then: the batch reads inputs only when a slot is free) to the moment
    its result is delivered. Items are numbered as ``BatchResult.index`` numbers them.

    The API's own ``created_at`` → ``completed_at`` leaves out the client's side (waiting for
    the rate limit, the round trips, noticing the end) and the emulator reports the same
    duration for every prediction, so the demo measures here instead.
    """

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        self._started: dict[int, float] = {}

    def feed(self, inputs: Iterable[T]) -> Iterator[T]:
        """``inputs``, noting when the batch takes each one."""
        for index, value in enumerate(inputs):
            self._started[index] = self.clock()
            yield value

    def stop(self, index: int) -> float:
        """Seconds since item ``index`` was taken (call it when its result arrives)."""
        return self.clock() - self._started.pop(index)


async def fan_out(
    client: Client, console: Console, count: int, *, clock: Callable[[], float] = time.perf_counter
) -> LatencySummary:
    """Run ``count`` prompts through ``client.batch`` with a live progress bar; print the
    latency each one took as the client saw it (submission to result) and the throughput."""
    watch = Stopwatch(clock)
    inputs = watch.feed(
        {"prompt": f"Write a haiku about the number {i}.", "max_tokens": 16} for i in range(count)
    )
    latencies: list[float] = []
    failed = 0
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[running]} running, [red]{task.fields[failed]} failed"),
        TimeElapsedColumn(),
        console=console,
    )
    started = clock()
    with progress:
        task = progress.add_task("predictions", total=count, running=0, failed=0)

        def on_progress(counts: BatchProgress) -> None:
            progress.update(
                task, completed=counts.done, running=counts.in_flight, failed=counts.failed
            )

        batch = client.batch(
            LLAMA, inputs, concurrency=FAN_OUT_CONCURRENCY, on_progress=on_progress
        )
        async for result in batch:
            latency = watch.stop(result.index)
            if result.ok:
                latencies.append(latency)
            else:
                failed += 1
    summary = latency_summary(latencies, failed, clock() - started)
    console.print(
        f"[green]✓ {summary.count - summary.failed}/{summary.count} succeeded in "
        f"{summary.wall:.2f} s: {summary.throughput:.0f} predictions/s; latency p50 "
        f"{summary.p50:.2f} s, p95 {summary.p95:.2f} s, max {summary.max:.2f} s "
        "(submission to result, as the client saw it)[/green]"
    )
    return summary


# -- 4. webhooks -------------------------------------------------------------------------------
async def webhook_round_trip(client: Client, console: Console, *, remote: bool) -> Prediction:
    """Receive a real delivery on loopback (emulator), or verify a locally signed one (remote,
    where Replicate cannot reach this machine); then show a forged delivery refused."""
    secret = await client.webhooks.default_secret.async_get()
    console.print(f"[dim]signing secret:[/dim] {escape(secret.key[:12])}… (from the API)")
    if remote:
        return _verify_locally(console, secret.key)
    from ..webhooks import WebhookReceiver

    received: asyncio.Queue[Prediction] = asyncio.Queue()

    async def handler(prediction: Prediction) -> None:
        await received.put(prediction)

    receiver = WebhookReceiver(client, handler)
    runner = web.AppRunner(receiver.app("/hook"), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        url = f"http://127.0.0.1:{port}/hook"
        console.print(f"[dim]receiver listening on[/dim] {url}")
        created = await client.predictions.async_create(
            model=LLAMA,
            input={"prompt": "Say hello to the webhook.", "max_tokens": 8},
            webhook=url,
            webhook_events_filter=["completed"],
        )
        prediction = await asyncio.wait_for(received.get(), 30)
        console.print(
            f"[green]✓ received the 'completed' webhook for {prediction.id} "
            f"(status {prediction.status}); signature verified[/green]"
        )
        assert prediction.id == created.id
        # The receiver logs every refused delivery (a warning in your app's log); hide it here.
        webhook_log = logging.getLogger("replicate_async.webhooks")
        level, webhook_log.level = webhook_log.level, logging.CRITICAL
        try:
            status = await _post_forged(url, prediction)
        finally:
            webhook_log.setLevel(level)
        console.print(
            f"[green]✓ a forged delivery (wrong secret) was refused with HTTP {status}; "
            "the handler never saw it[/green]"
        )
        if not received.empty():
            raise AssertionError("the handler ran for a forged delivery")
        return prediction
    finally:
        await runner.cleanup()


async def _post_forged(url: str, prediction: Prediction) -> int:
    body = json.dumps(prediction.to_dict())
    headers = sign(body, "whsec_" + "Zm9yZ2VkLXNlY3JldC1mb3ItdGhlLWRlbW8=")
    async with (
        ClientSession() as session,
        session.post(
            url, data=body, headers={**headers, "Content-Type": "application/json"}
        ) as response,
    ):
        return response.status


def _verify_locally(console: Console, secret: str) -> Prediction:
    body = json.dumps({"id": "demo0000000000000000000000", "status": "succeeded", "output": "hi"})
    headers = sign(body, secret)
    prediction = verify(headers, body, secret)
    console.print(
        "[yellow]Replicate cannot deliver to this machine's loopback address, so this step "
        "verifies a delivery signed locally with your account's secret.[/yellow]"
    )
    console.print(f"[green]✓ verified delivery {headers['webhook-id']} for {prediction.id}[/green]")
    return prediction

"""``replicate-async demo`` (what ``make demo`` runs): a tour of the library in under a minute.

Against an embedded emulator (no token, no network) unless ``--remote`` is given:

1. stream a Llama 3 answer token by token (``client.stream``);
2. generate an SDXL image and save it (``client.run`` → ``FileOutput.async_save``);
3. fan out many prompts at once with a live progress bar and a latency summary;
4. receive a webhook, verify its signature, and refuse a forged one.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax

from ._context import CliState, pass_state, quiet_server_logs

if TYPE_CHECKING:
    from .. import Client

__all__ = ["DEMO_EMULATOR_OPTIONS", "STEP_TITLES", "demo_command"]

DEMO_EMULATOR_OPTIONS: dict[str, Any] = {
    # Real-time model timings; a create limit ten times the real default so the fan-out
    # finishes in seconds (the client is told the same limit, and stays inside it).
    "create_rate_per_minute": 6000.0,
    "create_burst": 200.0,
    "webhook_throttle": 0.5,
}

STEP_TITLES = (
    "1. Stream a Llama 3 answer, token by token",
    "2. Generate an SDXL image and save it",
    "3. Fan out {n} prompts at once",
    "4. Receive and verify a webhook",
)


@contextlib.asynccontextmanager
async def _backend(remote: bool, console: Console) -> AsyncIterator[Client]:
    from .. import Client, TokenBucketLimiter

    if remote:
        async with Client() as client:
            console.print("[bold]Backend:[/bold] the real Replicate API (this costs money)")
            yield client
        return
    from ..emulator import Emulator

    with quiet_server_logs():
        async with Emulator(**DEMO_EMULATOR_OPTIONS) as emu, emu.client() as client:
            client.rate_limiter = TokenBucketLimiter(
                create_per_minute=DEMO_EMULATOR_OPTIONS["create_rate_per_minute"],
                create_burst=DEMO_EMULATOR_OPTIONS["create_burst"],
            )
            console.print(
                f"[bold]Backend:[/bold] the embedded emulator at {escape(emu.url)} "
                "[dim](no token, no network; add --remote to use Replicate)[/dim]"
            )
            yield client


def _title(console: Console, title: str, code: str) -> None:
    console.print()
    console.rule(f"[bold cyan]{escape(title)}", align="left")
    console.print(Syntax(code.strip(), "python", theme="ansi_dark", background_color="default"))


@click.command("demo")
@click.option(
    "--remote",
    is_flag=True,
    help="Run against the real Replicate API (needs REPLICATE_API_TOKEN; costs money).",
)
@click.option(
    "--prompts",
    type=click.IntRange(1, 10_000),
    default=200,
    show_default=True,
    help="How many prompts step 3 fans out.",
)
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(tempfile.gettempdir()) / "replicate-async-demo",
    show_default=True,
    help="Where step 2 saves its image.",
)
@pass_state
def demo_command(state: CliState, remote: bool, prompts: int, output_dir: Path) -> None:
    """A tour of the library in under a minute: streaming, images, fan-out, webhooks.

    Runs against an embedded emulator: no token, no network. With --remote (and
    REPLICATE_API_TOKEN set) the same steps run on Replicate.
    """
    if remote and state.local:
        raise click.UsageError("--remote and --local contradict each other")
    console = state.out

    async def main() -> None:
        # The steps (and aiohttp) load when the demo runs, not for --help or a usage error.
        from ._demo_steps import fan_out, generate_image, stream_answer, webhook_round_trip

        started = time.perf_counter()
        console.rule("[bold]replicate_async demo")
        async with _backend(remote, console) as client:
            _title(console, STEP_TITLES[0], STREAM_CODE)
            await stream_answer(client, console)

            _title(console, STEP_TITLES[1], IMAGE_CODE)
            await generate_image(client, console, output_dir)

            _title(console, STEP_TITLES[2].format(n=prompts), FAN_OUT_CODE)
            await fan_out(client, console, prompts)

            _title(console, STEP_TITLES[3], WEBHOOK_CODE)
            await webhook_round_trip(client, console, remote=remote)
        console.print()
        console.rule(f"[bold green]Demo finished in {time.perf_counter() - started:.1f} s")
        console.print("Next: [bold]docs/quickstart.md[/bold], or `replicate-async --help`.")

    state.run(main)


STREAM_CODE = """
async for event in client.stream("meta/meta-llama-3-8b-instruct", input={"prompt": ...}):
    print(event, end="")
"""

IMAGE_CODE = """
[image] = await client.run("stability-ai/sdxl:7762fd07…", input={"prompt": ...})
path = await image.async_save(output_dir)
"""

FAN_OUT_CODE = """
async for result in client.batch("meta/meta-llama-3-8b-instruct", inputs, on_progress=...):
    ...  # results arrive as they finish; the client stays inside the rate limit
"""

WEBHOOK_CODE = """
receiver = WebhookReceiver(client, handler)   # verifies signatures, drops repeats
await client.predictions.async_create(..., webhook=url, webhook_events_filter=["completed"])
"""

"""``replicate-async run MODEL -i key=value … [--stream] [--json] [--output-dir DIR]``."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import click

from .. import RunTimeoutError
from ._context import CliState, json_option, pass_state
from ._follow import present
from ._inputs import schema_inputs, split_inputs
from ._outputs import save_file
from ._params import check_duration
from ._render import echo_json
from ._status import StatusLine, short_ref

if TYPE_CHECKING:
    from .. import Client, Prediction

__all__ = ["run_command"]


@attrs.frozen
class RunOptions:
    """The options of one ``run`` command that reach the library."""

    timeout: float | None = None
    cancel_after: str | None = None


@click.command("run")
@click.argument("model", required=False)
@click.option(
    "-i",
    "--input",
    "inputs",
    multiple=True,
    metavar="KEY=VALUE",
    help="A model input, converted by the model's input types (text stays text; numbers, "
    "true/false, JSON lists and objects); KEY=@path uploads a file. Repeat for each input.",
)
@click.option("--deployment", metavar="OWNER/NAME", help="Run on this deployment (no MODEL).")
@click.option(
    "--stream", is_flag=True, help="Print text as it is generated (and save files as they come)."
)
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Save file outputs under this directory.",
)
@click.option("--no-download", is_flag=True, help="Print file outputs' URLs; save nothing.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Give up (and cancel the prediction) after this long.",
)
@click.option(
    "--cancel-after",
    metavar="DURATION",
    callback=check_duration,
    help="Server-side deadline, such as 30s or 5m.",
)
@click.option("--detach", is_flag=True, help="Start the prediction, print it, do not wait.")
@json_option
@pass_state
def run_command(
    state: CliState,
    model: str | None,
    inputs: tuple[str, ...],
    deployment: str | None,
    stream: bool,
    output_dir: Path,
    no_download: bool,
    timeout: float | None,
    cancel_after: str | None,
    detach: bool,
    as_json: bool,
) -> None:
    """Run MODEL and print its output; save file outputs under --output-dir.

    MODEL is owner/name, owner/name:version or a version id. While it runs, a status line
    on stderr shows its status, elapsed time, last log line and progress. Ctrl-C cancels it.

    \b
    Examples:
      replicate-async run meta/meta-llama-3-8b-instruct -i prompt="Tell me a joke" --stream
      replicate-async run stability-ai/sdxl:7762fd07… -i prompt="a red fox" -i width=768 -o out
      replicate-async run replicate/echo-file -i file=@notes.txt --json
    """
    if (model is None) == (deployment is None):
        raise click.UsageError("give a MODEL, or --deployment OWNER/NAME (not both)")
    split_inputs(inputs)  # the form of every -i is checked before anything else
    if stream and (detach or as_json):
        raise click.UsageError("--stream prints text as it arrives; drop --detach/--json")
    options = RunOptions(timeout=timeout, cancel_after=cancel_after)
    label = short_ref(model) if model else f"deployment {deployment}"
    directory = None if no_download else output_dir

    async def main() -> None:
        async with state.client() as client:
            parsed = await schema_inputs(client, model, inputs, deployment=deployment)
            if stream:
                await _stream(client, model, deployment, parsed, options, directory)
            elif detach:
                await _detach(state, client, model, deployment, parsed, options, as_json)
            else:
                prediction, output = await _run_with_status(
                    state, client, model, deployment, parsed, options, label, quiet=as_json
                )
                await present(
                    state,
                    client,
                    prediction,
                    output=output,
                    shaped=True,
                    output_dir=directory,
                    as_json=as_json,
                )

    state.run(main, as_json=as_json)


async def _run_with_status(
    state: CliState,
    client: Client,
    model: str | None,
    deployment: str | None,
    inputs: dict[str, Any],
    options: RunOptions,
    label: str,
    *,
    quiet: bool,
) -> tuple[Prediction, Any]:
    """``client.run()``, its ``on_progress`` feeding the status line; the last report is the
    terminal prediction (with its metrics) that the output belongs to."""
    with StatusLine(state.err, label, enabled=not quiet) as line:
        seen: list[Prediction] = []

        def on_progress(prediction: Prediction) -> None:
            seen.append(prediction)
            line.update(prediction)

        output = await client.run(
            model,
            inputs,
            deployment=deployment,
            # Never sync mode (Prefer: wait): it holds the create request until the prediction
            # ends, so the status line would be blind and Ctrl-C could not name the prediction
            # to cancel. Created at once and then followed, it is canceled when the run stops.
            wait=False,
            timeout=options.timeout,
            cancel_after=options.cancel_after,
            on_progress=on_progress,
        )
        return seen[-1], output


async def _detach(
    state: CliState,
    client: Client,
    model: str | None,
    deployment: str | None,
    inputs: dict[str, Any],
    options: RunOptions,
    as_json: bool,
) -> None:
    prediction = await client.start(
        model, inputs, deployment=deployment, cancel_after=options.cancel_after
    )
    if as_json:
        echo_json(prediction)
        return
    click.echo(prediction.id)
    state.err.print(
        f"started; follow it with: replicate-async predictions watch {prediction.id}",
        highlight=False,
    )


async def _stream(
    client: Client,
    model: str | None,
    deployment: str | None,
    inputs: dict[str, Any],
    options: RunOptions,
    directory: Path | None,
) -> None:
    """Print text output as it arrives; save file outputs under ``directory`` as they arrive
    and print their paths (``--timeout`` bounds the whole stream)."""
    from .. import FileOutput

    last = "\n"  # the last character written: end the output with exactly one newline
    taken: set[str] = set()

    async def consume() -> None:
        nonlocal last
        stream = client.stream(
            model, input=inputs, deployment=deployment, cancel_after=options.cancel_after
        )
        try:
            async for event in stream:
                text = str(event)
                if isinstance(event.output, FileOutput) and directory is not None:
                    text = str(await save_file(event.output, directory, taken)) + "\n"
                if text:
                    sys.stdout.write(text)
                    sys.stdout.flush()
                    last = text[-1]
        finally:  # leaving early (Ctrl-C, timeout) closes the connection at once
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()

    try:
        await asyncio.wait_for(consume(), options.timeout)
    except asyncio.TimeoutError:
        raise RunTimeoutError(
            f"stream of {model or deployment} did not finish within {options.timeout:g} s"
        ) from None
    finally:
        if last != "\n":
            sys.stdout.write("\n")
            sys.stdout.flush()

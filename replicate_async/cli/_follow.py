"""Following a prediction to its end with the live status line, then presenting the result."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import (
    ModelError,
    PredictionAbortedError,
    PredictionCanceledError,
    PredictionError,
)
from ._outputs import print_output, save_files, shape_output, walk_files
from ._render import echo_json, to_jsonable
from ._status import StatusLine

if TYPE_CHECKING:
    from .. import Client, Prediction, Training
    from ._context import CliState

__all__ = ["check_succeeded", "follow", "present"]

FIRST_POLL_DELAY = 0.05
MAX_POLL_DELAY = 1.0  # the status line should feel live; 1 req/s is far below the rate limit


async def follow(
    state: CliState, prediction: Prediction | Training, label: str, *, quiet: bool
) -> None:
    """Poll a prediction or training (in place) until it is terminal, with the status line:
    quickly at first, then once a second."""
    delay = FIRST_POLL_DELAY
    with StatusLine(state.err, label, enabled=not quiet) as line:
        line.update(prediction)
        while not prediction.terminal:
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, MAX_POLL_DELAY)
            await prediction.async_reload()
            line.update(prediction)


def check_succeeded(job: Prediction | Training) -> None:
    """Raise the library's error for a prediction (or training) that ended without output."""
    status = job.status
    prediction: Any = job  # the errors carry the job, whichever kind it is
    if status == "succeeded":
        return
    if status == "failed":
        raise ModelError(f"prediction {prediction.id} failed: {prediction.error}", prediction)
    if status == "canceled":
        raise PredictionCanceledError(f"prediction {prediction.id} was canceled", prediction)
    if status == "aborted":
        raise PredictionAbortedError(
            f"prediction {prediction.id} was aborted: its deadline passed before it started",
            prediction,
        )
    raise PredictionError(f"prediction {prediction.id} ended with status {status!r}", prediction)


async def present(
    state: CliState,
    client: Client,
    prediction: Prediction,
    *,
    output: Any = None,
    shaped: bool = False,
    output_dir: Path | None,
    as_json: bool,
) -> None:
    """Print a finished prediction's output (files saved under ``output_dir``; ``None``: keep
    their URLs), or its JSON summary with ``--json``.

    ``output``/``shaped``: the already shaped output when the caller has it.
    """
    check_succeeded(prediction)
    if not shaped:
        output = await shape_output(client, prediction)
    files: list[Path] = []
    if output_dir is not None:
        output, files = await save_files(output, output_dir)
    else:
        output = walk_files(output, lambda file: file.url)
    if as_json:
        echo_json(
            {
                "id": prediction.id,
                "model": prediction.model,
                "version": prediction.version,
                "status": prediction.status,
                "output": to_jsonable(output),
                "files": [str(p) for p in files],
                "metrics": prediction.metrics,
            }
        )
        return
    print_output(output)  # file outputs show as the paths they were saved to
    if files:
        size = sum(path.stat().st_size for path in files)
        where = output_dir
        state.err.print(
            f"[green]saved {len(files)} file(s), {size:,} bytes, under {where}[/green]",
            highlight=False,
        )

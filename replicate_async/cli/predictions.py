"""``replicate-async predictions get|list|cancel|watch``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ._context import CliState, json_option, pass_state
from ._follow import follow, present
from ._outputs import shown_output, with_shown_output
from ._params import ISO_DATETIME
from ._render import collect, echo_json, show_record, show_table
from ._status import last_log_line

if TYPE_CHECKING:
    from .. import Prediction

__all__ = ["predictions_group", "show_prediction"]


def show_prediction(state: CliState, prediction: Prediction, output: Any = None) -> None:
    """A prediction as aligned fields (id, model, status, timing, error, last log line);
    ``output`` as :func:`shown_output` gives it."""
    metrics = prediction.metrics or {}
    show_record(
        state.out,
        [
            ("id", prediction.id),
            ("model", prediction.model),
            ("version", prediction.version),
            ("status", prediction.status),
            ("created", prediction.created_at),
            ("completed", prediction.completed_at),
            ("predict time", metrics.get("predict_time")),
            ("error", prediction.error),
            ("last log", last_log_line(prediction.logs)),
            ("output", output),
            ("web", prediction.urls.web if prediction.urls else None),
        ],
    )


@click.group("predictions")
def predictions_group() -> None:
    """Get, list, cancel and watch predictions."""


@predictions_group.command("get")
@click.argument("prediction_id")
@json_option
@pass_state
def get_prediction(state: CliState, prediction_id: str, as_json: bool) -> None:
    """Show a prediction as it is now."""

    async def main() -> None:
        async with state.client() as client:
            prediction = await client.predictions.async_get(prediction_id)
            output = await shown_output(prediction)
        if as_json:
            echo_json(with_shown_output(prediction, output))
        else:
            show_prediction(state, prediction, output)

    state.run(main, as_json=as_json)


@predictions_group.command("list")
@click.option(
    "--limit", type=click.IntRange(min=0), default=20, show_default=True, help="At most N."
)
@click.option(
    "--since", type=ISO_DATETIME, help="Only predictions created after this time (ISO 8601)."
)
@click.option(
    "--until", type=ISO_DATETIME, help="Only predictions created before this time (ISO 8601)."
)
@click.option("--source", type=click.Choice(["web"]), help="Only predictions made on the website.")
@json_option
@pass_state
def list_predictions(
    state: CliState,
    limit: int,
    since: str | None,
    until: str | None,
    source: str | None,
    as_json: bool,
) -> None:
    """List your predictions, newest first."""

    async def main() -> None:
        async with state.client() as client:
            page = await client.predictions.async_list(
                created_after=since, created_before=until, source=source
            )
            found = await collect(page, limit)
            if as_json:  # outputs as run prints them (one schema read per version)
                echo_json([with_shown_output(p, await shown_output(p)) for p in found])
                return
        rows = [(p.id, p.model, p.status, p.created_at) for p in found]
        show_table(state.out, rows, ["id", "model", "status", "created"], title="predictions")

    state.run(main, as_json=as_json)


@predictions_group.command("cancel")
@click.argument("prediction_id")
@json_option
@pass_state
def cancel_prediction(state: CliState, prediction_id: str, as_json: bool) -> None:
    """Cancel a prediction (one that already finished is left as it is)."""

    async def main() -> None:
        async with state.client() as client:
            prediction = await client.predictions.async_cancel(prediction_id)
        if as_json:
            echo_json(prediction)
        else:
            state.out.print(f"{prediction.id}: {prediction.status}", highlight=False)

    state.run(main, as_json=as_json)


@predictions_group.command("watch")
@click.argument("prediction_id")
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Save file outputs under this directory (default: print their URLs).",
)
@json_option
@pass_state
def watch_prediction(
    state: CliState, prediction_id: str, output_dir: Path | None, as_json: bool
) -> None:
    """Follow a prediction until it finishes (status, logs, progress), then print its output.

    Exits with 1 when it fails, is canceled or aborted.
    """

    async def main() -> None:
        async with state.client() as client:
            prediction = await client.predictions.async_get(prediction_id)
            await follow(state, prediction, prediction.model or prediction.id, quiet=as_json)
            await present(state, client, prediction, output_dir=output_dir, as_json=as_json)

    state.run(main, as_json=as_json)

"""``replicate-async trainings create|get|list|cancel``."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import click

from ._context import CliState, json_option, pass_state
from ._follow import check_succeeded, follow
from ._inputs import schema_inputs, split_inputs
from ._render import collect, echo_json, show_record, show_table
from ._status import last_log_line

if TYPE_CHECKING:
    from .. import Training

__all__ = ["trainings_group"]


def _show(state: CliState, training: Training) -> None:
    show_record(
        state.out,
        [
            ("id", training.id),
            ("model", training.model),
            ("version", training.version),
            ("destination", training.destination),
            ("status", training.status),
            ("new version", training.new_version),
            ("error", training.error),
            ("last log", last_log_line(training.logs)),
        ],
    )


@click.group("trainings")
def trainings_group() -> None:
    """Create, get, list and cancel trainings."""


@trainings_group.command("create")
@click.argument("model")
@click.option(
    "-d", "--destination", required=True, metavar="OWNER/NAME", help="Model to add versions to."
)
@click.option("-i", "--input", "inputs", multiple=True, metavar="KEY=VALUE", help="An input.")
@click.option("--webhook", metavar="URL", help="Send training updates to this URL.")
@click.option(
    "--webhook-events",
    metavar="EVENTS",
    help="Comma-separated subset of start,output,logs,completed.",
)
@click.option("--wait", is_flag=True, help="Follow the training until it finishes.")
@json_option
@pass_state
def create_training(
    state: CliState,
    model: str,
    destination: str,
    inputs: tuple[str, ...],
    webhook: str | None,
    webhook_events: str | None,
    wait: bool,
    as_json: bool,
) -> None:
    """Start a training of MODEL (owner/name:version) that writes a new version to
    --destination. Inputs as in ``run`` (``-i key=value``, ``-i key=@file``), converted by the
    trainer's training input types. Ctrl-C while
    following it (--wait) stops the following; the training goes on (its id is printed)."""
    split_inputs(inputs)  # the form of every -i is checked before anything else
    events = [e.strip() for e in webhook_events.split(",")] if webhook_events else None

    async def main() -> None:
        async with state.client() as client:
            parsed = await schema_inputs(client, model, inputs, training=True)
            training = await client.trainings.async_create(
                model,
                destination=destination,
                input=parsed,
                webhook=webhook,
                webhook_events_filter=events,
            )
            if wait:
                try:
                    await follow(state, training, f"training {training.id}", quiet=as_json)
                except asyncio.CancelledError:  # Ctrl-C stops the watching, not the training
                    state.err.print(
                        f"[yellow]training {training.id} is still running; stop it with: "
                        f"replicate-async trainings cancel {training.id}[/yellow]",
                        highlight=False,
                    )
                    raise
        if as_json:
            echo_json(training)
        else:
            _show(state, training)
        if wait:
            check_succeeded(training)

    state.run(main, as_json=as_json)


@trainings_group.command("get")
@click.argument("training_id")
@json_option
@pass_state
def get_training(state: CliState, training_id: str, as_json: bool) -> None:
    """Show a training as it is now."""

    async def main() -> None:
        async with state.client() as client:
            training = await client.trainings.async_get(training_id)
        if as_json:
            echo_json(training)
        else:
            _show(state, training)

    state.run(main, as_json=as_json)


@trainings_group.command("list")
@click.option(
    "--limit", type=click.IntRange(min=0), default=20, show_default=True, help="At most N."
)
@json_option
@pass_state
def list_trainings(state: CliState, limit: int, as_json: bool) -> None:
    """List your trainings, newest first."""

    async def main() -> None:
        async with state.client() as client:
            found = await collect(await client.trainings.async_list(), limit)
        if as_json:
            echo_json(found)
            return
        rows = [(t.id, t.model, t.destination, t.status, t.created_at) for t in found]
        show_table(
            state.out, rows, ["id", "model", "destination", "status", "created"], title="trainings"
        )

    state.run(main, as_json=as_json)


@trainings_group.command("cancel")
@click.argument("training_id")
@json_option
@pass_state
def cancel_training(state: CliState, training_id: str, as_json: bool) -> None:
    """Cancel a training."""

    async def main() -> None:
        async with state.client() as client:
            training = await client.trainings.async_cancel(training_id)
        if as_json:
            echo_json(training)
        else:
            state.out.print(f"{training.id}: {training.status}", highlight=False)

    state.run(main, as_json=as_json)

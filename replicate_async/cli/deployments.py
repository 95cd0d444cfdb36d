"""``replicate-async deployments create|get|list|update|delete``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ._context import CliState, confirm, json_option, pass_state
from ._render import collect, echo_json, show_record, show_table

if TYPE_CHECKING:
    from .. import Deployment

__all__ = ["deployments_group"]


def _show(state: CliState, deployment: Deployment) -> None:
    release = deployment.current_release
    config = release.configuration if release else None
    show_record(
        state.out,
        [
            ("deployment", deployment.id),
            ("release", release.number if release else None),
            ("model", release.model if release else None),
            ("version", release.version if release else None),
            ("hardware", config.hardware if config else None),
            ("min instances", config.min_instances if config else None),
            ("max instances", config.max_instances if config else None),
        ],
    )


@click.group("deployments")
def deployments_group() -> None:
    """Create, get, list, update and delete deployments."""


@deployments_group.command("create")
@click.argument("name")
@click.option("--model", required=True, metavar="OWNER/NAME", help="The model to deploy.")
@click.option("--version", required=True, metavar="ID", help="The version to deploy.")
@click.option("--hardware", required=True, metavar="SKU", help="Hardware SKU (see `hardware`).")
@click.option(
    "--min-instances", type=click.IntRange(0, 5), default=0, show_default=True, help="0 to 5."
)
@click.option(
    "--max-instances", type=click.IntRange(0, 20), default=1, show_default=True, help="0 to 20."
)
@json_option
@pass_state
def create_deployment(
    state: CliState,
    name: str,
    model: str,
    version: str,
    hardware: str,
    min_instances: int,
    max_instances: int,
    as_json: bool,
) -> None:
    """Create a deployment NAME under your account."""

    async def main() -> None:
        async with state.client() as client:
            deployment = await client.deployments.async_create(
                name=name,
                model=model,
                version=version,
                hardware=hardware,
                min_instances=min_instances,
                max_instances=max_instances,
            )
        echo_json(deployment) if as_json else _show(state, deployment)

    state.run(main, as_json=as_json)


@deployments_group.command("get")
@click.argument("deployment")
@json_option
@pass_state
def get_deployment(state: CliState, deployment: str, as_json: bool) -> None:
    """Show a deployment (OWNER/NAME) and its current release."""

    async def main() -> None:
        async with state.client() as client:
            found = await client.deployments.async_get(deployment)
        echo_json(found) if as_json else _show(state, found)

    state.run(main, as_json=as_json)


@deployments_group.command("list")
@click.option(
    "--limit", type=click.IntRange(min=0), default=50, show_default=True, help="At most N."
)
@json_option
@pass_state
def list_deployments(state: CliState, limit: int, as_json: bool) -> None:
    """List your deployments."""

    async def main() -> None:
        async with state.client() as client:
            found = await collect(await client.deployments.async_list(), limit)
        if as_json:
            echo_json(found)
            return
        rows = []
        for d in found:
            release = d.current_release
            config = release.configuration if release else None
            rows.append(
                (
                    d.id,
                    release.number if release else None,
                    release.model if release else None,
                    config.hardware if config else None,
                )
            )
        show_table(state.out, rows, ["deployment", "release", "model", "hardware"])

    state.run(main, as_json=as_json)


@deployments_group.command("update")
@click.argument("deployment")
@click.option("--version", metavar="ID", help="Deploy this version.")
@click.option("--hardware", metavar="SKU", help="Move to this hardware.")
@click.option("--min-instances", type=click.IntRange(0, 5), help="0 to 5.")
@click.option("--max-instances", type=click.IntRange(0, 20), help="0 to 20.")
@json_option
@pass_state
def update_deployment(
    state: CliState,
    deployment: str,
    version: str | None,
    hardware: str | None,
    min_instances: int | None,
    max_instances: int | None,
    as_json: bool,
) -> None:
    """Change a deployment; every update creates a new release."""

    async def main() -> None:
        async with state.client() as client:
            updated = await client.deployments.async_update(
                deployment,
                version=version,
                hardware=hardware,
                min_instances=min_instances,
                max_instances=max_instances,
            )
        echo_json(updated) if as_json else _show(state, updated)

    state.run(main, as_json=as_json)


@deployments_group.command("delete")
@click.argument("deployment")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@pass_state
def delete_deployment(state: CliState, deployment: str, yes: bool, as_json: bool) -> None:
    """Delete a deployment."""
    confirm(f"Delete deployment {deployment}?", yes)

    async def main() -> None:
        async with state.client() as client:
            await client.deployments.async_delete(deployment)
        if as_json:
            echo_json({"deleted": deployment})
        else:
            state.out.print(f"deleted {deployment}", highlight=False)

    state.run(main, as_json=as_json)

"""``replicate-async types MODEL... [-o FILE]``: a typed module for these models; and
``replicate-async models diff MODEL V1 V2``: what changed in its inputs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._context import CliState, json_option, pass_state
from ._errors import CliError
from ._render import echo_json

if TYPE_CHECKING:
    from .. import SchemaDiff

__all__ = ["diff_command", "types_command"]


@click.command("types")
@click.argument("models", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the module to FILE (default: print it).",
)
@pass_state
def types_command(state: CliState, models: tuple[str, ...], output: Path | None) -> None:
    """Write Python types for MODELs (owner/name or owner/name:version): per model, a
    TypedDict of its input and a typed function that runs that version."""

    async def main() -> str:
        from ..typegen import ModelTypes, generate_module

        items: list[ModelTypes] = []
        async with state.client() as client:
            for ref in models:
                name, _, version_id = ref.partition(":")
                if "/" not in name:
                    raise CliError(f"{ref!r}: expected owner/name or owner/name:version")
                model = await client.models.async_get(name)
                version = (
                    await client.models.versions.async_get(name, version_id)
                    if version_id
                    else model.latest_version
                )
                if version is None or not isinstance(version.openapi_schema, dict):
                    raise CliError(f"{ref}: the model has no version with a schema to read")
                items.append(
                    ModelTypes(name, version.id, version.openapi_schema, model.description)
                )
        return generate_module(items)

    source = state.run(main)
    if output is None:
        click.echo(source, nl=False)
        return
    output.write_text(source, encoding="utf-8")
    state.err.print(f"Wrote types of {len(models)} model(s) to {output}")


@click.command("diff")
@click.argument("model")
@click.argument("before")
@click.argument("after")
@json_option
@pass_state
def diff_command(state: CliState, model: str, before: str, after: str, as_json: bool) -> None:
    """Show which inputs changed between two versions of MODEL (owner/name): added, removed,
    and changed type, default, range or enum. Exit code 0 either way."""

    async def main() -> SchemaDiff:
        async with state.client() as client:
            return await client.models.versions.async_diff(before, after, model=model)

    diff = state.run(main, as_json=as_json)
    if as_json:
        echo_json(
            {
                "before": diff.before,
                "after": diff.after,
                "added": list(diff.added),
                "removed": list(diff.removed),
                "changed": [
                    {"field": c.field, "aspect": c.aspect, "before": c.before, "after": c.after}
                    for c in diff.changed
                ],
                "output": list(diff.output) if diff.output else None,
            }
        )
        return
    click.echo(str(diff))

"""``replicate-async models get|list|search|versions|readme`` and ``collections list|get``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click
from rich.markdown import Markdown

from ._context import CliState, json_option, pass_state
from ._render import collect, echo_json, show_record, show_table
from .types import diff_command

if TYPE_CHECKING:
    from .. import Model

__all__ = ["collections_group", "models_group"]

limit_option = click.option(
    "--limit", type=click.IntRange(min=0), default=50, show_default=True, help="At most N items."
)


def _model_row(model: Model) -> tuple[Any, ...]:
    return (model.id, model.run_count, model.description)


@click.group("models")
def models_group() -> None:
    """Browse and search models."""


@models_group.command("get")
@click.argument("model")
@json_option
@pass_state
def get_model(state: CliState, model: str, as_json: bool) -> None:
    """Show a model (MODEL is owner/name) and its latest version."""

    async def main() -> None:
        async with state.client() as client:
            found = await client.models.async_get(model)
        if as_json:
            echo_json(found)
            return
        latest = found.latest_version
        show_record(
            state.out,
            [
                ("model", found.id),
                ("description", found.description),
                ("visibility", found.visibility),
                ("runs", found.run_count),
                ("url", found.url),
                ("latest version", latest.id if latest else None),
                ("github", found.github_url),
                ("paper", found.paper_url),
            ],
        )

    state.run(main, as_json=as_json)


@models_group.command("list")
@limit_option
@json_option
@pass_state
def list_models(state: CliState, limit: int, as_json: bool) -> None:
    """List public models (following pages up to --limit)."""

    async def main() -> None:
        async with state.client() as client:
            models = await collect(await client.models.async_list(), limit)
        if as_json:
            echo_json(models)
            return
        show_table(
            state.out,
            [_model_row(m) for m in models],
            ["model", "runs", "description"],
            title="models",
        )

    state.run(main, as_json=as_json)


@models_group.command("search")
@click.argument("query")
@click.option(
    "--limit", type=click.IntRange(1, 50), default=20, show_default=True, help="At most N models."
)
@json_option
@pass_state
def search_models(state: CliState, query: str, limit: int, as_json: bool) -> None:
    """Search public models (GET /search; needs no token)."""

    async def main() -> None:
        async with state.client() as client:
            results = await client.async_search(query, limit=limit)
        if as_json:
            echo_json(results)
            return
        rows = [
            (r.model.id, ", ".join(r.metadata.tags[:4]), r.model.description)
            for r in results.models
        ]
        show_table(state.out, rows, ["model", "tags", "description"], title="models")
        if results.collections:
            show_table(
                state.out,
                [(c.slug, c.name, c.description) for c in results.collections],
                ["slug", "name", "description"],
                title="collections",
            )

    state.run(main, as_json=as_json)


@models_group.command("versions")
@click.argument("model")
@limit_option
@json_option
@pass_state
def list_versions(state: CliState, model: str, limit: int, as_json: bool) -> None:
    """List a model's versions, newest first."""

    async def main() -> None:
        async with state.client() as client:
            versions = await collect(await client.models.versions.async_list(model), limit)
        if as_json:
            echo_json(versions)
            return
        rows = [(v.id, v.created_at, v.cog_version) for v in versions]
        show_table(state.out, rows, ["version", "created", "cog"], title="versions")

    state.run(main, as_json=as_json)


models_group.add_command(diff_command)


@models_group.command("readme")
@click.argument("model")
@click.option("--raw", is_flag=True, help="Print the Markdown source instead of rendering it.")
@json_option
@pass_state
def readme(state: CliState, model: str, raw: bool, as_json: bool) -> None:
    """Show a model's README."""

    async def main() -> None:
        async with state.client() as client:
            text = await client.models.async_readme(model)
        if as_json:
            echo_json({"model": model, "readme": text})
        elif raw or not state.out.is_terminal:
            click.echo(text)
        else:
            state.out.print(Markdown(text))

    state.run(main, as_json=as_json)


@click.group("collections")
def collections_group() -> None:
    """List curated collections of models."""


@collections_group.command("list")
@limit_option
@json_option
@pass_state
def list_collections(state: CliState, limit: int, as_json: bool) -> None:
    """List collections."""

    async def main() -> None:
        async with state.client() as client:
            found = await collect(await client.collections.async_list(), limit)
        if as_json:
            echo_json(found)
            return
        rows = [(c.slug, c.name, c.description) for c in found]
        show_table(state.out, rows, ["slug", "name", "description"], title="collections")

    state.run(main, as_json=as_json)


@collections_group.command("get")
@click.argument("slug")
@json_option
@pass_state
def get_collection(state: CliState, slug: str, as_json: bool) -> None:
    """Show a collection and its models."""

    async def main() -> None:
        async with state.client() as client:
            found = await client.collections.async_get(slug)
        if as_json:
            echo_json(found)
            return
        show_record(state.out, [("collection", found.slug), ("name", found.name)])
        show_table(
            state.out,
            [_model_row(m) for m in found.models or []],
            ["model", "runs", "description"],
            title="models",
        )

    state.run(main, as_json=as_json)

"""``replicate-async files create|get|list|delete``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ._context import CliState, confirm, json_option, pass_state
from ._errors import CliError
from ._render import collect, echo_json, show_record, show_table

if TYPE_CHECKING:
    from .. import File

__all__ = ["files_group"]


def _show(state: CliState, file: File) -> None:
    show_record(
        state.out,
        [
            ("id", file.id),
            ("name", file.name),
            ("content type", file.content_type),
            ("size", file.size),
            ("sha256", (file.checksums or {}).get("sha256")),
            ("created", file.created_at),
            ("expires", file.expires_at),
            ("url", file.url),
        ],
    )


@click.group("files")
def files_group() -> None:
    """Upload, list, get and delete files (pass a file's URL as a model input)."""


@files_group.command("create")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--content-type", metavar="TYPE", help="MIME type (default: guessed).")
@click.option("--metadata", metavar="JSON", help="A JSON object stored with the file.")
@json_option
@pass_state
def create_file(
    state: CliState, path: Path, content_type: str | None, metadata: str | None, as_json: bool
) -> None:
    """Upload the file at PATH (streamed from disk; files must be under 100 MB)."""
    meta: Any = None
    if metadata is not None:
        try:
            meta = json.loads(metadata)
        except ValueError as exc:
            raise CliError(f"--metadata is not JSON: {exc}") from None
        if not isinstance(meta, dict):
            raise CliError('--metadata must be a JSON object, such as \'{"owner": "me"}\'')

    async def main() -> None:
        async with state.client() as client:
            file = await client.files.async_create(path, content_type=content_type, metadata=meta)
        echo_json(file) if as_json else _show(state, file)

    state.run(main, as_json=as_json)


@files_group.command("get")
@click.argument("file_id")
@json_option
@pass_state
def get_file(state: CliState, file_id: str, as_json: bool) -> None:
    """Show an uploaded file."""

    async def main() -> None:
        async with state.client() as client:
            file = await client.files.async_get(file_id)
        echo_json(file) if as_json else _show(state, file)

    state.run(main, as_json=as_json)


@files_group.command("list")
@click.option(
    "--limit", type=click.IntRange(min=0), default=50, show_default=True, help="At most N."
)
@json_option
@pass_state
def list_files(state: CliState, limit: int, as_json: bool) -> None:
    """List your uploaded files, newest first."""

    async def main() -> None:
        async with state.client() as client:
            found = await collect(await client.files.async_list(), limit)
        if as_json:
            echo_json(found)
            return
        rows = [(f.id, f.name, f.size, f.content_type, f.created_at) for f in found]
        show_table(state.out, rows, ["id", "name", "size", "type", "created"], title="files")

    state.run(main, as_json=as_json)


@files_group.command("delete")
@click.argument("file_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@pass_state
def delete_file(state: CliState, file_id: str, yes: bool, as_json: bool) -> None:
    """Delete an uploaded file."""
    confirm(f"Delete file {file_id}?", yes)

    async def main() -> None:
        async with state.client() as client:
            await client.files.async_delete(file_id)
        if as_json:
            echo_json({"deleted": file_id})
        else:
            state.out.print(f"deleted {file_id}", highlight=False)

    state.run(main, as_json=as_json)

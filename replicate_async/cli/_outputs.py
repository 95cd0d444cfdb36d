"""Presenting a prediction's output: shape it by the model's schema, save its files under a
directory with safe names, print text as text and everything else as JSON."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .. import ConfigurationError, ReplicateAsyncError
from .. import unique_path as _unique_path
from ._errors import CliError
from ._render import to_jsonable

if TYPE_CHECKING:
    from .. import Client, FileOutput, Prediction

__all__ = [
    "print_output",
    "save_file",
    "save_files",
    "shape_output",
    "shown_output",
    "unique_path",
    "walk_files",
    "with_shown_output",
]


async def shape_output(client: Client, prediction: Prediction) -> Any:
    """The prediction's output shaped by its version's schema, as ``run()`` shapes it: token
    streams joined into text, ``format: uri`` values as :class:`FileOutput` (nothing else).
    Raises the library's error for a failed, canceled or aborted prediction."""
    del client  # the prediction is bound to it
    return await prediction.async_result()


async def shown_output(prediction: Prediction) -> Any:
    """The output to show for a prediction read back (``predictions get``/``list``): once it
    succeeded, shaped as ``run`` prints it (token streams joined into text, files as URLs);
    before that, or when its schema cannot be read, as the API sent it."""
    if prediction.status != "succeeded" or prediction.output is None:
        return prediction.output
    try:
        return await prediction.async_result(use_file_output=False)
    except ReplicateAsyncError:
        return prediction.output


def with_shown_output(prediction: Prediction, output: Any) -> dict[str, Any]:
    """The prediction's JSON form with ``output`` as shown."""
    data: dict[str, Any] = to_jsonable(prediction)
    data["output"] = to_jsonable(output)
    return data


def walk_files(value: Any, replace: Callable[[FileOutput], Any]) -> Any:
    """``value`` with every :class:`FileOutput` in it replaced by ``replace(file)``."""
    from .. import FileOutput

    if isinstance(value, FileOutput):
        return replace(value)
    if isinstance(value, dict):
        return {k: walk_files(v, replace) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [walk_files(v, replace) for v in value]
    return value


def unique_path(directory: Path, name: str, taken: set[str]) -> Path:
    """``directory/name``, or ``name-1``, ``name-2`` … when taken; never outside ``directory``
    (the library's :func:`replicate_async.unique_path`, as a CLI error)."""
    try:
        return _unique_path(directory.resolve(), name, taken)
    except ConfigurationError as exc:
        raise CliError(str(exc)) from None


async def save_file(file: FileOutput, directory: Path, taken: set[str]) -> Path:
    """Download one file into ``directory`` (created if needed) under a safe, unused name."""
    try:
        await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot create output directory {directory}: {exc}") from exc
    path: Path = await file.async_save(unique_path(directory, file.filename, taken))
    return path


async def save_files(output: Any, directory: Path) -> tuple[Any, list[Path]]:
    """Download every file of ``output`` into ``directory`` (created if needed).

    Returns the output with each file replaced by the path it was saved to, and those paths.
    File names come from the URL's last path segment, made safe (no separators, no ``..``,
    no control characters); a name already taken gets a ``-1`` suffix rather than being
    overwritten.
    """
    files: list[FileOutput] = []
    walk_files(output, files.append)
    if not files:
        return output, []
    taken: set[str] = set()
    saved: dict[int, Path] = {}
    for file in files:
        saved[id(file)] = await save_file(file, directory, taken)
    paths = [saved[id(f)] for f in files]
    return walk_files(output, lambda f: str(saved[id(f)])), paths


def print_output(output: Any) -> None:
    """Text as text; a list of scalars one per line; anything else as indented JSON."""
    if output is None:
        return
    if isinstance(output, str):
        click.echo(output)
    elif isinstance(output, (int, float, bool)):
        click.echo(json.dumps(output))
    elif isinstance(output, list) and all(isinstance(v, (str, int, float)) for v in output):
        for item in output:
            click.echo(item)
    else:
        click.echo(json.dumps(to_jsonable(output), indent=2, ensure_ascii=False, default=str))

"""Printing results: JSON for scripts, rich tables and key/value panels for people."""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = ["collect", "echo_json", "plain", "show_record", "show_table", "to_jsonable"]

T = TypeVar("T")


def to_jsonable(value: Any) -> Any:
    """``to_dict()`` for the library's data classes, recursively; files become their URLs."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_jsonable(to_dict())
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    url = getattr(value, "url", None)
    if isinstance(url, str):
        return url
    return str(value)


def echo_json(value: Any) -> None:
    """Print ``value`` as one JSON document on stdout."""
    click.echo(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False, default=str))


def plain(value: Any, limit: int = 80) -> str:
    """A cell: ``-`` for nothing, short JSON for structures, truncated text."""
    if value is None or value == "":
        return "-"
    if isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
    elif isinstance(value, (Mapping, list, tuple)):
        text = json.dumps(to_jsonable(value), ensure_ascii=False, default=str)
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def show_table(
    console: Console,
    rows: Sequence[Sequence[Any]],
    columns: Sequence[str],
    *,
    title: str | None = None,
) -> None:
    """A table of rows (each cell through :func:`plain`), or a note that there are none.

    On a terminal, the table fits its width: one line per row, long cells cut with ``…``
    (the last column, descriptions, gives way first). Off a terminal (a pipe, a file), it is
    plain tab-separated values, one line per row and no header, as ``cut``/``awk`` expect;
    ``--json`` gives every field.
    """
    if not console.is_terminal:
        for row in rows:
            click.echo("\t".join(plain(cell, limit=_TSV_CELL_LIMIT) for cell in row))
        return
    if not rows:
        console.print(f"[dim]No {title or 'results'}.[/dim]")
        return
    cells = [[plain(cell) for cell in row] for row in rows]
    widths = fit_widths(
        [max(len(column), *(len(row[i]) for row in cells)) for i, column in enumerate(columns)],
        console.width - (3 * len(columns) + 1),  # borders and one space each side of a cell
    )
    table = Table(title=title, title_justify="left", header_style="bold")
    for column, width in zip(columns, widths, strict=True):
        table.add_column(column, no_wrap=True, overflow="ellipsis", width=width)
    for row in cells:
        table.add_row(*(escape(cut(cell, width)) for cell, width in zip(row, widths, strict=True)))
    console.print(table, soft_wrap=False)


def cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, ending in ``…`` when cut."""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def fit_widths(natural: Sequence[int], available: int, *, floor: int = 6) -> list[int]:
    """Column widths within ``available`` characters (pure): the natural widths when they fit;
    else the widest columns give way first (the last column, descriptions, counting half its
    width, so it keeps about twice the room of the others), down to ``floor``; the first
    column (ids, names) only when nothing else can."""
    widths = list(natural)
    last = len(widths) - 1
    excess = sum(widths) - max(available, len(widths) * floor)

    def weight(i: int) -> float:
        return widths[i] * (0.5 if i == last and last > 0 else 1.0)

    while excess > 0:
        candidates = [i for i in range(1, len(widths)) if widths[i] > floor]
        if not candidates:
            candidates = [i for i in range(len(widths)) if widths[i] > floor]
        if not candidates:
            break
        widest = max(candidates, key=weight)
        widths[widest] -= 1
        excess -= 1
    return widths


_TSV_CELL_LIMIT = 10_000
"""Longest cell of tab-separated output (a description, not a document)."""


def show_record(console: Console, fields: Iterable[tuple[str, Any]], *, title: str = "") -> None:
    """One object as aligned ``key  value`` lines."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for key, value in fields:
        grid.add_row(key, escape(plain(value, limit=400)))
    if title:
        console.print(f"[bold]{escape(title)}[/bold]")
    console.print(grid)


async def collect(items: AsyncIterable[T], limit: int | None) -> list[T]:
    """The first ``limit`` items (all with ``None``) of an async iterable; stops fetching pages
    once it has enough."""
    result: list[T] = []
    if limit is not None and limit <= 0:
        return result
    iterator = aiter(items)
    try:
        async for item in iterator:
            result.append(item)
            if limit is not None and len(result) >= limit:
                break
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()
    return result

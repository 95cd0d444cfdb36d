"""``replicate-async eval CONFIG``: run an eval config (prompts × providers × tests)."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..providers import (
    DEFAULT_EVAL_CONCURRENCY,
    EvalConfig,
    EvalResult,
    load_eval_config,
    run_eval,
    write_results,
)
from ._context import CliState, json_option, pass_state
from ._errors import EXIT_FAILED
from ._render import plain

__all__ = ["eval_command", "results_table", "results_tsv", "summary_line"]

_HEX64 = re.compile(r"\b[0-9a-f]{64}\b")  # version ids: the first 8 digits name them in headers


def results_table(config: EvalConfig, results: list[EvalResult], *, width: int = 160) -> Table:
    """One row per test × prompt, one column per provider (promptfoo's layout)."""
    names = sorted({name for test in config.tests for name in test.vars})
    table = Table(title=config.description or "eval results", title_justify="left")
    table.add_column("#", justify="right", style="dim")
    for name in names:
        table.add_column(escape(name), overflow="fold")
    table.add_column("prompt", overflow="fold")
    for provider in config.providers:
        table.add_column(escape(_HEX64.sub(lambda m: m[0][:8], provider.name)), overflow="fold")
    rows: dict[tuple[int, int], dict[int, EvalResult]] = {}
    for result in results:
        rows.setdefault((result.test_index, result.prompt_index), {})[result.provider_index] = (
            result
        )
    limit = max(120, 3 * width // max(1, len(config.providers) + 1))
    for n, ((t, p), by_provider) in enumerate(sorted(rows.items()), start=1):
        test, prompt = config.tests[t], config.prompts[p]
        cells = [str(n), *(escape(plain(test.vars.get(name))) for name in names)]
        cells.append(escape(plain(prompt.label or prompt.raw, 60)))
        for v in range(len(config.providers)):
            found = by_provider.get(v)
            if found is None:
                cells.append("-")
            else:
                cells.append(_cell(found, limit))
        table.add_row(*cells)
    return table


_MARKS = {
    "passed": "[green][PASS][/green]",
    "failed": "[red][FAIL][/red]",
    "not checked": "[yellow][NOT CHECKED][/yellow]",
    "error": "[red][ERROR][/red]",
}


def _cell(result: EvalResult, limit: int) -> str:
    """The verdict mark (when the test has assertions, or on error), the output or error,
    then why each assertion that did not pass did not."""
    text = escape(plain(result.summary(), limit))
    if result.verdict == "error":
        return f"{_MARKS['error']} [red]{text}[/red]"
    if not result.checks:
        return text
    lines = [f"{_MARKS[result.verdict]} {text}"]
    for check in result.checks:
        if check.verdict != "passed":
            lines.append(f"[dim]{escape(check.verdict)}: {escape(plain(check.reason, 120))}[/dim]")
    return "\n".join(lines)


def results_tsv(results: list[EvalResult]) -> list[str]:
    """One tab-separated line per case: index, provider, verdict, output or error, then the
    reason of each assertion that did not pass."""
    lines = []
    for result in results:
        reasons = [f"{c.verdict}: {c.reason}" for c in result.checks if c.verdict != "passed"]
        cells = [str(result.index), result.provider, result.verdict, result.summary(), *reasons]
        lines.append("\t".join(plain(cell, limit=10_000) for cell in cells))
    return lines


def summary_line(results: list[EvalResult]) -> str:
    """``3 passed, 1 failed, 1 not checked, 0 errors``: a case whose assertion could not be
    checked is never counted as passed."""
    counts = Counter(r.verdict for r in results)
    return (
        f"{counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['not checked']} not checked, "
        f"{counts['error']} error{'' if counts['error'] == 1 else 's'}"
    )


@click.command("eval")
@click.argument(
    "config_path",
    metavar="CONFIG",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write one JSON line per case here; output files go to <name>_files/ beside it.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=DEFAULT_EVAL_CONCURRENCY,
    show_default=True,
    help="Predictions at once, per provider.",
)
@click.option(
    "--timeout", type=click.FloatRange(min=0, min_open=True), help="Seconds per prediction."
)
@click.option(
    "--unsupported",
    type=click.Choice(["drop", "send", "error"]),
    default="drop",
    show_default=True,
    help="Parameters a model's schema does not declare: drop them, send them, or stop.",
)
@json_option
@pass_state
def eval_command(
    state: CliState,
    config_path: Path,
    output: Path | None,
    concurrency: int,
    timeout: float | None,
    unsupported: str,
    as_json: bool,
) -> None:
    """Run every prompt of CONFIG through every provider, for every test's variables.

    CONFIG is YAML as promptfoo writes it: prompts (with {{var}} placeholders), providers
    (replicate:owner/name[:version], replicate:image:…, replicate:moderation:… with a config)
    and tests (vars, assert). Deterministic assertions (equals, contains, icontains,
    contains-any/-all, starts-with, regex, is-json, contains-json, levenshtein, latency and
    their not- forms) are checked; any other type is reported as "not checked", never as
    passed. Prints a table (or JSON lines with --json); exits with 1 if any case failed or
    ended in an error.
    """

    async def main() -> list[EvalResult]:
        config = load_eval_config(config_path)
        for key in config.ignored:
            state.err.print(f"[yellow]note:[/yellow] {escape(key)} is not used by this command")
        total = len(config.cases())
        async with state.client() as client:
            with _progress(state.err, total, enabled=not as_json) as progress:
                task = progress.add_task("eval", total=total)
                results = await run_eval(
                    config,
                    client=client,
                    environ=os.environ,
                    concurrency=concurrency,
                    unsupported=unsupported,  # type: ignore[arg-type]  # click.Choice
                    timeout=timeout,
                    on_result=lambda _: progress.advance(task),
                )
            if output is not None:
                results = await write_results(results, output)
        if as_json:
            for result in results:
                click.echo(json.dumps(result.to_json(), ensure_ascii=False, default=str))
        else:
            if state.out.is_terminal:
                state.out.print(results_table(config, results, width=state.out.width))
            else:  # a pipe or a file: one tab-separated line per case
                for line in results_tsv(results):
                    click.echo(line)
            # In a pipe, stdout holds only the rows; the summary goes to stderr.
            notes = state.out if state.out.is_terminal else state.err
            notes.print(summary_line(results), highlight=False)
            if output is not None:
                notes.print(f"results: {escape(str(output))}", highlight=False)
        return results

    results = state.run(main, as_json=as_json)
    if any(r.verdict in ("failed", "error") for r in results):
        raise click.exceptions.Exit(EXIT_FAILED)


def _progress(console: Console, total: int, *, enabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold]eval[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not enabled or total == 0,
    )

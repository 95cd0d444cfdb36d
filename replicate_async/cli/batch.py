"""``replicate-async batch MODEL --input inputs.jsonl --output results.jsonl``.

Runs every line of a JSONL file through a model with bounded concurrency, inside the rate
limit, with a live progress bar. Results are appended (and flushed) as items finish, so a
crash or Ctrl-C loses nothing, and running the same command again skips what is done and
finishes the rest; predictions that were running when the previous run died are followed
instead of created again (see ``_batch_files``). Bad input lines are reported with their line
numbers and written as failed results; they never stop the batch.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import click
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from .. import (
    BatchItem,
    BatchProgress,
    BatchResult,
    BatchStoppedError,
    Client,
    Prediction,
    TokenBucketLimiter,
)
from ..batch import DEFAULT_CONCURRENCY
from ._batch_files import (
    Done,
    InputLine,
    Journal,
    Key,
    Pending,
    ResultsFile,
    canonical_hash,
    read_input,
)
from ._context import CliState, json_option, pass_state
from ._errors import EXIT_FAILED, EXIT_INTERRUPTED
from ._render import echo_json

__all__ = ["batch_command"]

INVALID_LINE = "InvalidInputLine"
ORPHAN_SLACK = 300.0
"""Seconds before a journaled start to look back for a prediction whose id was never saved."""
ORPHAN_PAGES = 50


class _Rate(ProgressColumn):
    """Items per second over rich's moving window."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- items/s" if speed is None else f"{speed:,.1f} items/s", style="cyan")


@attrs.define
class _Counts:
    total: int = 0
    skipped: int = 0
    succeeded: int = 0
    failed: int = 0
    invalid: int = 0
    in_flight: int = 0
    canceled: int = 0
    adopted: int = 0


class _BatchRun:
    """One invocation: the files, the counts and the progress display."""

    def __init__(self, model: str, input_path: Path, output_path: Path, err: Console) -> None:
        self.model = model
        self.input_path = input_path
        self.results = ResultsFile(output_path)
        self.journal = Journal(output_path)
        self.err = err
        self.counts = _Counts()
        self.done: dict[Key, Done] = {}  # what the results file already holds
        self.retry_failed = False
        self.running: dict[int, tuple[str, int]] = {}  # line -> (hash, attempt), in flight
        self.progress: Progress | None = None
        self.task_id: Any = None

    # -- planning ----------------------------------------------------------------------------
    def plan(self, retry_failed: bool) -> tuple[dict[Key, Pending], dict[Key, Any]]:
        """Count the items to run; return the journaled predictions to follow and the inputs
        of journaled items whose prediction id was never saved (matched against the API)."""
        self.retry_failed = retry_failed
        self.done = self.results.load()
        journal = self.journal.load()
        live: dict[Key, Pending] = {}
        orphans: dict[Key, Any] = {}
        for line in read_input(self.input_path):
            key = line.key
            found = self.done.get(key)
            if self.skips(found):
                self.counts.skipped += 1
                continue
            self.counts.total += 1
            entry = journal.get(key)
            if entry is None or entry.attempt != (found.count if found is not None else 0):
                continue  # not started, or started by an attempt whose result is written
            live[key] = entry
            if entry.prediction_id is None:
                with contextlib.suppress(ValueError):
                    orphans[key] = line.parse()
        return live, orphans

    def skips(self, found: Done | None) -> bool:
        """Whether an item with this result (or none) is already done."""
        if found is None:
            return False
        return (
            not self.retry_failed or found.status == "succeeded" or found.error_type == INVALID_LINE
        )

    async def find_orphans(
        self, client: Client, live: dict[Key, Pending], orphans: dict[Key, Any]
    ) -> None:
        """Predictions created just before a crash, whose ids the journal never got: find them
        among the account's recent predictions (same model, same input) and follow them."""
        if not orphans:
            return
        wanted: dict[str, list[Key]] = {}
        for key, value in orphans.items():
            wanted.setdefault(canonical_hash(value), []).append(key)
        known = {entry.prediction_id for entry in live.values() if entry.prediction_id}
        cutoff = min(live[key].started for key in orphans) - ORPHAN_SLACK
        model = self.model.split(":", 1)[0]
        page = await client.predictions.async_list()
        for _ in range(ORPHAN_PAGES):
            for prediction in page.results:
                created = prediction.created_at
                if created is not None and created.timestamp() < cutoff:
                    return
                keys = wanted.get(canonical_hash(prediction.input or {}))
                if keys and prediction.model == model and prediction.id not in known:
                    live[keys.pop(0)].prediction_id = prediction.id
                    known.add(prediction.id)
            next_page = await page.async_next_page()
            if next_page is None:
                return
            page = next_page

    # -- running -----------------------------------------------------------------------------
    def items(self, live: dict[Key, Pending]) -> Iterator[BatchItem]:
        """The items to run, read lazily; bad lines are written as failed results here."""
        for line in read_input(self.input_path):
            key = line.key
            found = self.done.get(key)
            if self.skips(found):
                continue
            try:
                value = line.parse()
            except ValueError as exc:
                self.bad_line(line, key, str(exc))
                continue
            self.running[line.number] = (key[1], found.count if found is not None else 0)
            entry = live.get(key)
            adopt = entry.prediction_id if entry is not None else None
            self.counts.adopted += adopt is not None
            yield BatchItem(line.number, value, adopt)

    def bad_line(self, line: InputLine, key: Key, reason: str) -> None:
        self.err.print(f"[yellow]line {line.number}:[/yellow] {escape(reason)}")
        self.results.write(
            {
                "line": line.number,
                "input_hash": key[1],
                "status": "error",
                "prediction_id": None,
                "input": line.text,
                "output": None,
                "error": f"line {line.number}: {reason}",
                "error_type": INVALID_LINE,
            }
        )
        self.counts.invalid += 1
        self.counts.failed += 1
        self.advance()

    def starting(self, item: BatchItem, _: Prediction | None) -> None:
        digest, attempt = self.running[item.index]
        self.journal.starting((item.index, digest), attempt)

    def created(self, item: BatchItem, prediction: Prediction | None) -> None:
        if prediction is not None:
            self.journal.created((item.index, self.running[item.index][0]), prediction.id)

    def record(self, result: BatchResult) -> None:
        """Append a finished item to the results file."""
        error = result.error
        self.results.write(
            {
                "line": result.index,
                "input_hash": self.running.pop(result.index)[0],
                "status": result.status,
                "prediction_id": result.prediction_id,
                "input": result.input,
                "output": result.output,
                "error": str(error) if error is not None else None,
                "error_type": type(error).__name__ if error is not None else None,
            }
        )
        if result.ok:
            self.counts.succeeded += 1
        else:
            self.counts.failed += 1
        self.advance()

    def on_progress(self, progress: BatchProgress) -> None:
        self.counts.in_flight = progress.in_flight
        if not progress.final:
            self.advance(0)
            return
        for result in progress.undelivered:  # the batch was stopped: keep what finished
            if isinstance(result.error, BatchStoppedError):
                self.counts.canceled += 1  # not written: the next run starts it again
                self.journal.drop((result.index, self.running.pop(result.index)[0]))
            else:
                self.record(result)

    def advance(self, step: int = 1) -> None:
        if self.progress is None:
            return
        c = self.counts
        self.progress.update(
            self.task_id,
            advance=step,
            ok=c.succeeded,
            failed=c.failed,
            in_flight=c.in_flight,
        )

    def summary(self) -> dict[str, Any]:
        c = self.counts
        return {
            "input": str(self.input_path),
            "output": str(self.results.path),
            "items": c.total + c.skipped,
            "skipped": c.skipped,
            "succeeded": c.succeeded,
            "failed": c.failed,
            "invalid_lines": c.invalid,
            "canceled": c.canceled,
            "resumed": c.adopted,
        }


def _progress(console: Console, quiet: bool) -> Progress:
    return Progress(
        TextColumn("[bold]batch[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(
            "[green]✓ {task.fields[ok]}[/green] [red]✗ {task.fields[failed]}[/red] "
            "[blue]⟳ {task.fields[in_flight]}[/blue]"
        ),
        _Rate(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=quiet,
        transient=False,
    )


@click.command("batch")
@click.argument("model")
@click.option(
    "--input",
    "-i",
    "input_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSONL file: one JSON object of model inputs per line.",
)
@click.option(
    "--output",
    "-o",
    "output_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSONL file the results are appended to (re-running skips what it holds).",
)
@click.option(
    "--concurrency",
    "-c",
    type=click.IntRange(1, 10_000),
    default=DEFAULT_CONCURRENCY,
    show_default=True,
    help="Predictions running at once.",
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(0),
    default=None,
    metavar="N",
    help="Creates per minute allowed by this client (default 600; 0 turns the limiter off).",
)
@click.option("--timeout", type=click.FloatRange(0, min_open=True), help="Seconds per item.")
@click.option(
    "--retry-failed", is_flag=True, help="Also run again the items whose last result failed."
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@json_option
@pass_state
def batch_command(
    state: CliState,
    model: str,
    input_path: Path,
    output_path: Path,
    concurrency: int,
    rate_limit: float | None,
    timeout: float | None,
    retry_failed: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Run every line of a JSONL file through MODEL, appending results as they finish.

    Each output line holds the input's line number, a hash of the line, the status, the
    prediction id, the output or the error. Running the same command again skips the items
    already in the output file and finishes the rest (--retry-failed also re-runs failures).
    Ctrl-C cancels the running predictions; what finished is kept. Exit code 1 when an item
    failed, 130 when interrupted.
    """
    run = _BatchRun(model, input_path, output_path, state.err)

    async def main() -> bool:
        live, orphans = run.plan(retry_failed)
        async with state.client() as client:
            if rate_limit is not None:
                client.rate_limiter = batch_limiter(rate_limit)
            await run.find_orphans(client, live, orphans)
            results = client.batch(
                model,
                run.items(live),
                concurrency=concurrency,
                on_progress=run.on_progress,
                on_start=run.starting,
                on_created=run.created,
                wait=False,
                timeout=timeout,
                use_file_output=False,
            )
            run.progress = _progress(state.err, quiet)
            run.task_id = run.progress.add_task(
                "batch", total=run.counts.total, ok=0, failed=0, in_flight=0
            )
            run.results.open()
            run.journal.open(live)
            finished = False
            try:
                with run.progress:
                    async for result in results:
                        run.record(result)
                finished = True
            finally:
                run.results.close()
                run.journal.close(remove=finished)
        return finished

    started = time.monotonic()
    try:
        state.run(main, as_json=as_json)
    except click.exceptions.Exit as exc:
        if exc.exit_code == EXIT_INTERRUPTED:
            _report(state, run, as_json, time.monotonic() - started, interrupted=True)
        raise
    _report(state, run, as_json, time.monotonic() - started, interrupted=False)
    if run.counts.failed:
        raise click.exceptions.Exit(EXIT_FAILED)


def _report(
    state: CliState, run: _BatchRun, as_json: bool, elapsed: float, *, interrupted: bool
) -> None:
    summary = run.summary()
    summary["elapsed_s"] = round(elapsed, 3)
    summary["interrupted"] = interrupted
    if as_json:
        echo_json(summary)
        return
    c = run.counts
    state.err.print(
        f"{c.succeeded} succeeded, {c.failed} failed"
        + (f" ({c.invalid} invalid lines)" if c.invalid else "")
        + (f", {c.skipped} already done" if c.skipped else "")
        + (f", {c.adopted} resumed" if c.adopted else "")
        + f" in {elapsed:.1f}s; results in {escape(str(run.results.path))}"
    )
    if interrupted:
        state.err.print(
            f"[yellow]{c.canceled} running predictions were canceled.[/yellow] "
            "Run the same command again to finish the rest."
        )


def batch_limiter(rate_limit: float) -> TokenBucketLimiter | None:
    """The limiter of ``--rate-limit N``: N creates per minute at most, never learned above it
    (the user said how many); ``0``: none."""
    if rate_limit <= 0:
        return None
    return TokenBucketLimiter(rate_limit, create_max_per_minute=rate_limit)

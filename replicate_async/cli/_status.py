"""The live status line shown while a prediction runs: status, elapsed time, the last log line
and, when the logs carry one (``45%|████      | 45/100``), a progress bar.

:func:`parse_progress` and :func:`last_log_line` are pure; :class:`StatusLine` draws with
rich's ``Live`` on a terminal and prints one line per status change otherwise (CI logs, pipes).
"""

from __future__ import annotations

import re
import time
from types import TracebackType
from typing import Any

import attrs
from rich.console import Console, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.progress_bar import ProgressBar
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

__all__ = ["LogProgress", "StatusLine", "last_log_line", "parse_progress", "short_ref"]

# tqdm and friends: " 45%|████      | 45/100 [00:02<00:03, 20.1it/s]"; also "45% 45/100".
_PERCENT = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d+)?)\s?%\s*\|")
_COUNT = re.compile(r"(?<![\d.])(\d+)\s*/\s*(\d+)(?![\d.])")
_MAX_SCANNED_LINES = 20


@attrs.frozen
class LogProgress:
    """Progress read from a log line: ``percent`` (0–100) and, when shown, ``done``/``total``."""

    percent: float
    done: int | None = None
    total: int | None = None


def _lines(logs: str | None) -> list[str]:
    # Progress bars redraw with "\r": the text after the last "\r" is what a terminal shows.
    return [line.rsplit("\r", 1)[-1] for line in (logs or "").splitlines()]


def parse_progress(logs: str | None) -> LogProgress | None:
    """The progress shown by the latest progress-bar line of ``logs`` (``None``: none seen)."""
    for line in reversed(_lines(logs)[-_MAX_SCANNED_LINES:]):
        percent = _PERCENT.search(line)
        if percent is None:
            continue
        value = float(percent.group(1))
        if not 0 <= value <= 100:
            continue
        count = _COUNT.search(line, percent.end())
        if count is not None and int(count.group(2)) > 0:
            return LogProgress(value, int(count.group(1)), int(count.group(2)))
        return LogProgress(value)
    return None


def short_ref(ref: str) -> str:
    """``owner/name:7762fd07…`` for a reference with a 64-hex version (labels stay short)."""
    head, sep, version = ref.rpartition(":")
    if sep and len(version) > 12:
        return f"{head}:{version[:8]}…"
    if not sep and len(ref) == 64:
        return f"{ref[:8]}…"
    return ref


def last_log_line(logs: str | None, width: int = 80) -> str:
    """The last non-empty log line, shortened to ``width`` characters."""
    for line in reversed(_lines(logs)):
        text = " ".join(line.split())
        if text:
            return text if len(text) <= width else text[: width - 1] + "…"
    return ""


class StatusLine:
    """``with StatusLine(console, "meta/llama…") as line: line.update(prediction)``."""

    def __init__(self, console: Console, label: str, *, enabled: bool = True) -> None:
        self.console = console
        self.label = label
        self.started = time.monotonic()
        self.status = "contacting the API"  # no prediction yet: not Replicate's "starting"
        self.logs: str | None = None
        self.live_mode = enabled and console.is_terminal
        self.quiet = not enabled
        self._spinner = Spinner("dots", style="cyan")
        self._live: Live | None = None
        self._last_printed: str | None = None

    @property
    def elapsed(self) -> float:
        """Seconds since the status line was created."""
        return time.monotonic() - self.started

    def render(self) -> RenderableType:
        """The line as it is now (a rich renderable)."""
        grid = Table.grid(padding=(0, 1))
        grid.add_row(
            self._spinner,
            Text.from_markup(
                f"[bold]{escape(self.label)}[/bold] [cyan]{escape(self.status)}[/cyan] "
                f"[dim]{self.elapsed:5.1f}s[/dim]"
            ),
        )
        progress = parse_progress(self.logs)
        if progress is not None:
            counts = f" {progress.done}/{progress.total}" if progress.total else ""
            bar = Table.grid(padding=(0, 1))
            bar.add_row(
                ProgressBar(total=100.0, completed=progress.percent, width=30),
                Text(f"{progress.percent:3.0f}%{counts}"),
            )
            grid.add_row("", bar)
        last = last_log_line(self.logs, width=max(20, self.console.width - 4))
        if last:
            grid.add_row("", Text(last, style="dim"))
        return grid

    def update(self, job: Any) -> None:
        """Show a prediction's (or training's) latest ``status`` and ``logs``."""
        self.status = str(getattr(job, "status", None) or self.status)
        self.logs = getattr(job, "logs", None)
        if self._live is not None:
            self._live.update(self.render())
        elif not self.quiet and self.status != self._last_printed:
            self._last_printed = self.status
            self.console.print(
                f"{escape(self.label)}: {escape(self.status)} ({self.elapsed:.1f}s)",
                highlight=False,
            )

    def __enter__(self) -> StatusLine:
        if self.live_mode:
            self._live = Live(
                self.render(),
                console=self.console,
                refresh_per_second=10,
                transient=True,
                get_renderable=self.render,
            )
            self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.__exit__(exc_type, exc, tb)
            self._live = None

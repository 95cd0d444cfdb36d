"""Reports how many documentation examples ran and which were skipped, with their reasons."""

from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    reports = [
        r
        for key in ("passed", "failed", "skipped")
        for r in terminalreporter.stats.get(key, [])
        if getattr(r, "when", "call") in ("call", "setup")
        and "test_docs_examples.py::test_example_runs" in getattr(r, "nodeid", "")
    ]
    if not reports:
        return
    skipped = [r for r in reports if r.skipped]
    terminalreporter.write_sep("-", "documentation examples")
    terminalreporter.write_line(
        f"{len(reports) - len(skipped)} ran, {len(skipped)} skipped (each with its reason):"
    )
    for report in skipped:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        terminalreporter.write_line(f"  {reason.removeprefix('Skipped: ')}")

"""Exit codes and the one-screen error report of the command line.

Scripts can rely on these exit codes (documented in ``docs/cli.md``):

====  ==============================================================================
0     success
1     the prediction or training did not succeed (failed, canceled, aborted, timed out)
2     usage error: bad arguments, options, inputs or model reference
3     the API answered with an error, or could not be reached
4     authentication or configuration: no token, token refused (401/403), bad settings
70    an unexpected internal error (a bug: please report it, with ``--debug`` output)
130   interrupted (Ctrl-C); in-flight predictions started by the command are canceled
====  ==============================================================================
"""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from .. import (
    APITimeoutError,
    AuthenticationError,
    ConfigurationError,
    InvalidReferenceError,
    PermissionDeniedError,
    PredictionError,
    ReplicateAsyncError,
    ReplicateError,
    RunTimeoutError,
    TransportError,
)

__all__ = [
    "EXIT_API",
    "EXIT_CONFIG",
    "EXIT_FAILED",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "CliError",
    "error_payload",
    "exit_code_for",
    "report_error",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_API = 3
EXIT_CONFIG = 4
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130


class CliError(click.ClickException):
    """A usage error the command line reports itself (exit code 2): bad inputs or options."""

    exit_code = EXIT_USAGE


def exit_code_for(exc: BaseException) -> int:
    """The documented exit code for an exception (pure)."""
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, click.ClickException):
        return exc.exit_code
    if isinstance(exc, (PredictionError, RunTimeoutError)):
        return EXIT_FAILED
    if isinstance(exc, InvalidReferenceError):
        return EXIT_USAGE
    if isinstance(exc, (AuthenticationError, PermissionDeniedError, ConfigurationError)):
        return EXIT_CONFIG
    if isinstance(exc, (ReplicateError, TransportError)):
        return EXIT_API
    if isinstance(exc, ReplicateAsyncError):
        return EXIT_API
    return EXIT_INTERNAL


def _title(exc: BaseException) -> str:
    if isinstance(exc, ReplicateError):
        head = f"{exc.status} {exc.title}" if exc.title else f"HTTP {exc.status}"
        return f"API error: {head}" if exc.status else "API error"
    if isinstance(exc, PredictionError):
        return "Prediction did not succeed"
    if isinstance(exc, RunTimeoutError):
        return "Timed out"
    if isinstance(exc, ConfigurationError):
        return "Configuration error"
    if isinstance(exc, InvalidReferenceError):
        return "Invalid reference"
    if isinstance(exc, TransportError):
        return "Could not reach the API"
    if isinstance(exc, CliError):
        return "Error"
    return f"Unexpected error ({type(exc).__name__})"


def message_of(exc: BaseException, *, api_timeout: float | None = None) -> str:
    """The error's message in command-line terms: a prediction that did not succeed is told
    from the prediction itself, a timeout with the option that sets it (the library's
    messages speak to Python callers)."""
    if isinstance(exc, click.ClickException):
        return exc.format_message()
    if isinstance(exc, APITimeoutError):
        within = f" within {api_timeout:g} s" if api_timeout is not None else ""
        where = f"{exc.method} {exc.url}" if exc.method and exc.url else "the request"
        return (
            f"no answer from the API{within} ({where}), even after retrying.\n"
            "Check --base-url (REPLICATE_BASE_URL) and the network; if the API is only slow, "
            "raise --api-timeout (REPLICATE_CLI_API_TIMEOUT)."
        )
    prediction = exc.prediction if isinstance(exc, PredictionError) else None
    if prediction is None:
        return str(exc)
    status = prediction.status
    if status == "failed":
        return f"prediction {prediction.id} failed: {prediction.error or 'no error text'}"
    if status == "canceled":
        return f"prediction {prediction.id} was canceled"
    if status == "aborted":
        return (
            f"prediction {prediction.id} was aborted: its deadline (--cancel-after) passed "
            "before it started"
        )
    return f"prediction {prediction.id} ended with status {status}"


def error_payload(exc: BaseException, *, api_timeout: float | None = None) -> dict[str, Any]:
    """The machine-readable form of an error, printed under ``--json`` (pure)."""
    payload: dict[str, Any] = {
        "error": type(exc).__name__,
        # click's own errors name the option at fault only in their formatted message
        "message": message_of(exc, api_timeout=api_timeout),
        "exit_code": exit_code_for(exc),
    }
    if isinstance(exc, ReplicateError):
        payload.update(
            status=exc.status,
            title=exc.title,
            detail=exc.detail,
            invalid_fields=exc.invalid_fields,
            request_id=exc.request_id,
        )
    if isinstance(exc, PredictionError) and exc.prediction is not None:
        payload.update(
            prediction_id=exc.prediction.id,
            status=exc.prediction.status,
            detail=exc.prediction.error,
        )
    if isinstance(exc, RunTimeoutError):
        payload.update(prediction_id=exc.prediction_id, canceled=exc.canceled)
    return payload


def _lines(exc: BaseException, api_timeout: float | None) -> list[str]:
    """The body of the report: the detail, one line per invalid field, then hints."""
    if isinstance(exc, ReplicateError):
        detail = exc.detail or str(exc).splitlines()[0]
        lines = [escape(line) for line in detail.splitlines() if line.strip()]
        listed = "\n".join(lines)
        for item in exc.invalid_fields:
            field = str(item.get("field", "?"))
            what = str(item.get("description") or item.get("type", ""))
            if what not in listed:  # the detail often lists the fields already
                lines.append(escape(f"  - {field}: {what}"))
        if exc.method and exc.url:
            lines.append(f"[dim]{escape(exc.method)} {escape(exc.url)}[/dim]")
        if exc.request_id:
            lines.append(f"[dim]request id: {escape(exc.request_id)}[/dim]")
        if exc.hint:  # what to do about it: which token was refused, "did you mean" …
            lines.append(escape(exc.hint))
        if isinstance(exc, AuthenticationError):
            lines.append(
                "Or use --local to try the emulator."
                if exc.hint
                else "Set REPLICATE_API_TOKEN (or use --local to try the emulator)."
            )
        return lines
    message = message_of(exc, api_timeout=api_timeout)
    lines = [escape(line) for line in message.splitlines() if line.strip()]
    lines = lines or [escape(repr(exc))]
    if isinstance(exc, ConfigurationError) and "token" in str(exc).lower():
        lines.append(
            "Or try it offline first: replicate-async --local <command> (no token needed)."
        )
    if isinstance(exc, PredictionError) and exc.prediction is not None:
        logs = (exc.prediction.logs or "").strip().splitlines()
        if logs:
            lines.append("[dim]last log lines:[/dim]")
            lines.extend(f"[dim]  {escape(line)}[/dim]" for line in logs[-5:])
        lines.append(
            f"[dim]all its logs: replicate-async predictions get {exc.prediction.id} --json[/dim]"
        )
    return lines


def report_error(
    exc: BaseException, *, as_json: bool, console: Console, api_timeout: float | None = None
) -> int:
    """Print ``exc`` on one readable screen (or as JSON on stdout) and return the exit code.
    ``api_timeout``: the ``--api-timeout`` in effect, named when a call timed out."""
    code = exit_code_for(exc)
    if as_json:
        click.echo(json.dumps(error_payload(exc, api_timeout=api_timeout), default=str))
        return code
    console.print(f"[bold red]{escape(_title(exc))}[/bold red]")
    for line in _lines(exc, api_timeout):
        console.print(line, highlight=False)
    return code

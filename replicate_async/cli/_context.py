"""What every command shares: the global options, the client factory and the async runner."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import click
from rich.console import Console

from ._errors import EXIT_INTERRUPTED, CliError, report_error

if TYPE_CHECKING:
    # The client (and aiohttp) load when a command runs, not when its help or a usage error
    # is shown (tests/unit/test_lazy_imports.py).
    from .. import Client, Timeouts

__all__ = [
    "LOCAL_EMULATOR_OPTIONS",
    "CliState",
    "confirm",
    "json_option",
    "pass_state",
    "run_command",
]

T = TypeVar("T")

CONNECT_TIMEOUT = 5.0
"""Most seconds the command line waits for a connection to the API."""

LOCAL_EMULATOR_OPTIONS: dict[str, Any] = {"speed": 4.0}
"""Options of the emulator that ``--local`` starts: realistic behaviour, four times faster."""


@attrs.define
class CliState:
    """Global options, set by the group and read by every command."""

    local: bool = False
    base_url: str | None = None
    debug: bool = False
    api_timeout: float = 15.0
    emulator_options: dict[str, Any] = attrs.field(factory=lambda: dict(LOCAL_EMULATOR_OPTIONS))
    out: Console = attrs.field(factory=lambda: Console(soft_wrap=True))
    err: Console = attrs.field(factory=lambda: Console(stderr=True, soft_wrap=True))

    @contextlib.asynccontextmanager
    async def client(self, **kwargs: Any) -> AsyncIterator[Client]:
        """A client for the command: the API (or ``--base-url``), or with ``--local`` an
        emulator started for the duration of the command."""
        if self.local:
            from ..emulator import Emulator

            with quiet_server_logs(not self.debug):
                async with (
                    Emulator(**self.emulator_options) as emu,
                    emu.client(**kwargs) as client,
                ):
                    yield client
        else:
            from .. import Client

            kwargs.setdefault("timeout", self.timeouts())
            async with Client(base_url=self.base_url, **kwargs) as client:
                yield client

    def timeouts(self) -> Timeouts:
        """The command line's timeouts: an API call that gets no answer within
        ``--api-timeout`` seconds is retried, then reported (the library's defaults suit long
        programs, not a person waiting for a model lookup); connecting gets at most 5 s."""
        from .. import Timeouts

        return Timeouts(request=self.api_timeout, connect=min(CONNECT_TIMEOUT, self.api_timeout))

    def run(self, main: Callable[[], Coroutine[Any, Any, T]], *, as_json: bool = False) -> T:
        """Run a command's coroutine; map any error to its report and exit code."""
        return run_command(
            main,
            as_json=as_json,
            console=self.err,
            debug=self.debug,
            api_timeout=None if self.local else self.api_timeout,
        )


def run_command(
    main: Callable[[], Coroutine[Any, Any, T]],
    *,
    as_json: bool = False,
    console: Console | None = None,
    debug: bool = False,
    api_timeout: float | None = None,
) -> T:
    """``asyncio.run(main())`` with the CLI's error handling.

    Ctrl-C cancels the command's task (so ``run()`` cancels its remote prediction) and exits
    with 130; errors print one readable screen (or JSON) and exit with their documented code.
    """
    console = console or Console(stderr=True)
    try:
        return asyncio.run(_interruptible(main))
    except (click.exceptions.Exit, click.Abort):
        raise
    except click.ClickException as exc:
        if not as_json:
            raise
        code = report_error(exc, as_json=True, console=console)
        raise click.exceptions.Exit(code) from None
    except KeyboardInterrupt:
        console.print("[yellow]Interrupted.[/yellow]")
        raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
    except Exception as exc:
        if debug:
            console.print_exception(show_locals=False)
        code = report_error(exc, as_json=as_json, console=console, api_timeout=api_timeout)
        raise click.exceptions.Exit(code) from None


async def _interruptible(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``main()`` with Ctrl-C cancelling it, the same way on every Python version.

    The first Ctrl-C cancels the command's task, so every ``finally`` and ``except
    CancelledError`` below it runs (remote predictions are canceled, finished results are
    written) before :class:`KeyboardInterrupt` reaches :func:`run_command`; a second Ctrl-C
    stops at once. Left to itself, Python 3.10 raises ``KeyboardInterrupt`` wherever the loop
    happens to be, which can kill one task mid-step and skip its cleanup. The handler is
    installed even when SIGINT was ignored (a background job inherits ``SIG_IGN``).
    """
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    interrupts = 0

    def on_sigint() -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts > 1:
            raise KeyboardInterrupt
        task.cancel()

    try:
        loop.add_signal_handler(signal.SIGINT, on_sigint)
        installed = True
    except (NotImplementedError, RuntimeError, ValueError):  # not POSIX, or not main thread
        installed = False
    try:
        return await main()
    except asyncio.CancelledError:
        if interrupts:
            raise KeyboardInterrupt from None
        raise
    finally:
        if installed:
            loop.remove_signal_handler(signal.SIGINT)


pass_state = click.make_pass_decorator(CliState, ensure=True)


def json_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The ``--json`` flag every command has: machine-readable output on stdout."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout."
    )(fn)


SERVER_LOGGERS = ("aiohttp.server", "aiohttp.access", "aiohttp.web")


@contextlib.contextmanager
def quiet_server_logs(quiet: bool = True) -> Iterator[None]:
    """Hide the embedded emulator's own server log (a client hanging up mid-stream is routine
    for a server, not news for the user of a command); ``--debug`` shows it."""
    loggers = [logging.getLogger(name) for name in SERVER_LOGGERS] if quiet else []
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def confirm(question: str, yes: bool) -> None:
    """Ask before something destructive; ``--yes`` skips the question, and without a terminal
    to ask on, ``--yes`` is required (a script never deletes by accident)."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise CliError(f"{question} Pass --yes to confirm when not running interactively.")
    click.confirm(question, abort=True, err=True)


def configure_logging(debug: bool) -> None:
    """``--debug`` shows the library's debug log (retries, polling) on stderr."""
    if debug:
        from rich.logging import RichHandler

        handler = RichHandler(console=Console(stderr=True), show_path=False)
        # RichHandler shows the time and the level itself: the message alone (basicConfig
        # would otherwise give it the default "LEVEL:logger:message" format, levels twice).
        handler.setFormatter(logging.Formatter("%(message)s"))
        logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
        logging.getLogger("replicate_async").setLevel(logging.DEBUG)

"""The ``replicate-async`` command group, its global options and lazy sub-commands.

Sub-commands are imported only when used, so ``replicate-async --help`` stays fast and a
command whose module is not installed (``batch``, ``eval``) never breaks the others. For the
same reason this module imports only click: the client (and aiohttp, rich) load when a command
runs, and ``--version`` reads the version when asked.
"""

from __future__ import annotations

import importlib
import json
import re
import signal
import threading
from typing import Any

import click

__all__ = ["COMMANDS", "LazyGroup", "cli", "main"]

COMMANDS: dict[str, tuple[str, str, str]] = {
    # name: (module, attribute, one-line help shown even before the module is imported)
    "run": ("replicate_async.cli.run", "run_command", "Run a model and print or save its output."),
    "predictions": (
        "replicate_async.cli.predictions",
        "predictions_group",
        "Get, list, cancel and watch predictions.",
    ),
    "models": ("replicate_async.cli.models", "models_group", "Browse and search models."),
    "collections": (
        "replicate_async.cli.models",
        "collections_group",
        "List curated collections of models.",
    ),
    "account": ("replicate_async.cli.account", "account_command", "Show the token's account."),
    "hardware": ("replicate_async.cli.account", "hardware_command", "List hardware SKUs."),
    "trainings": (
        "replicate_async.cli.trainings",
        "trainings_group",
        "Create, get, list and cancel trainings.",
    ),
    "deployments": (
        "replicate_async.cli.deployments",
        "deployments_group",
        "Create, get, list, update and delete deployments.",
    ),
    "files": ("replicate_async.cli.files", "files_group", "Upload, list, get and delete files."),
    "webhooks": ("replicate_async.cli.webhooks", "webhooks_group", "Webhook signing secret."),
    "emulator": (
        "replicate_async.cli.emulator",
        "emulator_command",
        "Serve a local emulation of the Replicate API.",
    ),
    "batch": ("replicate_async.cli.batch", "batch_command", "Run many inputs through a model."),
    "eval": ("replicate_async.cli.eval", "eval_command", "Run an eval config (prompts x models)."),
    "demo": ("replicate_async.cli.demo", "demo_command", "A tour of the library in a minute."),
    "types": (
        "replicate_async.cli.types",
        "types_command",
        "Write Python types (TypedDicts, typed functions) for models.",
    ),
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use (from :data:`COMMANDS`)."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command name, registered or lazy, without importing any."""
        return sorted({*super().list_commands(ctx), *self.lazy})

    def _load(self, name: str) -> click.Command | None:
        module_name, attribute, _ = self.lazy[name]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise  # a real import error inside the module: let it show
            return None
        command = getattr(module, attribute, None)
        return command if isinstance(command, click.Command) else None

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command, imported now; a stand-in that explains when its module is missing."""
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in self.lazy:
            return command
        loaded = self._load(cmd_name)
        if loaded is not None:
            return loaded
        return _unavailable(cmd_name, self.lazy[cmd_name][2])

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Remember the raw arguments: an error found while parsing them must still honour
        ``--json``."""
        ctx.meta[_ARGV] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; no error ends in a traceback. A usage error (a bad option value,
        input or file) exits with 2; with ``--json`` every error is also a JSON object on
        stdout. Errors of the command's own work were already reported by ``run_command``."""
        # Imported here, not at the top: ``--help`` and ``--version`` never load the client.
        from .. import ReplicateAsyncError
        from ._context import CliState
        from ._errors import CliError, error_payload, report_error

        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except click.ClickException as exc:
            if _wants_json(ctx):
                click.echo(json.dumps(error_payload(exc), default=str))
            raise
        except ReplicateAsyncError as exc:
            # Raised before the command did any work: a value the library refused.
            usage = CliError(_in_cli_terms(str(exc), ctx.meta.get(_ARGV, [])))
            if _wants_json(ctx):
                click.echo(json.dumps(error_payload(usage), default=str))
            raise usage from None
        except Exception as exc:
            state = ctx.find_object(CliState)
            if state is not None and state.debug:
                raise
            from rich.console import Console

            code = report_error(exc, as_json=_wants_json(ctx), console=Console(stderr=True))
            raise click.exceptions.Exit(code) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List every command with its short help, without importing any of them."""
        rows = [(name, self.lazy[name][2]) for name in sorted(self.lazy)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


_ARGV = "replicate_async.argv"


def _wants_json(ctx: click.Context) -> bool:
    """Whether ``--json`` is among the command's raw arguments (before any ``--``)."""
    args: list[str] = ctx.meta.get(_ARGV, [])
    end = args.index("--") if "--" in args else len(args)
    return "--json" in args[:end]


def _in_cli_terms(message: str, args: list[str]) -> str:
    """The library names its parameters (``cancel_after``); say the option given instead
    (``--cancel-after``)."""

    def option(match: re.Match[str]) -> str:
        flag = "--" + match[0].replace("_", "-")
        return flag if any(a == flag or a.startswith(flag + "=") for a in args) else match[0]

    return re.sub(r"\b[a-z]+(?:_[a-z]+)+\b", option, message)


def _unavailable(name: str, summary: str) -> click.Command:
    def callback(**_: Any) -> None:
        from ._errors import CliError

        raise CliError(f"'{name}' is not available in this installation.")

    return click.Command(
        name,
        callback=callback,
        help=f"{summary} (not available in this installation)",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``--version``: the client's version (imported only when asked)."""
    if not value or ctx.resilient_parsing:
        return
    from .. import __version__

    click.echo(f"replicate-async, version {__version__}")
    ctx.exit()


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--local",
    is_flag=True,
    help="Run the command against an embedded emulator (no token, no network).",
)
@click.option(
    "--base-url",
    envvar="REPLICATE_BASE_URL",
    metavar="URL",
    help="API root (default https://api.replicate.com/v1; env REPLICATE_BASE_URL).",
)
@click.option(
    "--api-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=15.0,
    show_default=True,
    envvar="REPLICATE_CLI_API_TIMEOUT",
    metavar="SECONDS",
    help="Give up on an API call that gets no answer in this long (it is retried, then "
    "reported; env REPLICATE_CLI_API_TIMEOUT).",
)
@click.option("--debug", is_flag=True, help="Show the library's debug log and tracebacks.")
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and exit.",
)
@click.pass_context
def cli(
    ctx: click.Context, local: bool, base_url: str | None, api_timeout: float, debug: bool
) -> None:
    """replicate-async: run models on Replicate from the command line.

    The token comes from REPLICATE_API_TOKEN (or REPLICATE_API_KEY, or a .env file).
    Every command takes --json for scripts. Exit codes: 0 ok, 1 prediction failed or
    canceled, 2 usage, 3 API error, 4 auth or configuration, 130 interrupted.
    """
    from ._context import CliState, configure_logging

    configure_logging(debug)
    ctx.obj = CliState(local=local, base_url=base_url, debug=debug, api_timeout=api_timeout)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``replicate-async`` console script.

    Ctrl-C is made to interrupt even when SIGINT was ignored by the parent (a shell's
    background job, some CI runners): a child inherits ``SIG_IGN``, and Python then leaves
    Ctrl-C (and ``kill -INT``) without effect.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
    cli.main(args=argv, prog_name="replicate-async")

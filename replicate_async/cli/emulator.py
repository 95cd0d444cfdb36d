"""``replicate-async emulator``: serve a local Replicate API until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib

import click

from ._errors import CliError

__all__ = ["emulator_command"]


@click.command("emulator", context_settings={"ignore_unknown_options": False})
@click.option("--host", default="127.0.0.1", show_default=True, help="Bind address.")
@click.option(
    "--port",
    type=click.IntRange(0, 65533),  # the next two ports serve streams and files
    default=8787,
    show_default=True,
    help="API port; stream and file delivery use port+1 and port+2 (0: random ports).",
)
@click.option("--token", metavar="TOKEN", help="Accept only this API token (default: any).")
@click.option("--seed", type=int, help="Make ids and outputs repeatable.")
@click.option(
    "--speed",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    envvar="REPLICATE_EMULATOR_SPEED",
    help="Run X times faster (env: REPLICATE_EMULATOR_SPEED).",
)
@click.option("--no-rate-limit", is_flag=True, help="Turn off the 429 token buckets.")
@click.option(
    "--sync-quirk",
    is_flag=True,
    help="Prefer: wait answers text models early too: 'processing' with the full output.",
)
@click.option(
    "--tls",
    is_flag=True,
    help="Serve HTTPS with a local CA (prints its file and how to trust it; needs trustme).",
)
def emulator_command(
    host: str,
    port: int,
    token: str | None,
    seed: int | None,
    speed: float,
    no_rate_limit: bool,
    sync_quirk: bool,
    tls: bool,
) -> None:
    """Serve a local, offline emulation of the Replicate HTTP API until Ctrl-C.

    Point any Replicate client at it: REPLICATE_BASE_URL=http://127.0.0.1:8787/v1 and any
    non-empty REPLICATE_API_TOKEN (or the one given with --token).
    """
    from ..emulator import TLSUnavailableError, serve_forever  # not for --help or a usage error

    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(
                serve_forever(
                    host,
                    port,
                    token=token,
                    seed=seed,
                    speed=speed,
                    rate_limit=not no_rate_limit,
                    sync_quirk=sync_quirk,
                    tls=tls,
                )
            )
    except TLSUnavailableError as exc:  # --tls without trustme installed
        raise CliError(str(exc)) from None
    except OSError as exc:  # the port is taken, or the address cannot be bound
        raise CliError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    except ValueError as exc:  # an option the emulator refuses (speed <= 0 …)
        raise CliError(str(exc)) from None

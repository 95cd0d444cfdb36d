"""``replicate-async account`` and ``replicate-async hardware``."""

from __future__ import annotations

import click

from ._context import CliState, json_option, pass_state
from ._render import echo_json, show_record, show_table

__all__ = ["account_command", "hardware_command"]


@click.command("account")
@json_option
@pass_state
def account_command(state: CliState, as_json: bool) -> None:
    """Show the account that owns the API token."""

    async def main() -> None:
        async with state.client() as client:
            account = await client.account.async_get()
        if as_json:
            echo_json(account)
            return
        show_record(
            state.out,
            [
                ("username", account.username),
                ("name", account.name),
                ("type", account.type),
                ("github", account.github_url),
            ],
        )

    state.run(main, as_json=as_json)


@click.command("hardware")
@json_option
@pass_state
def hardware_command(state: CliState, as_json: bool) -> None:
    """List the hardware SKUs models and deployments can run on."""

    async def main() -> None:
        async with state.client() as client:
            hardware = await client.hardware.async_list()
        if as_json:
            echo_json(hardware)
            return
        show_table(
            state.out, [(h.sku, h.name) for h in hardware], ["sku", "name"], title="hardware"
        )

    state.run(main, as_json=as_json)

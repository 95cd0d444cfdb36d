"""``replicate-async webhooks secret``."""

from __future__ import annotations

import click

from ._context import CliState, json_option, pass_state
from ._render import echo_json

__all__ = ["webhooks_group"]


@click.group("webhooks")
def webhooks_group() -> None:
    """Webhooks: the signing secret to verify deliveries with."""


@webhooks_group.command("secret")
@json_option
@pass_state
def secret(state: CliState, as_json: bool) -> None:
    """Print the signing secret of your default webhook (whsec_…).

    Verify deliveries with it: replicate_async.webhooks.verify(headers, body, secret).
    """

    async def main() -> None:
        async with state.client() as client:
            found = await client.webhooks.default_secret.async_get()
        if as_json:
            echo_json({"key": found.key})
        else:
            click.echo(found.key)

    state.run(main, as_json=as_json)

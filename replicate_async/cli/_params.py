"""Option types that check a value where it is typed, so a bad one is a usage error (exit 2,
named by its option) rather than a refusal by the API or the library."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from .. import ConfigurationError, parse_duration

__all__ = ["ISO_DATETIME", "IsoDateTime"]


class IsoDateTime(click.ParamType):  # type: ignore[type-arg]  # generic in click >= 8.2
    """An ISO 8601 date or date-time (``2025-01-31``, ``2025-01-31T12:00:00Z``), passed on as
    typed."""

    name = "ISO8601"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value).strip()
        try:
            # Python 3.10's fromisoformat does not read a "Z" suffix.
            datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        except ValueError:
            self.fail(
                f"{value!r} is not an ISO 8601 date or time, such as 2025-01-31 or "
                "2025-01-31T12:00:00Z",
                param,
                ctx,
            )
        return text


ISO_DATETIME = IsoDateTime()


def check_duration(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A ``--cancel-after`` value checked where it is typed (a usage error, exit 2), by the
    library's own rule (:func:`replicate_async.parse_duration`)."""
    if value is None:
        return None
    try:
        parse_duration(value)
    except ConfigurationError as exc:
        raise click.BadParameter(str(exc).removeprefix("cancel_after ")) from None
    return value

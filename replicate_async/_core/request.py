"""Pure builders for request headers and bodies shared by the create endpoints.

Everything here is decided before any request is sent, so bad input fails fast with a clear
error and nothing is created on the server.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from yarl import URL

from .errors import ConfigurationError

__all__ = [
    "WEBHOOK_EVENTS",
    "cancel_after_header",
    "parse_duration",
    "prefer_header",
    "validate_webhook",
    "webhook_fields",
]

WEBHOOK_EVENTS = ("start", "output", "logs", "completed")
MAX_WAIT = 60
MIN_CANCEL_AFTER = 5.0

_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s?)?$")


def prefer_header(wait: bool | int | float | None) -> tuple[dict[str, str], float | None]:
    """``Prefer: wait[=N]`` for sync mode, and the N the read timeout must exceed.

    ``True`` means the server default (60 s); a number means ``wait=N`` with 1 ≤ N ≤ 60;
    ``None``/``False`` means no sync mode.
    """
    if wait is None or wait is False:
        return {}, None
    if wait is True:
        return {"Prefer": "wait"}, float(MAX_WAIT)
    if isinstance(wait, int | float) and 1 <= wait <= MAX_WAIT:
        seconds = int(wait)
        return {"Prefer": f"wait={seconds}"}, float(seconds)
    raise ConfigurationError(
        f"wait must be True, False/None, or a number of seconds from 1 to {MAX_WAIT}; got {wait!r}"
    )


def _seconds(value: str | int | float | timedelta) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bool):
        raise ConfigurationError(f"cancel_after must be a duration, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.match(value.strip())
    if not value.strip() or match is None or not any(match.groups()):
        raise ConfigurationError(
            f"cancel_after must be seconds or a duration like '45s', '5m', '1h30m'; got {value!r}"
        )
    hours, minutes, seconds = match.groups()
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)


def parse_duration(value: str | int | float | timedelta) -> float:
    """Seconds from a ``cancel_after`` value: a number, a ``timedelta``, or ``"45s"``, ``"5m"``,
    ``"1h30m"``; a :class:`ConfigurationError` says what a bad one should look like. The
    server's minimum (5 s) is checked where the value is used."""
    return _seconds(value)


def format_duration(seconds: float) -> str:
    """``5400`` → ``"1h30m"``, ``45`` → ``"45s"``, ``7.5`` → ``"7.5s"`` (the header's form)."""
    whole = int(seconds)
    if whole != seconds:
        return f"{seconds:g}s"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return text + (f"{secs}s" if secs or not text else "")


def cancel_after_header(value: str | int | float | timedelta | None) -> dict[str, str]:
    """``Cancel-After: <duration>`` (server-side deadline; minimum 5 s)."""
    if value is None:
        return {}
    seconds = _seconds(value)
    if seconds < MIN_CANCEL_AFTER:
        raise ConfigurationError(
            f"cancel_after must be at least {MIN_CANCEL_AFTER:g} seconds, got {value!r}"
        )
    return {"Cancel-After": format_duration(seconds)}


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def validate_webhook(url: str | None, events: Iterable[str] | None) -> None:
    """Check ``webhook`` and ``webhook_events_filter`` before anything is sent.

    The URL must be absolute HTTPS (plain HTTP only on loopback, for local tests); the filter a
    subset of ``start``, ``output``, ``logs``, ``completed``; a filter needs a URL.
    """
    if url is not None:
        if not isinstance(url, str) or any(c.isspace() or ord(c) < 32 for c in url):
            raise ConfigurationError(f"webhook must be an absolute https:// URL, got {url!r}")
        try:
            parsed = URL(url)
        except ValueError:  # yarl: a bad port, an unbracketed IPv6 host…
            raise ConfigurationError(f"webhook is not a valid URL: {url!r}") from None
        if not parsed.is_absolute() or not parsed.host:
            raise ConfigurationError(f"webhook must be an absolute https:// URL, got {url!r}")
        if parsed.scheme != "https" and not (parsed.scheme == "http" and _is_loopback(parsed.host)):
            raise ConfigurationError(
                f"webhook must use https:// (plain http is allowed only for loopback hosts), "
                f"got {url!r}"
            )
    if events is not None:
        if isinstance(events, str):
            raise ConfigurationError(
                f"webhook_events_filter must be a list such as ['completed'], got {events!r}"
            )
        events = list(events)
        if not events:
            # Ambiguous (no events? every event? the emulator reads it as every event).
            raise ConfigurationError(
                "webhook_events_filter is empty: omit it for every event, or list some of "
                + ", ".join(WEBHOOK_EVENTS)
            )
        unknown = [e for e in events if e not in WEBHOOK_EVENTS]
        if unknown:
            raise ConfigurationError(
                f"webhook_events_filter may only hold {', '.join(WEBHOOK_EVENTS)}; "
                f"unknown: {', '.join(map(repr, unknown))}"
            )
        if url is None:
            raise ConfigurationError("webhook_events_filter was given without a webhook URL")


def webhook_fields(url: str | None, events: Iterable[str] | None) -> dict[str, Any]:
    """The body fields for a webhook, validated."""
    if events is not None and not isinstance(events, str):
        events = list(events)  # a generator must be read once, not once per check
    validate_webhook(url, events)
    body: dict[str, Any] = {}
    if url is not None:
        body["webhook"] = url
    if events is not None:
        body["webhook_events_filter"] = list(dict.fromkeys(events))
    return body


def check_input(input: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``input`` object: a mapping with string keys (``None`` means empty)."""
    if input is None:
        return {}
    if not isinstance(input, Mapping):
        raise ConfigurationError(
            f"input must be a dict of the model's input names to values, got {type(input).__name__}"
        )
    bad = [k for k in input if not isinstance(k, str)]
    if bad:
        raise ConfigurationError(f"input keys must be strings, got {bad!r}")
    return dict(input)

"""Configuration that is decided without the network: token, base URL, timeouts (pure)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import attrs
from yarl import URL

from .errors import ConfigurationError

__all__ = [
    "DEFAULT_BASE_URL",
    "Secret",
    "Timeouts",
    "read_dotenv",
    "resolve_base_url",
    "resolve_token",
]

DEFAULT_BASE_URL = "https://api.replicate.com/v1"
TOKEN_VARIABLES = ("REPLICATE_API_TOKEN", "REPLICATE_API_KEY")


class Secret:
    """A string that never shows itself in ``repr``/``str`` (the API token)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret value, for the Authorization header only."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("the API token cannot be pickled")


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse a ``.env`` file: ``KEY=value`` lines, ``export`` prefixes, quotes, ``#`` comments."""
    values: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return values
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if value[:1] in ("'", '"') and value.endswith(value[0]) and len(value) >= 2:
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


def resolve_token(
    explicit: str | None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Secret:
    """The API token: the argument, else ``REPLICATE_API_TOKEN``, else ``REPLICATE_API_KEY``,
    else a ``.env`` file in the working directory (same two names, same order)."""
    if explicit is not None:
        if not explicit.strip():
            raise ConfigurationError("api_token is empty; pass a Replicate API token (r8_…)")
        return Secret(explicit.strip())
    env = os.environ if environ is None else environ
    for name in TOKEN_VARIABLES:
        value = env.get(name, "").strip()
        if value:
            return Secret(value)
    dotenv_path = (Path.cwd() if cwd is None else cwd) / ".env"
    dotenv = read_dotenv(dotenv_path)
    for name in TOKEN_VARIABLES:
        value = dotenv.get(name, "").strip()
        if value:
            return Secret(value)
    raise ConfigurationError(
        "No Replicate API token found. Pass one as Client(api_token=...), or set the "
        "REPLICATE_API_TOKEN (or REPLICATE_API_KEY) environment variable, or put "
        f"REPLICATE_API_TOKEN=r8_… in a .env file in the working directory ({dotenv_path}). "
        "Get a token at https://replicate.com/account/api-tokens."
    )


def resolve_base_url(explicit: str | None, environ: Mapping[str, str] | None = None) -> URL:
    """The API root: the argument, else ``REPLICATE_BASE_URL``, else the public API."""
    env = os.environ if environ is None else environ
    raw = explicit or env.get("REPLICATE_BASE_URL") or DEFAULT_BASE_URL
    url = URL(raw.rstrip("/"))
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(
            f"base_url must be an absolute http(s) URL such as {DEFAULT_BASE_URL!r}, got {raw!r}"
        )
    if url.user or url.password:
        raise ConfigurationError("base_url must not carry credentials; pass api_token instead")
    return url


@attrs.frozen
class Timeouts:
    """Per-request timeouts in seconds. aiohttp's default 300 s total is never used.

    - ``request``: total time of a JSON call.
    - ``connect``: establishing a connection.
    - ``wait_margin``: added to ``Prefer: wait=N`` for the read timeout of a sync-mode create.
    - ``stream_idle``: longest silence on a stream before it counts as dropped (the server
      ends idle streams itself after about 30 s).
    - ``download_idle``: longest silence while downloading a file.
    """

    request: float = 60.0
    connect: float = 10.0
    wait_margin: float = 15.0
    stream_idle: float = 60.0
    download_idle: float = 60.0

    @classmethod
    def of(cls, value: float | Timeouts | None) -> Timeouts:
        """Accept a number (the JSON-call total), a Timeouts, or None (defaults)."""
        if value is None:
            return cls()
        if isinstance(value, Timeouts):
            return value
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigurationError(f"timeout must be a positive number of seconds, got {value!r}")
        return cls(request=float(value))

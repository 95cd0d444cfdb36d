"""Configuration that is decided without the network: token, base URL, timeouts (pure)."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path

import attrs
from dotenv import dotenv_values
from yarl import URL

from .errors import ConfigurationError

__all__ = [
    "DEFAULT_BASE_URL",
    "DOTENV_VARIABLES",
    "Secret",
    "Timeouts",
    "dotenv_path",
    "read_dotenv",
    "resolve_base_url",
    "resolve_token",
    "setting",
]

DEFAULT_BASE_URL = "https://api.replicate.com/v1"
TOKEN_VARIABLES = ("REPLICATE_API_TOKEN", "REPLICATE_API_KEY")
DOTENV_VARIABLES = (*TOKEN_VARIABLES, "REPLICATE_BASE_URL", "REPLICATE_POLL_INTERVAL")
"""The settings read from the environment, and from a ``.env`` file when the environment
lacks them (the environment wins)."""

_PREVIEW = 4  # at most this many leading characters of a token are ever shown


class Secret:
    """A string that never shows itself in ``repr``/``str`` (the API token).

    ``source`` says where it came from (``"api_token argument"``, ``"REPLICATE_API_TOKEN"``,
    ``"REPLICATE_API_KEY in /path/.env"`` …), for messages about a refused token.
    """

    __slots__ = ("_value", "source")

    def __init__(self, value: str, source: str = "the api_token argument") -> None:
        self._value = value
        self.source = source

    def reveal(self) -> str:
        """The secret value, for the Authorization header only."""
        return self._value

    def preview(self) -> str:
        """The first few characters (at most 4, fewer for a short value) and an ellipsis."""
        return self._value[: min(_PREVIEW, len(self._value) // 4)] + "\u2026"

    def describe(self) -> str:
        """Where the token came from and how it starts, e.g. ``REPLICATE_API_TOKEN (r8_A…)``."""
        return f"{self.source} ({self.preview()})"

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("the API token cannot be pickled")


def read_dotenv(path: Path) -> dict[str, str]:
    """The ``KEY=value`` pairs of a ``.env`` file, parsed by python-dotenv (quotes, ``export``
    prefixes, ``#`` comments, multi-line quoted values), read only: nothing is written into
    ``os.environ`` and ``${VAR}`` is not expanded. Keys without a value are left out.

    A missing file (or a directory of that name) reads as empty. A file that exists but cannot
    be read as UTF-8 text raises :class:`ConfigurationError` naming it, rather than being
    silently ignored (a skipped ``REPLICATE_BASE_URL`` would send calls to the paid API).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read the .env file at {path}: {exc}") from None
    parsed = dotenv_values(stream=io.StringIO(text), interpolate=False)
    return {name: value for name, value in parsed.items() if value is not None}


def dotenv_path(cwd: Path | None = None) -> Path:
    """The ``.env`` file that is read: the one in the working directory."""
    return (Path.cwd() if cwd is None else cwd) / ".env"


def setting(
    name: str, environ: Mapping[str, str] | None = None, cwd: Path | None = None
) -> tuple[str, str] | None:
    """``(value, source)`` of a ``REPLICATE_*`` setting: the environment variable when it is
    set and not blank, else the same key in the working directory's ``.env``, else None.
    ``source`` is the variable's name, or ``"NAME in /path/.env"``."""
    env = os.environ if environ is None else environ
    value = env.get(name, "").strip()
    if value:
        return value, name
    path = dotenv_path(cwd)
    value = read_dotenv(path).get(name, "").strip()
    if value:
        return value, f"{name} in {path}"
    return None


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
        return Secret(explicit.strip(), "the api_token argument")
    env = os.environ if environ is None else environ
    for name in TOKEN_VARIABLES:
        value = env.get(name, "").strip()
        if value:
            return Secret(value, f"the {name} environment variable")
    path = dotenv_path(cwd)
    dotenv = read_dotenv(path)
    for name in TOKEN_VARIABLES:
        value = dotenv.get(name, "").strip()
        if value:
            return Secret(value, f"{name} in {path}")
    raise ConfigurationError(
        "No Replicate API token found. Pass one as Client(api_token=...), or set the "
        "REPLICATE_API_TOKEN (or REPLICATE_API_KEY) environment variable, or put "
        f"REPLICATE_API_TOKEN=r8_… in a .env file in the working directory ({path}). "
        "Get a token at https://replicate.com/account/api-tokens."
    )


def resolve_base_url(
    explicit: str | None, environ: Mapping[str, str] | None = None, cwd: Path | None = None
) -> URL:
    """The API root: the argument, else ``REPLICATE_BASE_URL`` (environment, then ``.env``),
    else the public API."""
    found = None if explicit else setting("REPLICATE_BASE_URL", environ, cwd)
    raw = explicit or (found[0] if found else DEFAULT_BASE_URL)
    url = URL(raw.rstrip("/"))
    if url.scheme not in ("http", "https") or not url.host:
        where = f" (from {found[1]})" if found else ""
        raise ConfigurationError(
            f"base_url must be an absolute http(s) URL such as {DEFAULT_BASE_URL!r}, "
            f"got {raw!r}{where}"
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

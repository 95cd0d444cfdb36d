"""Adaptive polling delays: fast at first, slower later (pure).

A fixed 0.5 s poll forever (PEER-DEFECTS 3) either wastes requests on long jobs or notices
short ones late. The schedule starts at ``initial`` and grows by ``factor`` up to ``ceiling``;
``REPLICATE_POLL_INTERVAL`` (environment, else ``.env``) sets the ceiling when given.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from .config import setting
from .errors import ConfigurationError

__all__ = ["Backoff"]

DEFAULT_CEILING = 2.0
DEFAULT_INITIAL = 0.05


@attrs.define
class Backoff:
    """A growing delay schedule; ``next()`` returns the next delay in seconds."""

    initial: float = DEFAULT_INITIAL
    factor: float = 1.5
    ceiling: float = DEFAULT_CEILING
    _current: float | None = attrs.field(default=None, alias="_current")

    @classmethod
    def from_env(
        cls, *, ceiling: float | None = None, environ: Mapping[str, str] | None = None
    ) -> Backoff:
        """A schedule whose ceiling is ``ceiling``, else ``REPLICATE_POLL_INTERVAL``, else 2 s."""
        if ceiling is None:
            found = setting("REPLICATE_POLL_INTERVAL", environ)
            if found:
                raw, source = found
                try:
                    ceiling = float(raw)
                except ValueError:
                    raise ConfigurationError(
                        f"{source} must be a number of seconds, got {raw!r}"
                    ) from None
        if ceiling is None:
            ceiling = DEFAULT_CEILING
        if ceiling <= 0:
            raise ConfigurationError(f"poll interval must be positive, got {ceiling!r}")
        return cls(initial=min(DEFAULT_INITIAL, ceiling), ceiling=ceiling)

    def next(self) -> float:
        """The next delay: ``initial``, then times ``factor`` each call, capped at ``ceiling``."""
        if self._current is None:
            self._current = min(self.initial, self.ceiling)
        else:
            self._current = min(self._current * self.factor, self.ceiling)
        return self._current

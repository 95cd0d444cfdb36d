"""The emulator's configuration knobs (all keyword arguments of ``Emulator``)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._clock import Clock

__all__ = ["DEFAULT_ACCOUNT", "SPEED_VARIABLE", "Options"]

SPEED_VARIABLE = "REPLICATE_EMULATOR_SPEED"
"""The environment variable that sets the default ``speed`` of every emulator made without
one (for example, to run a test suite's embedded emulators faster on CI)."""


def _default_speed() -> float:
    text = os.environ.get(SPEED_VARIABLE, "").strip()
    if not text:
        return 1.0
    try:
        speed = float(text)
    except ValueError:
        speed = math.nan
    if not speed > 0:  # also refuses nan
        raise ValueError(
            f"{SPEED_VARIABLE}={text!r} is not a speed: set it to a positive number such as "
            "10 (ten times faster) or inf (instant), or unset it for real-time timings"
        )
    return speed


DEFAULT_ACCOUNT: dict[str, Any] = {
    "type": "user",
    "username": "emulator",
    "name": "Emulator User",
    "github_url": "https://github.com/emulator",
    "avatar_url": "https://avatars.githubusercontent.com/u/0",
}


@dataclass
class Options:
    """Every option of :class:`~replicate_async.emulator.Emulator`, with its default.

    Durations are in seconds of emulated time; ``speed`` divides them all (``speed=100``
    runs everything a hundred times faster than real Replicate-ish timings). Without a
    ``speed`` argument it comes from ``REPLICATE_EMULATOR_SPEED`` when that is set, else 1.
    """

    host: str = "127.0.0.1"
    port: int = 0
    stream_port: int | None = None
    delivery_port: int | None = None
    token: str | None = None
    seed: int | None = None
    speed: float = field(default_factory=_default_speed)
    model_timings: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    token_delay: float = 0.02
    sync_quirk: bool = False
    sync_urls: bool = False
    retention: float = 3600.0
    page_size: int = 100
    stream_idle_timeout: float = 30.0
    max_run_time: float = 1800.0
    web_urls: bool = True
    strict_inputs: bool = False
    account: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULT_ACCOUNT))
    # rate limits (token buckets)
    rate_limit: bool = True
    create_rate_per_minute: float = 600.0
    rate_per_minute: float = 3000.0
    create_burst: float | None = None
    burst: float | None = None
    # webhooks
    webhook_secret: str | None = None
    webhook_throttle: float = 0.5
    webhook_retry_delays: Sequence[float] = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
    webhook_timeout: float = 10.0
    webhook_duplicate: bool = False
    webhook_shuffle: bool = False
    # files
    max_file_size: int = 100 * 1024 * 1024
    file_expiry: float = 24 * 3600.0
    file_signing_secret: str | None = None
    # bookkeeping
    request_log_size: int = 10_000
    # HTTPS (needs trustme: pip install 'replicate_async[emulator]')
    tls: bool = False
    tls_dir: str | None = None
    # time: None = real time; a VirtualClock lets a test move time itself
    clock: Clock | None = None

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError("speed must be positive (use math.inf for instant)")
        if self.page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.account = dict(self.account)
        if "username" not in self.account:
            raise ValueError("account needs a username")

    @property
    def time_scale(self) -> float:
        """Multiplier applied to every emulated duration."""
        return 0.0 if math.isinf(self.speed) else 1.0 / self.speed

    @property
    def username(self) -> str:
        return str(self.account["username"])

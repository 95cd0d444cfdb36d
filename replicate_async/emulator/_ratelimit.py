"""Token-bucket rate limits, one pair of buckets per API token.

Creating predictions/trainings draws from the ``create`` bucket (600/min by default),
everything else from the general one (3000/min). Bucket capacity sets the allowed burst.
"""

from __future__ import annotations

import math

from ._clock import Clock, RealClock
from ._options import Options
from ._problems import Problem

__all__ = ["Bucket", "RateLimiter"]


class Bucket:
    __slots__ = ("capacity", "clock", "rate", "tokens", "updated")

    def __init__(self, per_minute: float, capacity: float, clock: Clock | None = None) -> None:
        self.clock: Clock = clock if clock is not None else RealClock()
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, capacity)
        self.tokens = self.capacity
        self.updated = self.clock.monotonic()

    def take(self) -> bool:
        now = self.clock.monotonic()
        tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if tokens >= 1.0:
            self.tokens = tokens - 1.0
            return True
        self.tokens = tokens
        return False

    def headers(self) -> dict[str, str]:
        reset = math.ceil((self.capacity - self.tokens) / self.rate) if self.rate > 0 else 0
        return {"ratelimit-remaining": str(int(self.tokens)), "ratelimit-reset": str(reset)}

    def retry_after(self) -> int:
        if self.rate <= 0:
            return 60
        return max(1, math.ceil((1.0 - self.tokens) / self.rate))


class RateLimiter:
    """Decides whether a request may proceed and which headers describe the bucket."""

    def __init__(self, options: Options, clock: Clock | None = None) -> None:
        self.clock: Clock = clock if clock is not None else RealClock()
        self.enabled = options.rate_limit
        self.create_rate = options.create_rate_per_minute
        self.rate = options.rate_per_minute
        self.create_burst = (
            options.create_burst if options.create_burst is not None else self.create_rate / 6
        )
        self.burst = options.burst if options.burst is not None else self.rate / 6
        self._buckets: dict[tuple[str, bool], Bucket] = {}
        self._static = {
            "ratelimit-remaining": str(int(self.rate)),
            "ratelimit-reset": "0",
        }

    def idle_headers(self) -> dict[str, str]:
        """Headers for responses that did not draw from a bucket (e.g. a 401)."""
        if not self.enabled:
            return self._static
        return {"ratelimit-remaining": str(int(self.burst)), "ratelimit-reset": "0"}

    def check(self, token: str, create: bool) -> dict[str, str]:
        """Consume one request; raise a 429 :class:`Problem` when the bucket is empty."""
        if not self.enabled:
            return self._static
        key = (token, create)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = (
                Bucket(self.create_rate, self.create_burst, self.clock)
                if create
                else Bucket(self.rate, self.burst, self.clock)
            )
            self._buckets[key] = bucket
        if bucket.take():
            return bucket.headers()
        wait = bucket.retry_after()
        headers = bucket.headers()
        headers["Retry-After"] = str(wait)
        raise Problem(
            429,
            f"Request was throttled. Your rate limit resets in ~{wait}s.",
            include_title=False,
            headers=headers,
        )

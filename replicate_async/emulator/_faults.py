"""Fault injection: make chosen requests fail the way networks and servers do.

``emu.faults.add(route="predictions.create", status=503, times=2)`` fails the next two
creates; ``emu.faults.add(route="stream", cut_after=3)`` cuts SSE streams after three
events. Random choices use the emulator's seed, so runs are reproducible.
"""

from __future__ import annotations

import fnmatch
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Fault", "Faults"]


@dataclass
class Fault:
    """One rule. Matching requests get every effect it sets, in this order:
    ``latency`` (seconds), then ``reset`` (close the connection without a response), or
    ``status`` (a problem response, ``body`` to override it), or ``malformed`` (a 200 whose
    JSON is broken). ``cut_after`` applies to SSE streams: abort after that many events.
    ``probability`` draws per request; ``times`` expires the rule after that many hits.
    """

    route: str = "*"
    status: int | None = None
    body: Mapping[str, Any] | str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    probability: float = 1.0
    times: int | None = None
    latency: float = 0.0
    reset: bool = False
    malformed: bool = False
    cut_after: int | None = None
    hits: int = 0

    def matches(self, origin: str, operation: str | None, method: str, path: str) -> bool:
        route = self.route
        if route in ("*", origin):
            return True
        if operation is not None and (route == operation or fnmatch.fnmatchcase(operation, route)):
            return True
        if " " in route:
            want_method, _, pattern = route.partition(" ")
            if want_method not in ("*", method):
                return False
            if not pattern.startswith("/v1") and path.startswith("/v1/"):
                path = path[3:]
            return fnmatch.fnmatchcase(path, pattern)
        return False

    @property
    def expired(self) -> bool:
        return self.times is not None and self.hits >= self.times


class Faults:
    """The active fault rules of one emulator (first matching rule wins)."""

    def __init__(self, seed: int | None) -> None:
        self._rng = random.Random(None if seed is None else seed + 7919)
        self._lock = threading.Lock()
        self.rules: list[Fault] = []
        self.injected: list[tuple[str, str, str]] = []

    def add(self, route: str = "*", **settings: Any) -> Fault:
        """Add a rule (see :class:`Fault` for the settings) and return it."""
        fault = Fault(route=route, **settings)
        with self._lock:
            self.rules.append(fault)
        return fault

    def remove(self, fault: Fault) -> None:
        with self._lock:
            if fault in self.rules:
                self.rules.remove(fault)

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def __len__(self) -> int:
        return len(self.rules)

    def pick(self, origin: str, operation: str | None, method: str, path: str) -> Fault | None:
        """The rule to apply to this request, if any (counts the hit)."""
        if not self.rules:
            return None
        with self._lock:
            for fault in self.rules:
                if fault.expired or not fault.matches(origin, operation, method, path):
                    continue
                if fault.probability < 1.0 and self._rng.random() >= fault.probability:
                    continue
                fault.hits += 1
                self.injected.append((origin, method, path))
                if fault.expired:
                    self.rules.remove(fault)
                return fault
        return None

"""What the emulator's parts need of each other, as protocols (so no part imports its owner).

``Core`` owns the engine, the webhook sender and the examples; they receive it as a
:class:`Host`. The model runners receive the engine as a :class:`RunnerHost`. Both are
satisfied structurally by the real classes, which keeps the import graph free of cycles.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Generator
from typing import Any, Protocol

import aiohttp

from ._catalog import Catalog
from ._clock import Clock
from ._jobs import Job
from ._options import Options
from ._state import Store

__all__ = ["Host", "Notifier", "RunnerGen", "RunnerHost"]

RunnerGen = Generator["float | Awaitable[Any]", Any, None]
"""A model's run: yields delays (seconds) or awaitables; the engine drives it."""


class Notifier(Protocol):
    """Told of every state change of a job (the webhook sender)."""

    def notify(self, job: Job, event: str) -> None: ...


class Host(Protocol):
    """The emulator's shared state as its parts use it (``Core``)."""

    options: Options
    clock: Clock
    rng: random.Random
    catalog: Catalog
    store: Store
    api_url: str
    stream_url: str
    delivery_url: str
    webhook_secret: str

    @property
    def webhooks(self) -> Notifier: ...

    def http(self) -> aiohttp.ClientSession: ...


class RunnerHost(Protocol):
    """The engine as a model's runner uses it."""

    options: Options
    rng: random.Random

    def log(self, job: Job, line: str) -> None: ...

    def emit(self, job: Job, item: str) -> None: ...

    def set_output(self, job: Job, value: Any) -> None: ...

    def add_png(self, job: Job, name: str, width: int, height: int, key: str) -> str: ...

    async def fetch_input(self, url: str) -> tuple[bytes, str]: ...

    def finish_training(self, job: Job) -> None: ...

"""The emulator's shared state: options, catalog, stores, engine and helpers.

Handlers reach it as ``request.app[CORE]``; ``Emulator`` owns one and the HTTP servers.
"""

from __future__ import annotations

import base64
import random

import aiohttp
from aiohttp import web

from ._catalog import Catalog
from ._catalog_defs import build_catalog
from ._clock import Clock, RealClock
from ._examples import attach_examples
from ._faults import Faults
from ._lifecycle import Engine
from ._options import Options
from ._ratelimit import RateLimiter
from ._state import Store
from ._webhooks import WebhookSender

__all__ = ["CORE", "Core"]


class Core:
    """Everything one emulator knows; lives on the event loop that serves it."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.clock: Clock = options.clock if options.clock is not None else RealClock()
        self.rng = random.Random(options.seed)
        self.catalog: Catalog = build_catalog()
        self.store = Store(options.request_log_size)
        self.api_url = ""
        self.stream_url = ""
        self.delivery_url = ""
        self.faults = Faults(options.seed)
        self.limiter = RateLimiter(options, self.clock)
        self.engine = Engine(self)
        self.webhooks = WebhookSender(self)
        self.webhook_secret = options.webhook_secret or (
            "whsec_" + base64.b64encode(self.rng.getrandbits(192).to_bytes(24, "big")).decode()
        )
        self.file_signing_secret = options.file_signing_secret or (
            base64.b64encode(self.rng.getrandbits(256).to_bytes(32, "big")).decode()
        )
        self._session: aiohttp.ClientSession | None = None
        self.closing = False

    def bind(self, api_url: str, stream_url: str, delivery_url: str) -> None:
        """Record where the three origins listen (called once the ports are bound)."""
        self.api_url = api_url
        self.stream_url = stream_url
        self.delivery_url = delivery_url
        attach_examples(self)

    def http(self) -> aiohttp.ClientSession:
        """The emulator's own client session (webhooks, fetching file inputs)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=64, force_close=False)
            )
        return self._session

    async def close(self) -> None:
        self.closing = True
        self.engine.shutdown()
        await self.webhooks.close()
        if self._session is not None:
            await self._session.close()
            self._session = None


CORE: web.AppKey[Core] = web.AppKey("replicate_emulator_core", Core)

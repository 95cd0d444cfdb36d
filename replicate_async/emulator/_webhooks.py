"""Webhook deliveries, signed like Replicate's (Standard Webhooks).

``start`` and ``completed`` are always sent (when in the filter); ``output``/``logs`` at
most once per ``webhook_throttle`` seconds with the latest state. Only the terminal
delivery is retried. Redirects are not followed. For testing receivers, deliveries can be
duplicated (``webhook_duplicate``) or a stale one sent after ``completed``
(``webhook_shuffle``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp

from ._util import dumps

if TYPE_CHECKING:
    from ._core import Core
    from ._jobs import Job

__all__ = ["WebhookDelivery", "WebhookSender", "sign"]

ALL_EVENTS = ("start", "output", "logs", "completed")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` over ``{id}.{timestamp}.{body}``."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@dataclass
class WebhookDelivery:
    """One HTTP attempt (``status`` None when the connection failed)."""

    url: str
    event: str
    webhook_id: str
    timestamp: int
    attempt: int
    status: int | None
    error: str | None
    body: dict[str, Any]
    headers: dict[str, str]
    duplicate: bool = False
    stale: bool = False
    sent_at: float = 0.0  # time.monotonic() when this attempt was sent (throttle checks)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _Throttle:
    __slots__ = ("handle", "last", "stale")

    def __init__(self) -> None:
        self.last = -1e18
        self.handle: asyncio.TimerHandle | None = None
        self.stale: dict[str, Any] | None = None


class WebhookSender:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.options = core.options
        self.deliveries: list[WebhookDelivery] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._throttles: dict[str, _Throttle] = {}
        self._last: dict[str, asyncio.Task[None]] = {}  # per job: deliveries go out in order
        self._counter = 0

    def notify(self, job: Job, event: str) -> None:
        """Called by the engine on every state change of a job."""
        if job.webhook is None:
            return
        wanted = job.webhook_events_filter or ALL_EVENTS
        throttle = self._throttles.get(job.id)
        if throttle is None:
            throttle = self._throttles[job.id] = _Throttle()
        if event == "completed":
            if throttle.handle is not None:
                throttle.handle.cancel()
            self._throttles.pop(job.id, None)
            if event in wanted:
                self._send(job, event, retry=True, stale=throttle.stale)
            return
        if event not in wanted:
            return
        if event == "start":
            throttle.stale = job.to_json()
            self._send(job, event, retry=False)
            return
        if throttle.handle is not None:
            return  # a trailing delivery is already scheduled and will carry this change
        loop = asyncio.get_running_loop()
        wait = throttle.last + self.options.webhook_throttle - loop.time()
        if wait <= 0:
            throttle.last = loop.time()
            throttle.stale = job.to_json()
            self._send(job, event, retry=False)
        else:
            throttle.handle = loop.call_later(wait, self._flush, job, event, throttle)

    def _flush(self, job: Job, event: str, throttle: _Throttle) -> None:
        throttle.handle = None
        if job.terminal:
            return
        throttle.last = asyncio.get_running_loop().time()
        throttle.stale = job.to_json()
        self._send(job, event, retry=False)

    def _send(
        self, job: Job, event: str, *, retry: bool, stale: dict[str, Any] | None = None
    ) -> None:
        assert job.webhook is not None
        body = job.to_json()
        self._counter += 1
        msg_id = f"msg_{self.core.rng.getrandbits(96):024x}{self._counter}"
        previous = self._last.get(job.id)
        task = asyncio.get_running_loop().create_task(
            self._deliver(job.webhook, event, msg_id, body, retry, stale, previous)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._last[job.id] = task
        if event == "completed":
            task.add_done_callback(lambda done: self._forget(job.id, done))

    def _forget(self, job_id: str, task: asyncio.Task[None]) -> None:
        if self._last.get(job_id) is task:
            del self._last[job_id]

    async def _deliver(
        self,
        url: str,
        event: str,
        msg_id: str,
        body: dict[str, Any],
        retry: bool,
        stale: dict[str, Any] | None,
        previous: asyncio.Task[None] | None,
    ) -> None:
        if previous is not None and not previous.done():
            await asyncio.wait((previous,))  # keep a job's deliveries in order
        payload = dumps(body).encode()
        delays = [0.0, *self.options.webhook_retry_delays] if retry else [0.0]
        for attempt, delay in enumerate(delays):
            if delay:
                await asyncio.sleep(delay)
            ok = await self._post(url, event, msg_id, payload, body, attempt)
            if self.options.webhook_duplicate:
                await self._post(url, event, msg_id, payload, body, attempt, duplicate=True)
            if ok:
                break
        if self.options.webhook_shuffle and stale is not None and event == "completed":
            stale_id = f"msg_{self.core.rng.getrandbits(96):024x}s"
            stale_body = dict(stale)
            if stale_body.get("status") == "starting":
                stale_body["status"] = "processing"
            await self._post(
                url, "output", stale_id, dumps(stale_body).encode(), stale_body, 0, stale=True
            )

    async def _post(
        self,
        url: str,
        event: str,
        msg_id: str,
        payload: bytes,
        body: dict[str, Any],
        attempt: int,
        *,
        duplicate: bool = False,
        stale: bool = False,
    ) -> bool:
        ts = int(time.time())
        sent_at = time.monotonic()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Replicate-Webhooks/1.0 (emulator)",
            "webhook-id": msg_id,
            "webhook-timestamp": str(ts),
            "webhook-signature": sign(self.core.webhook_secret, msg_id, ts, payload),
        }
        status: int | None = None
        error: str | None = None
        try:
            timeout = aiohttp.ClientTimeout(total=self.options.webhook_timeout)
            async with self.core.http().post(
                url, data=payload, headers=headers, allow_redirects=False, timeout=timeout
            ) as resp:
                status = resp.status
                await resp.read()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as exc:
            error = repr(exc)
        record = WebhookDelivery(
            url, event, msg_id, ts, attempt, status, error, body, headers, duplicate, stale, sent_at
        )
        self.deliveries.append(record)
        stats = self.core.store.stats
        stats.webhooks_sent += 1
        if not record.ok:
            stats.webhook_failures += 1
        return record.ok

    async def drain(self, timeout: float) -> None:
        """Wait for deliveries in flight (used by tests and on stop)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)

    async def close(self) -> None:
        for handle in self._throttles.values():
            if handle.handle is not None:
                handle.handle.cancel()
        self._throttles.clear()
        self._last.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

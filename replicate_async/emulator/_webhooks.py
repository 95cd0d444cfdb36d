"""Webhook deliveries, signed like Replicate's (Standard Webhooks).

``start`` and ``completed`` are always sent (when in the filter); ``output``/``logs`` at
most once per ``webhook_throttle`` seconds with the latest state. Only the terminal
delivery is retried. Redirects are not followed. A job's deliveries go out one after the
other, in the order they were decided.

For testing receivers, ``webhook_duplicate`` repeats every delivery (same ``webhook-id``),
and ``webhook_shuffle`` reorders, reproducibly under ``seed``:

* a stale copy of the last progress state is sent after ``completed``;
* an ``output``/``logs`` delivery may be held back and sent late: after the first newer
  delivery signed in a later second (its older ``webhook-timestamp`` is what marks it stale),
  or after ``completed``;
* with ``webhook_duplicate``, the repeat of a non-terminal delivery may come after the job's
  next delivery instead of right after the original.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import math
import random
from dataclasses import dataclass
from typing import Any

import aiohttp

from ._clock import TimerHandle
from ._jobs import Job
from ._ports import Host
from ._util import dumps

__all__ = ["WebhookDelivery", "WebhookSender", "sign"]

ALL_EVENTS = ("start", "output", "logs", "completed")
_PROGRESS = ("output", "logs")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` over ``{id}.{timestamp}.{body}``."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@dataclass
class WebhookDelivery:
    """One HTTP attempt (``status`` None when the connection failed).

    ``sent_at`` is on the emulator's clock (``clock.monotonic()``): for a first attempt the
    moment the emulator decided to send it (for ``output``/``logs``, when the throttle let it
    through, so consecutive ones are at least ``webhook_throttle`` apart exactly); for a
    retry, a repeat or a late (``stale``) delivery, the moment it was posted.
    """

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
    sent_at: float = 0.0

    @property
    def ok(self) -> bool:
        """A 2xx answer."""
        return self.status is not None and 200 <= self.status < 300


@dataclass
class _Post:
    """A delivery as decided: what to send, signed when."""

    event: str
    msg_id: str
    body: dict[str, Any]
    payload: bytes
    timestamp: int | None  # None: signed when posted
    decided_at: float
    duplicate: bool = False
    stale: bool = False


class _JobHooks:
    """One job's delivery state: the throttle, the last progress body, held-back posts and
    the tail of its delivery chain."""

    __slots__ = ("deferred", "handle", "last", "snapshot", "tail")

    def __init__(self) -> None:
        self.last: float | None = None  # when the throttle last let a delivery through
        self.handle: TimerHandle | None = None
        self.snapshot: dict[str, Any] | None = None
        self.deferred: list[_Post] = []
        self.tail: asyncio.Task[None] | None = None


def _due(last: float, gap: float) -> float:
    """The earliest float ``t`` with ``t - last >= gap`` (``last + gap`` may round down)."""
    due = last + gap
    while due - last < gap:
        due = math.nextafter(due, math.inf)
    return due


class WebhookSender:
    """Decides, signs, sends and records a job's webhook deliveries."""

    def __init__(self, core: Host) -> None:
        self.core = core
        self.options = core.options
        self.deliveries: list[WebhookDelivery] = []
        seed = core.options.seed
        self.rng = random.Random(None if seed is None else f"webhooks:{seed}")
        self._tasks: set[asyncio.Task[None]] = set()
        self._jobs: dict[str, _JobHooks] = {}
        self._counter = 0

    # -- deciding (synchronous, in the order the engine reports changes) -----------------------
    def notify(self, job: Job, event: str) -> None:
        """Called by the engine on every state change of a job."""
        if job.webhook is None:
            return
        wanted = job.webhook_events_filter or ALL_EVENTS  # [] means every event (documented)
        hooks = self._jobs.get(job.id)
        if hooks is None:
            hooks = self._jobs[job.id] = _JobHooks()
        clock = self.core.clock
        if event == "completed":
            if hooks.handle is not None:
                hooks.handle.cancel()
            del self._jobs[job.id]
            post = self._post_for(job, event, clock.monotonic()) if event in wanted else None
            if post is not None or hooks.tail is not None or hooks.deferred:
                self._chain(job.webhook, hooks, post, retry=True, final=True)
            return
        if event not in wanted:
            return
        if event == "start":
            self._decide(job, event, hooks, clock.monotonic())
            return
        if hooks.handle is not None:
            return  # a trailing delivery is already scheduled and will carry this change
        now = clock.monotonic()
        due = now if hooks.last is None else _due(hooks.last, self.options.webhook_throttle)
        if now >= due:
            hooks.last = now
            self._decide(job, event, hooks, now)
        else:
            hooks.handle = clock.call_later(due - now, self._flush, job, event, hooks, due)

    def _flush(self, job: Job, event: str, hooks: _JobHooks, due: float) -> None:
        hooks.handle = None
        if job.terminal:
            return
        # A timer may fire up to the clock's resolution early: the decision time is ``due``.
        at = max(self.core.clock.monotonic(), due)
        hooks.last = at
        self._decide(job, event, hooks, at)

    def _decide(self, job: Job, event: str, hooks: _JobHooks, at: float) -> None:
        assert job.webhook is not None
        post = self._post_for(job, event, at)
        hooks.snapshot = post.body  # what a stale copy after ``completed`` shows
        shuffle = self.options.webhook_shuffle
        if shuffle and event in _PROGRESS and not any(p.stale for p in hooks.deferred):
            if self.rng.random() < 0.5:
                post.stale = True  # held back: goes out late (see the module docstring)
                hooks.deferred.append(post)
                return
        delay_repeat = shuffle and self.options.webhook_duplicate and self.rng.random() < 0.5
        self._chain(job.webhook, hooks, post, retry=False, delay_repeat=delay_repeat)

    def _post_for(self, job: Job, event: str, at: float) -> _Post:
        body = job.to_json()
        now = int(self.core.clock.time())
        return _Post(event, self._msg_id(), body, dumps(body).encode(), now, at)

    def _msg_id(self) -> str:
        self._counter += 1
        return f"msg_{self.rng.getrandbits(96):024x}{self._counter}"

    def _chain(
        self,
        url: str,
        hooks: _JobHooks,
        post: _Post | None,
        *,
        retry: bool,
        final: bool = False,
        delay_repeat: bool = False,
    ) -> None:
        stale_copy = None
        if final and self.options.webhook_shuffle and post is not None and hooks.snapshot:
            body = dict(hooks.snapshot)
            if body.get("status") == "starting":
                body["status"] = "processing"
            payload = dumps(body).encode()
            stale_copy = _Post("output", self._msg_id(), body, payload, None, 0.0, stale=True)
        previous = hooks.tail
        task = asyncio.get_running_loop().create_task(
            self._deliver(url, hooks, post, previous, retry, final, delay_repeat, stale_copy)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        hooks.tail = task

    # -- sending (one task per delivery, each waiting for the job's previous one) ---------------
    async def _deliver(
        self,
        url: str,
        hooks: _JobHooks,
        post: _Post | None,
        previous: asyncio.Task[None] | None,
        retry: bool,
        final: bool,
        delay_repeat: bool,
        stale_copy: _Post | None,
    ) -> None:
        if previous is not None and not previous.done():
            await asyncio.wait((previous,))  # keep a job's deliveries in order
        repeat = None
        if post is not None:
            repeat = await self._attempts(url, post, retry, delay_repeat and not final)
        # Release what earlier deliveries left behind: repeats now, held posts once this one
        # was signed in a later second; everything after the last delivery.
        after = post.timestamp if post is not None else None
        due = [
            p
            for p in hooks.deferred
            if final
            or p.duplicate
            or (after is not None and p.timestamp is not None and p.timestamp < after)
        ]
        for p in sorted(due, key=lambda p: p.stale):
            hooks.deferred.remove(p)
            await self._send_late(url, p)
        if repeat is not None:
            hooks.deferred.append(repeat)  # goes out after the job's next delivery
        if stale_copy is not None:
            await self._send_late(url, stale_copy)

    async def _attempts(self, url: str, post: _Post, retry: bool, defer: bool) -> _Post | None:
        """Send ``post`` (retried if ``retry``), each attempt repeated under
        ``webhook_duplicate``; the first attempt's repeat is returned instead if ``defer``."""
        delays = [0.0, *self.options.webhook_retry_delays] if retry else [0.0]
        for attempt, delay in enumerate(delays):
            if delay:
                await self.core.clock.sleep(delay)
            first = attempt == 0
            ts = post.timestamp if first else int(self.core.clock.time())
            ok = await self._post(url, post, attempt, ts, post.decided_at if first else None)
            if self.options.webhook_duplicate:
                repeat = dataclasses.replace(post, duplicate=True, timestamp=ts)
                if first and defer:
                    return repeat
                await self._post(url, repeat, attempt, ts, None)
            if ok:
                break
        return None

    async def _send_late(self, url: str, post: _Post) -> None:
        await self._post(url, post, 0, post.timestamp, None)

    async def _post(
        self, url: str, post: _Post, attempt: int, ts: int | None, sent_at: float | None
    ) -> bool:
        if ts is None:
            ts = int(self.core.clock.time())
        if sent_at is None:
            sent_at = self.core.clock.monotonic()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Replicate-Webhooks/1.0 (emulator)",
            "webhook-id": post.msg_id,
            "webhook-timestamp": str(ts),
            "webhook-signature": sign(self.core.webhook_secret, post.msg_id, ts, post.payload),
        }
        status: int | None = None
        error: str | None = None
        try:
            timeout = aiohttp.ClientTimeout(total=self.options.webhook_timeout)
            async with self.core.http().post(
                url, data=post.payload, headers=headers, allow_redirects=False, timeout=timeout
            ) as resp:
                status = resp.status
                await resp.read()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as exc:
            error = repr(exc)
        record = WebhookDelivery(
            url,
            post.event,
            post.msg_id,
            ts,
            attempt,
            status,
            error,
            post.body,
            headers,
            post.duplicate,
            post.stale,
            sent_at,
        )
        self.deliveries.append(record)
        stats = self.core.store.stats
        stats.webhooks_sent += 1
        if not record.ok:
            stats.webhook_failures += 1
        return record.ok

    async def drain(self, timeout: float) -> None:
        """Wait for deliveries in flight (used by tests and on stop)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while loop.time() < end:  # while waiting, a running job may start more deliveries
            pending = [task for task in self._tasks if not task.done()]
            if not pending:
                return
            await asyncio.wait(pending, timeout=end - loop.time())

    async def close(self) -> None:
        """Cancel pending throttles and deliveries."""
        for hooks in self._jobs.values():
            if hooks.handle is not None:
                hooks.handle.cancel()
        self._jobs.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

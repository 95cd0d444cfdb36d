"""A ready receiver of Replicate webhooks for aiohttp apps (a server-side add-on).

The client's own I/O lives in ``_transport.py`` alone; this module is not part of the client: it
is the *server* side of webhooks, so it imports ``aiohttp.web`` itself and is loaded only when
``replicate_async.webhooks.WebhookReceiver`` is first used. Verification is the pure
:func:`replicate_async.webhooks.verify_payload`; use that directly with other frameworks.

For every delivery (API-FACTS "Webhooks": deliveries may repeat and arrive out of order; only
the terminal one is retried, with the same ``webhook-id``)::

    signature or timestamp wrong  -> 401, the handler never runs
    signed body not a prediction  -> 400
    webhook-id already seen       -> 200, ignored (a retry, or a duplicate)
    prediction already terminal   -> 200, ignored (a late or stale delivery after `completed`)
    signed earlier than the last  -> 200, ignored (a stale non-terminal delivery)
    otherwise                     -> 200 at once; the handler runs in a background task

Handlers of one prediction run one after another, in arrival order; different predictions run
concurrently. A handler's exception is logged (logger ``replicate_async.webhooks``) and counted
in ``failures``; it never reaches the sender, which already got its 200. What the receiver
remembers (webhook ids, per-prediction progress) is bounded: the oldest entries are forgotten
first (``max_remembered`` of each).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .._client import Client
from ._signing import (
    DEFAULT_TOLERANCE,
    InvalidPayloadError,
    InvalidSecretError,
    Secret,
    WebhookVerificationError,
    _to_prediction,
    _verify,
)

if TYPE_CHECKING:
    from ..types import Prediction

__all__ = ["Handler", "WebhookReceiver"]

Handler = Callable[["Prediction"], Awaitable[Any]]
"""An async function called with each accepted delivery's :class:`Prediction`."""

logger = logging.getLogger("replicate_async.webhooks")


class _Memory:
    """What decides a delivery's fate: seen ids and each prediction's progress (bounded LRU)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.ids: OrderedDict[str, None] = OrderedDict()
        # prediction id -> (terminal seen, newest webhook-timestamp handled)
        self.progress: OrderedDict[str, tuple[bool, int]] = OrderedDict()

    def _touch(self, table: OrderedDict[str, Any], key: str, value: Any) -> None:
        table[key] = value
        table.move_to_end(key)
        while len(table) > self.size:
            table.popitem(last=False)

    def ignore_reason(self, msg_id: str, prediction_id: str, terminal: bool, ts: int) -> str | None:
        """Why this delivery is to be ignored (``None``: handle it); records it either way."""
        if msg_id in self.ids:
            self.ids.move_to_end(msg_id)
            return "repeated webhook-id"
        self._touch(self.ids, msg_id, None)
        seen_terminal, newest = self.progress.get(prediction_id, (False, -1))
        if seen_terminal:
            return "prediction already completed"
        if not terminal and ts < newest:
            # The timestamp is when Replicate signed (sent) it: an older one carries older state.
            return "stale (signed before one already handled)"
        self._touch(self.progress, prediction_id, (terminal, max(ts, newest)))
        return None


class WebhookReceiver:
    """Receives Replicate webhooks in an aiohttp app and hands each prediction to ``handler``.

    ``secret``: the ``whsec_…`` signing secret, the object ``client.webhooks.default_secret
    .get()`` returns, or a :class:`~replicate_async.Client`: then the secret is fetched once,
    on the first delivery (``GET /webhooks/default/secret``, cached by the client), and the
    predictions passed to ``handler`` are bound to that client (``reload``/``cancel`` work).
    ``handler``: ``async def handler(prediction) -> None``. ``tolerance``: seconds a delivery's
    timestamp may be off (``None`` disables the check). ``max_remembered``: how many webhook
    ids, and how many predictions' progress, are kept to drop repeats. ``clock``: the current
    time in seconds since the epoch (``time.time``), for tests that fix it.

    Mount it with ``receiver.add_routes(app, "/hook")`` (which also closes it on the app's
    cleanup), ``app.router.add_post("/hook", receiver.handle)``, or ``receiver.app()``.
    Close it with ``await receiver.aclose()`` or ``async with receiver:`` to wait for (and after
    a timeout, cancel) handlers still running.
    """

    def __init__(
        self,
        secret: Secret | Client,
        handler: Handler,
        *,
        tolerance: float | None = DEFAULT_TOLERANCE,
        max_remembered: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not callable(handler):
            raise TypeError(f"handler must be an async function, got {handler!r}")
        if max_remembered < 1:
            raise ValueError("max_remembered must be at least 1")
        self._client = secret if isinstance(secret, Client) else None
        self._secret: Secret | None = None if isinstance(secret, Client) else secret
        self._secret_lock = asyncio.Lock()
        self._handler = handler
        self.tolerance = tolerance
        self._clock = clock  # seconds since the epoch; injectable so tests need no real time
        self._memory = _Memory(max_remembered)
        self._tasks: set[asyncio.Task[None]] = set()
        self._last: dict[str, asyncio.Task[None]] = {}  # the newest task per prediction
        self._closed = False
        self.failures = 0
        """How many handler calls raised (each one was logged with its traceback)."""

    # -- mounting ---------------------------------------------------------------------------
    def add_routes(self, app: web.Application, path: str = "/hook") -> None:
        """Answer ``POST path`` in ``app``, and close this receiver when the app cleans up."""
        app.router.add_post(path, self.handle)
        app.on_cleanup.append(self._on_cleanup)

    def app(self, path: str = "/hook", **kwargs: Any) -> web.Application:
        """A new ``web.Application`` (``kwargs`` go to it) with this receiver at ``path``."""
        application = web.Application(**kwargs)
        self.add_routes(application, path)
        return application

    async def _on_cleanup(self, app: web.Application) -> None:
        await self.aclose()

    # -- one delivery -----------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.Response:
        """The aiohttp handler: verify, filter, answer at once, run ``handler`` in background."""
        if self._closed:
            return web.Response(status=503, text="receiver closed")
        body = await request.read()  # the raw bytes: what was signed
        try:
            secret = await self._signing_secret()
        except Exception:
            logger.exception("could not fetch the webhook signing secret")
            return web.Response(status=503, text="signing secret unavailable")
        try:
            # The headers are read by the very rule that verified them (blank copies ignored,
            # conflicting copies refused): the id remembered is the id that was signed.
            verified = _verify(
                request.headers, body, secret, tolerance=self.tolerance, now=self._clock()
            )
            prediction = _to_prediction(verified.payload, self._client)
        except InvalidSecretError:
            logger.exception("the webhook signing secret is unusable")
            return web.Response(status=500, text="receiver misconfigured")
        except InvalidPayloadError as exc:
            logger.warning("signed webhook body rejected: %s", exc)
            return web.Response(status=400, text="not a prediction")
        except WebhookVerificationError as exc:
            logger.warning("webhook rejected: %s", exc)
            return web.Response(status=401, text="invalid webhook signature")
        msg_id, timestamp = verified.msg_id, verified.timestamp
        reason = self._memory.ignore_reason(msg_id, prediction.id, prediction.terminal, timestamp)
        if reason is not None:
            logger.debug("webhook %s for %s ignored: %s", msg_id, prediction.id, reason)
            return web.Response(status=200, text=f"ignored: {reason}")
        self._dispatch(prediction)
        return web.Response(status=200, text="accepted")

    async def _signing_secret(self) -> Secret:
        if self._secret is None:
            assert self._client is not None
            async with self._secret_lock:  # concurrent first deliveries fetch it once
                if self._secret is None:
                    fetched = await self._client.webhooks.default_secret.async_get()
                    self._secret = fetched.key
        return self._secret

    def _dispatch(self, prediction: Prediction) -> None:
        previous = self._last.get(prediction.id)
        task = asyncio.get_running_loop().create_task(
            self._run(prediction, previous), name=f"webhook handler {prediction.id}"
        )
        self._tasks.add(task)
        self._last[prediction.id] = task
        task.add_done_callback(functools.partial(self._forget, prediction.id))

    def _forget(self, prediction_id: str, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._last.get(prediction_id) is task:
            del self._last[prediction_id]

    async def _run(self, prediction: Prediction, previous: asyncio.Task[None] | None) -> None:
        if previous is not None:
            await asyncio.wait({previous})  # keep each prediction's deliveries in order
        try:
            result = self._handler(prediction)
            if inspect.isawaitable(result):
                await result
        except Exception:
            self.failures += 1
            logger.exception(
                "webhook handler failed for prediction %s (status %s)",
                prediction.id,
                prediction.status,
            )

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def pending(self) -> int:
        """How many handler calls are queued or running."""
        return len(self._tasks)

    async def join(self) -> None:
        """Wait until every handler call queued so far has finished."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def aclose(self, timeout: float | None = 30.0) -> None:
        """Stop accepting deliveries (503), wait up to ``timeout`` seconds for running
        handlers, then cancel the rest. Idempotent."""
        self._closed = True
        if self._tasks:
            _, late = await asyncio.wait(set(self._tasks), timeout=timeout)
            for task in late:
                logger.warning("webhook handler %s cancelled on close", task.get_name())
                task.cancel()
            if late:
                await asyncio.wait(late)

    async def __aenter__(self) -> WebhookReceiver:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        source = "client" if self._client is not None else "secret"
        state = "closed" if self._closed else "open"
        return f"<WebhookReceiver {state} secret from {source}, {self.pending} pending>"

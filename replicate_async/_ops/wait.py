"""Finishing a prediction: wait until it is terminal, raise for failures, shape the output, or
cancel it when the caller gives up.

Shared by ``run()`` (``_run``), ``stream()`` (``_stream``, when a stream cannot go on), the
batch engine and ``Prediction.async_result()``.

* Only a terminal status ends a wait (PEER-DEFECTS 1; ``aborted`` included, 4). The wait listens
  on the prediction's stream for ``done`` and then fetches the final state once, so a finished
  prediction is noticed within milliseconds; without a stream, or when the stream keeps
  failing, it polls with adaptive backoff (``REPLICATE_POLL_INTERVAL`` caps the delay) (3).
* ``failed``/``canceled``/``aborted`` raise their own errors, never a silent ``None`` (6).
* Output is shaped by the version's schema (``_schema_cache``): token streams joined into
  ``str`` (2), ``format: uri`` values made ``FileOutput`` and nothing else (7).
* A prediction its caller gave up on is canceled (3, 30), and the cancel outlives what would
  otherwise cut it off (see "Abandoning" below): a second cancellation of the caller, the end
  of ``asyncio.run``, a client closed before a stream left with ``break`` was finalised.
  A call that fails after its create cancels its prediction and says so in the error.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import quote

from .._core.backoff import Backoff
from .._core.errors import (
    ConfigurationError,
    ReplicateAsyncError,
    ReplicateError,
    ServerError,
    TransportError,
    raise_for_status,
)
from .._core.request import MAX_WAIT
from .._core.sse import SSEDecoder
from .._io.bridge import get_bridge_loop
from ..types import Model, Prediction, Version

if TYPE_CHECKING:
    from .context import OpsClient

__all__ = [
    "CANCEL_TIMEOUT",
    "NOT_CACHED",
    "abandon_create",
    "cancel_remote",
    "cancel_when_created",
    "closing",
    "drain",
    "file_factory",
    "give_up",
    "raise_for_status",
    "shape_cached",
    "shape_output",
    "wait_for_terminal",
]

log = logging.getLogger("replicate_async")

T = TypeVar("T")

STREAM_FAILURES = 3
"""Consecutive failed stream connections after which waiting falls back to polling."""
CANCEL_TIMEOUT = 10.0
"""Seconds a cancel request may take when a prediction is abandoned (it is shielded, so bounded)."""
CREATE_ANSWER_LIMIT = MAX_WAIT + 30
"""Seconds a background task waits for an abandoned create to answer (sync mode holds it)."""

# Cancel requests that outlive the task that started them.
_BACKGROUND: set[asyncio.Task[Any]] = set()
_CANCELS: set[asyncio.Task[Any]] = set()  # the cancel requests among them (drain() waits)


def file_factory(client: OpsClient, use_file_output: bool) -> Callable[[str], Any] | None:
    """``to_file`` for ``OutputSpec.shape``: URL → ``FileOutput``, or None to keep URLs."""
    if not use_file_output:
        return None
    from .file_output import FileOutput

    return functools.partial(FileOutput, client=client)


NOT_CACHED: Any = object()
"""What ``shape_cached`` returns when the version's schema has not been fetched yet."""


def shape_cached(
    client: OpsClient, prediction: Prediction, *, use_file_output: bool, model: str | None = None
) -> Any:
    """``shape_output`` without I/O: the shaped output, or ``NOT_CACHED`` when the schema is
    not known yet (the common case in a fan-out needs no coroutine at all)."""
    raise_for_status(prediction)
    spec = client._schemas.cached(prediction, model)
    if spec is None:
        return NOT_CACHED
    if not spec.concatenate and not spec.has_files:
        return prediction.output
    return spec.shape(prediction.output, to_file=file_factory(client, use_file_output))


async def shape_output(
    client: OpsClient,
    prediction: Prediction,
    *,
    use_file_output: bool = True,
    model: str | None = None,
    hint: Model | Version | None = None,
) -> Any:
    """The output of a terminal prediction, shaped by its version's schema; raises for
    failed, canceled and aborted predictions."""
    output = shape_cached(client, prediction, use_file_output=use_file_output, model=model)
    if output is not NOT_CACHED:
        return output
    spec = await client._schemas.spec_for(prediction, model=model, hint=hint)
    return spec.shape(prediction.output, to_file=file_factory(client, use_file_output))


async def wait_for_terminal(
    client: OpsClient, prediction: Prediction, *, use_stream: bool = True
) -> Prediction:
    """Wait until ``prediction`` is terminal and return it (updated in place).

    With a stream URL: read the stream until ``done`` (reconnecting with ``Last-Event-ID``
    when it ends early), then fetch the prediction once. Otherwise, or when the stream keeps
    failing: poll with adaptive backoff.
    """
    if prediction.terminal:
        return prediction
    backoff = Backoff.from_env(ceiling=client.poll_interval)
    url = prediction.urls.stream if use_stream and prediction.urls is not None else None
    if url:
        await _await_done(client, prediction, url, backoff)
    while not prediction.terminal:
        await client._sleep(backoff.next())
        await prediction.async_reload()
    return prediction


async def _await_done(
    client: OpsClient, prediction: Prediction, url: str, backoff: Backoff
) -> None:
    decoder = SSEDecoder()
    failures = 0
    while failures < STREAM_FAILURES:
        headers = {"Last-Event-ID": decoder.last_event_id} if decoder.last_event_id else None
        done = False
        try:
            done = await _read_until_done(client, url, decoder, headers)
        except (TransportError, ReplicateError) as exc:
            permanent = isinstance(exc, ReplicateError) and not (
                isinstance(exc, ServerError) or exc.status == 429
            )
            failures = STREAM_FAILURES if permanent else failures + 1
            log.debug("stream of %s failed (%s); %s", prediction.id, exc, "polling")
        await prediction.async_reload()
        if done or prediction.terminal:
            return
        await client._sleep(backoff.next())


async def _read_until_done(
    client: OpsClient, url: str, decoder: SSEDecoder, headers: dict[str, str] | None
) -> bool:
    async with (
        client._transport.stream(url, headers=headers) as body,
        closing(body.chunks()) as chunks,
    ):
        async for chunk in chunks:
            for event in decoder.feed(chunk):
                if event.event == "done":
                    return True
    decoder.close()
    return False


@contextlib.asynccontextmanager
async def closing(iterator: AsyncIterator[T]) -> AsyncIterator[AsyncIterator[T]]:
    """Close an async iterator (a chunk generator) on exit, whatever ends the loop."""
    try:
        yield iterator
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()


# -- abandoning ---------------------------------------------------------------------------------
# Whoever gives up on a prediction cancels it through ``cancel_remote``: a task of its own,
# shielded from the caller, so that cancelling the caller again never cuts the request off.
# What else could, and how it is handled:
#
# * ``asyncio.run`` ends (``KeyboardInterrupt`` included): it cancels every task left, then
#   runs the loop until they have all ended. A cancel task is cancelled by nothing else, so it
#   takes that as the request being cut off, sends it once more and is awaited to the end.
# * The client was closed first (``break`` out of ``async for … in client.stream(…)`` inside
#   ``async with client``: the loop finalises the generator after the block has closed the
#   client), or the loop is finalising async generators, where no session may be opened any
#   more: the request goes from the bridge loop (``_sync``) on a transport of its own, closed
#   after it. The token still goes only to the API.
# * A create that is still on its way (sync mode names the prediction only when it ends): a
#   background task waits for it and cancels what it made; if the loop ends first, the
#   request dies with it and nothing can name the prediction, so a warning says so.


def _spawn(coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    task: asyncio.Task[Any] = asyncio.get_running_loop().create_task(coro)
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)
    return task


async def drain(timeout: float = CANCEL_TIMEOUT) -> None:
    """Wait (bounded) for this loop's cancel requests under way, so closing a client right
    after a cancelled run still sends them on its own session. (Creates abandoned on their
    way are not waited for: in sync mode they may take a minute.)"""
    loop = asyncio.get_running_loop()
    mine = [t for t in _CANCELS if t.get_loop() is loop and t is not asyncio.current_task()]
    if mine:
        await asyncio.wait(mine, timeout=timeout)


def _uncancel() -> None:
    """Take back the cancellation this task just caught (Python 3.11+ counts them)."""
    task = asyncio.current_task()
    uncancel = getattr(task, "uncancel", None)
    if uncancel is not None:
        uncancel()


async def cancel_remote(prediction: Prediction) -> bool:
    """Cancel ``prediction`` on the server, bounded by ``CANCEL_TIMEOUT``; whether it worked.

    The request runs in a task of its own: if the caller is cancelled meanwhile, the
    cancellation propagates and the request carries on by itself."""
    task = _spawn(_cancel_quietly(prediction))
    _CANCELS.add(task)
    task.add_done_callback(_CANCELS.discard)
    return bool(await asyncio.shield(task))


async def _cancel_quietly(prediction: Prediction) -> bool:
    try:
        try:
            await asyncio.wait_for(_send_cancel(prediction), CANCEL_TIMEOUT)
        except asyncio.CancelledError:
            # Only the loop's shutdown cancels this task, and the loop runs until it ends.
            _uncancel()
            await asyncio.wait_for(_send_cancel(prediction), CANCEL_TIMEOUT)
    except (ReplicateAsyncError, asyncio.TimeoutError) as exc:
        log.warning("could not cancel prediction %s: %s", prediction.id, exc)
        return False
    return True


def _loop_finalizing() -> bool:
    """Whether ``loop.shutdown_asyncgens()`` has begun: new sessions would never be closed."""
    return bool(getattr(asyncio.get_running_loop(), "_asyncgens_shutdown_called", False))


async def _send_cancel(prediction: Prediction) -> None:
    client = cast("OpsClient", prediction._bound())
    if not client._transport.closed and not _loop_finalizing():
        try:
            await prediction.async_cancel()
            return
        except (TransportError, ConfigurationError):
            if not client._transport.closed:
                raise  # a real failure, not the client closing under the request
    data = await asyncio.wrap_future(
        asyncio.run_coroutine_threadsafe(_cancel_detached(client, prediction.id), get_bridge_loop())
    )
    prediction._update(Prediction.from_dict(data))


async def _cancel_detached(client: OpsClient, prediction_id: str) -> Any:
    """``POST /predictions/{id}/cancel`` on a transport of its own (run on the bridge loop)."""
    from .._io.transport import Request

    transport = client._transport.detached()
    try:
        path = f"/predictions/{quote(prediction_id, safe='')}/cancel"
        response = await transport.request(Request("POST", path, idempotent=True))
        return response.json()
    finally:
        await transport.aclose()


def _created(task: asyncio.Task[Any]) -> Prediction | None:
    """What a finished create task made: its ``Prediction`` (alone or first of a tuple)."""
    if task.cancelled() or task.exception() is not None:
        return None
    result = task.result()
    prediction = result[0] if isinstance(result, tuple) else result
    return prediction if isinstance(prediction, Prediction) else None


async def abandon_create(task: asyncio.Task[Any], shown: str, grace: float) -> bool:
    """The caller gave up while its create ran in ``task``: wait up to ``grace`` seconds for the
    prediction and cancel it; whether a cancel succeeded. A create that takes longer is left to
    a background task that cancels its prediction when it comes (``cancel_when_created``)."""
    if not task.done() and grace > 0:
        try:
            await asyncio.wait({task}, timeout=grace)
        except asyncio.CancelledError:
            cancel_when_created(task, shown)
            raise
    if not task.done():
        cancel_when_created(task, shown)
        return False
    prediction = _created(task)
    if prediction is None or prediction.terminal:
        return False
    return await cancel_remote(prediction)


def cancel_when_created(task: asyncio.Task[Any], shown: str = "a model") -> None:
    """In the background: wait for an abandoned create (its result a ``Prediction`` or a tuple
    starting with one) and cancel the prediction it made. ``shown`` names what it runs."""
    _spawn(_cancel_when_created(task, shown))


async def _cancel_when_created(task: asyncio.Task[Any], shown: str) -> None:
    try:
        await asyncio.wait_for(asyncio.shield(task), CREATE_ANSWER_LIMIT)
    except asyncio.CancelledError:
        _uncancel()  # the loop is ending: the create was cancelled too; see how it ended
        await asyncio.wait({task}, timeout=CANCEL_TIMEOUT)
    except (Exception, asyncio.TimeoutError):
        pass  # how it failed says whether a prediction may exist (below)
    prediction = _created(task) if task.done() else None
    if prediction is not None:
        if not prediction.terminal:
            await _cancel_quietly(prediction)
        return
    if not task.done() or task.cancelled() or isinstance(task.exception(), _UNKNOWN_OUTCOME):
        log.warning(
            "a run of %s was abandoned while its create request was on its way, and the "
            "request was cut off before the API named the prediction: a prediction may still "
            "be running (see your predictions list). Runs with wait=False are named at once "
            "and always canceled; cancel_after= bounds any run on the server.",
            shown,
        )


_UNKNOWN_OUTCOME = (TransportError, ServerError)
"""Create failures after which a prediction may exist (a 4xx answer means none does)."""


async def give_up(prediction: Prediction | None, exc: BaseException, *, cancel: bool) -> None:
    """A step after the create failed with ``exc``: cancel the prediction (when ``cancel``)
    unless it has ended, and add what became of it to the error's message."""
    if prediction is None or prediction.terminal:
        return
    if cancel:
        canceled = await cancel_remote(prediction)
        fate = "it has been canceled" if canceled else "canceling it failed: it may still run"
    else:
        fate = "it is still running (cancel_on_exit=False)"
    _annotate(exc, f"prediction {prediction.id} was created; {fate}")


def _annotate(exc: BaseException, note: str) -> None:
    """Append ``note`` to the error's message (the library's errors keep it in ``message``)."""
    message = getattr(exc, "message", None)
    if isinstance(message, str):
        exc.message = f"{message}\n  {note}"  # type: ignore[attr-defined]
        exc.args = (exc.message,)  # type: ignore[attr-defined]
    elif isinstance(exc, ReplicateAsyncError) and len(exc.args) == 1:
        exc.args = (f"{exc.args[0]}\n  {note}",)
    elif hasattr(exc, "add_note"):  # not one of ours: Python 3.11+ shows notes with it
        exc.add_note(note)

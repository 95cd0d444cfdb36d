"""``stream()``: Replicate's event semantics on top of ``_sse.SSEDecoder`` and the transport.

Events on ``urls.stream`` (API-FACTS, "Streaming"): ``output`` (text, one chunk per event),
``logs`` (text), ``error`` (JSON ``{"detail": …}``, then ``done``) and ``done`` (JSON: ``{}``,
``{"reason": "canceled"}`` or ``{"reason": "error"}``). What this module guarantees
(``PEER-DEFECTS.md``):

* events without an ``id:`` line are kept (8); unknown event names are skipped, never fatal (9);
* ``error`` raises ``ModelError`` carrying the parsed ``detail`` and the prediction (10); a
  ``done`` whose reason is ``canceled``/``error`` raises the matching error, it never looks like
  a normal end (11);
* a dropped connection, or a stream that ends without ``done`` (the server's ``:408`` idle
  comment), reconnects with ``Last-Event-ID`` (bounded attempts, backoff through the client's
  sleep). If the server replays from the start instead of resuming, the replayed events are
  skipped. If the stream cannot be resumed at all, the prediction itself finishes the job: the
  output not yet yielded is yielded from its final state, so none is lost and none repeated (12);
* bytes go through the incremental decoder, never through line reading, so ``data:`` lines of
  many megabytes work (13); the stream uses the client it was called on (14);
* leaving the loop early (``break``, ``aclose()``) closes the connection and, for streams that
  ``client.stream`` started, cancels the remote prediction (``cancel_on_exit``); so does an
  error after the create, which then names the prediction;
* the token is sent to the stream host only when the transport read it in ``urls.stream`` of
  an answer from the API origin itself (``Transport.may_authorize``, PEER-DEFECTS 22).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

from .._core.backoff import Backoff
from .._core.errors import (
    ModelError,
    PredictionAbortedError,
    PredictionCanceledError,
    ReplicateAsyncError,
    ReplicateError,
    ServerError,
    TransportError,
)
from .._core.events import FileEvent, StreamEvent
from .._core.output import OutputSpec
from .._core.sse import SSEDecoder
from ..types import Model, Prediction, Version
from .run import CREATE_GRACE, RunOptions, Target, create_prediction, resolve_target
from .wait import (
    abandon_create,
    cancel_remote,
    closing,
    file_factory,
    give_up,
    raise_for_status,
    wait_for_terminal,
)

if TYPE_CHECKING:
    from .context import OpsClient

__all__ = ["StreamEvent", "stream_prediction", "stream_run"]

log = logging.getLogger("replicate_async")

RECONNECTS = 5
"""Consecutive connections that bring nothing new before the prediction finishes the job."""
MAX_RETRY_DELAY = 5.0
"""Cap on the server's ``retry:`` reconnection time, in seconds."""
FEED_SIZE = 8192
"""Bytes handed to the decoder at a time (see ``_feed``)."""


def _output_event(data: str, id: str, shape: Callable[[str], Any] | None) -> StreamEvent:
    if shape is None:
        return StreamEvent("output", data, id, None)
    return FileEvent("output", data, id, None, shape(data))


def stream_run(
    client: OpsClient,
    ref: str | Model | Version | None,
    input: Any,
    options: RunOptions,
    *,
    deployment: str | None = None,
) -> AsyncGenerator[StreamEvent, None]:
    """Create a prediction and iterate its events (references and options checked now)."""
    target = resolve_target(ref, deployment)

    async def create() -> tuple[Prediction, Target]:
        coro = create_prediction(client, target, input, options, wait=None, stream=True)
        if not options.cancel_on_exit:
            return await coro
        # As in run(): a consumer that gives up mid-create still cancels what it created (the
        # create answers at once: it is waited for, briefly).
        task = asyncio.get_running_loop().create_task(coro)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            await abandon_create(task, target.shown, CREATE_GRACE)
            raise

    return _events(
        client,
        None,
        create,
        use_file_output=options.use_file_output,
        cancel_on_exit=options.cancel_on_exit,
    )


def stream_prediction(
    client: OpsClient,
    prediction: Prediction,
    *,
    use_file_output: bool = True,
    cancel_on_exit: bool = False,
) -> AsyncGenerator[StreamEvent, None]:
    """Iterate the events of an existing prediction."""
    return _events(
        client, prediction, None, use_file_output=use_file_output, cancel_on_exit=cancel_on_exit
    )


async def _events(
    client: OpsClient,
    prediction: Prediction | None,
    create: Callable[[], Awaitable[tuple[Prediction, Target]]] | None,
    *,
    use_file_output: bool,
    cancel_on_exit: bool,
) -> AsyncGenerator[StreamEvent, None]:
    # One async generator for the whole stream (a nested one would double the per-event cost).
    ended = False
    try:
        target = Target({})
        if create is not None:
            prediction, target = await create()
        assert prediction is not None
        shape = await _item_shaper(client, prediction, target, use_file_output)
        url = prediction.urls.stream if prediction.urls is not None else None
        decoder = SSEDecoder(event_type=StreamEvent)
        emitted: list[str] = []  # data of the output events yielded, to finish without repeats
        append = emitted.append
        others = 0  # other events dispatched by the server so far (to skip a replay)
        first_id: str | None = None
        backoff = Backoff.from_env(ceiling=MAX_RETRY_DELAY)
        idle = 0
        while url is not None and idle < RECONNECTS:
            last_id = decoder.last_event_id
            headers = {"Last-Event-ID": last_id} if last_id else None
            received = len(emitted) + others
            probe = True  # the first event of a reconnection may reveal a replay
            skip = 0
            try:
                async with (
                    client._transport.stream(url, headers=headers) as body,
                    closing(body.chunks()) as chunks,
                ):
                    async for chunk in chunks:
                        for sse in _feed(decoder, chunk):
                            if probe:
                                probe = False
                                if first_id is None:
                                    first_id = sse.id
                                elif sse.id == first_id and (last_id != first_id or not last_id):
                                    skip = received  # the server started over: drop repeats
                            if skip:
                                skip -= 1
                                continue
                            if sse.event == "output":  # the hot path: the decoder's own object
                                append(sse.data)
                                yield (
                                    sse if shape is None else _output_event(sse.data, sse.id, shape)
                                )
                                continue
                            others += 1
                            name = sse.event
                            if name == "logs":
                                yield sse
                            elif name == "done":
                                ended = True
                                await _raise_for_done(prediction, sse.data)
                                return
                            elif name == "error":
                                ended = True
                                await _raise_for_error(prediction, sse.data)
                            # Anything else (a keep-alive "ping", a new event type) is skipped.
                decoder.close()
            except (TransportError, ReplicateError) as exc:
                decoder.close()
                log.debug("stream of %s broke: %s", prediction.id, exc)
                if isinstance(exc, ReplicateError) and not (
                    isinstance(exc, ServerError) or exc.status == 429
                ):
                    break  # 401/404 …: this stream cannot be resumed
            idle = 0 if len(emitted) + others > received else idle + 1
            if idle < RECONNECTS:
                retry = decoder.retry
                await client._sleep(
                    min(retry / 1000, MAX_RETRY_DELAY) if retry is not None else backoff.next()
                )
        # The stream cannot go on: the prediction itself finishes the job.
        await wait_for_terminal(client, prediction, use_stream=False)
        for event in _remainder(emitted, prediction.output, shape):
            yield event
        ended = True
        raise_for_status(prediction)
    except Exception as exc:
        if not ended and create is not None:  # as in run(): cancel it and say so in the error
            ended = True
            await give_up(prediction, exc, cancel=cancel_on_exit)
        raise
    finally:
        if not ended and cancel_on_exit and prediction is not None and not prediction.terminal:
            await cancel_remote(prediction)


def _feed(decoder: SSEDecoder, chunk: bytes) -> Iterator[StreamEvent]:
    """The events of ``chunk``, decoded at most ``FEED_SIZE`` bytes at a time.

    A large read (a fast stream catching up) would otherwise build thousands of events at once,
    all alive until the consumer has seen them; in slices, few exist at a time and the garbage
    collector stays idle (about 15% of the per-event cost when streaming 100,000 events).
    """
    # The decoder builds StreamEvent objects (``event_type``).
    if len(chunk) <= FEED_SIZE:
        yield from cast("list[StreamEvent]", decoder.feed(chunk))
        return
    for start in range(0, len(chunk), FEED_SIZE):
        yield from cast("list[StreamEvent]", decoder.feed(chunk[start : start + FEED_SIZE]))


async def _item_shaper(
    client: OpsClient, prediction: Prediction, target: Target, use_file_output: bool
) -> Callable[[str], Any] | None:
    """What turns an output event's text into its ``output`` item (None: the text itself)."""
    to_file = file_factory(client, use_file_output)
    if to_file is None:
        return None
    spec: OutputSpec = await client._schemas.spec_for(
        prediction, model=target.model, hint=target.hint
    )
    if not spec.has_files:
        return None

    def shape(data: str) -> Any:
        return spec.shape_stream_item(data, to_file=to_file)

    return shape


def _text(item: Any) -> str:
    return item if isinstance(item, str) else json.dumps(item)


def _remainder(
    emitted: list[str], output: Any, shape: Callable[[str], Any] | None
) -> list[StreamEvent]:
    """Output events for the part of the final ``output`` not yet yielded (PEER-DEFECT 12).

    Iterator outputs (lists) continue after the items already yielded when those match; token
    streams are compared as joined text, so a different chunking still yields exactly the
    missing text. A scalar output is yielded once, if nothing was yielded before.
    """
    pieces: list[str] = []
    if isinstance(output, list):
        items = [_text(item) for item in output]
        n = len(emitted)
        seen = "".join(emitted)
        if items[:n] == emitted or "".join(items[:n]) == seen:
            pieces = items[n:]
        elif "".join(items).startswith(seen):
            rest = "".join(items)[len(seen) :]
            pieces = [rest] if rest else []
        else:
            log.warning("the stream's output does not match the prediction's; not repeating it")
    elif isinstance(output, str):
        seen = "".join(emitted)
        if output.startswith(seen) and len(output) > len(seen):
            pieces = [output[len(seen) :]]
    elif output is not None and not emitted:
        pieces = [_text(output)]
    return [_output_event(p, "", shape) for p in pieces]


def _json_object(data: str) -> dict[str, Any]:
    try:
        parsed = json.loads(data) if data.strip() else {}
    except ValueError:
        return {"detail": data}
    return parsed if isinstance(parsed, dict) else {"detail": parsed}


async def _refresh(prediction: Prediction) -> None:
    """Fetch the final state (error text, logs) for the exception; best effort."""
    with contextlib.suppress(ReplicateAsyncError):
        await prediction.async_reload()


async def _raise_for_error(prediction: Prediction, data: str) -> None:
    detail = _json_object(data).get("detail")
    text = detail if isinstance(detail, str) else json.dumps(detail)
    await _refresh(prediction)
    raise ModelError(f"prediction {prediction.id} failed: {text}", prediction, error=detail)


async def _raise_for_done(prediction: Prediction, data: str) -> None:
    reason = _json_object(data).get("reason")
    if not reason:
        return
    await _refresh(prediction)
    if prediction.terminal and prediction.status != "succeeded":
        raise_for_status(prediction)
    if reason == "canceled":
        raise PredictionCanceledError(f"prediction {prediction.id} was canceled", prediction)
    if reason == "aborted":
        raise PredictionAbortedError(f"prediction {prediction.id} was aborted", prediction)
    raise ModelError(f"prediction {prediction.id} ended with reason {reason!r}", prediction)

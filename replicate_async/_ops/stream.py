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
  comment), reconnects with ``Last-Event-ID`` (``_ops.events``: replayed events are skipped by
  id, the id sent never moves back, backoff starts over after progress). If the stream cannot
  be resumed, or a replay cannot be matched, the prediction itself finishes the job: the
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

import contextlib
import json
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from .._core.errors import (
    ModelError,
    PredictionAbortedError,
    PredictionCanceledError,
    ReplicateAsyncError,
)
from .._core.events import FileEvent, StreamEvent
from .._core.output import OutputSpec
from ..types import Model, Prediction, Version
from .events import EventSource
from .run import RunOptions, Target, create_prediction, resolve_target
from .wait import closing, file_factory, raise_for_status, wait_for_terminal

if TYPE_CHECKING:
    from .context import OpsClient

__all__ = ["StreamEvent", "stream_prediction", "stream_run"]

log = logging.getLogger("replicate_async")


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

    def create() -> Awaitable[tuple[Prediction, Target]]:
        return create_prediction(client, target, input, options, wait=None, stream=True)

    return _events(
        client,
        None,
        create,
        target.shown,
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
        client,
        prediction,
        None,
        prediction.id,
        use_file_output=use_file_output,
        cancel_on_exit=cancel_on_exit,
    )


async def _events(
    client: OpsClient,
    prediction: Prediction | None,
    create: Callable[[], Awaitable[tuple[Prediction, Target]]] | None,
    shown: str,
    *,
    use_file_output: bool,
    cancel_on_exit: bool,
) -> AsyncGenerator[StreamEvent, None]:
    # One async generator for the events (a nested one per event would double the per-event
    # cost); connections and replays are ``EventSource``'s, one batch per chunk. Leaving it any
    # way but the end (an error, ``break``, cancellation) abandons the prediction to its
    # lifetime, which cancels it when ``cancel_on_exit``.
    async with client._lifetimes.own(shown, cancel=cancel_on_exit) as life:
        target = Target({})
        if create is not None:
            prediction, target = await life.create(create())
        assert prediction is not None
        life.adopt(prediction)
        shape = await _item_shaper(client, prediction, target, use_file_output)
        emitted: list[str] = []  # data of the output events yielded, to finish without repeats
        append = emitted.append
        url = prediction.urls.stream if prediction.urls is not None else None
        if url is not None:
            source = EventSource(
                client._transport, url, client._sleep, name=prediction.id, event_type=StreamEvent
            )
            async with closing(source.batches()) as batches:
                async for batch in batches:
                    life.busy = False  # at a yield, the consumer holds the generator
                    for sse in cast("list[StreamEvent]", batch):
                        if sse.event == "output":  # the hot path: the decoder's own object
                            append(sse.data)
                            yield sse if shape is None else _output_event(sse.data, sse.id, shape)
                        elif sse.event == "logs":
                            yield sse
                        elif sse.event == "done" or sse.event == "error":
                            life.release()  # the server ended it: nothing to cancel
                            await _end(prediction, sse)
                            return
                        # Anything else (a keep-alive "ping", a new event type) is skipped.
                    life.busy = True
        # The stream cannot go on: the prediction itself finishes the job.
        await wait_for_terminal(client, prediction, use_stream=False)
        for event in _remainder(emitted, prediction.output, shape):
            yield event
        life.release()
        raise_for_status(prediction)


async def _end(prediction: Prediction, sse: StreamEvent) -> None:
    """``done`` or ``error``: raise unless it is a normal end."""
    if sse.event == "done":
        await _raise_for_done(prediction, sse.data)
    else:
        await _raise_for_error(prediction, sse.data)


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

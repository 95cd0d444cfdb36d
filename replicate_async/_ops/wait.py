"""Finishing a prediction: wait until it is terminal, raise for failures, shape the output.

Shared by ``run()`` (``_ops.run``), ``stream()`` (``_ops.stream``, when a stream cannot go on),
the batch engine and ``Prediction.async_result()``. Giving up on a prediction (cancelling it)
is ``_ops.lifetimes``'s.

* Only a terminal status ends a wait (PEER-DEFECTS 1; ``aborted`` included, 4). The wait listens
  on the prediction's stream for ``done`` (reconnecting through ``_ops.events``, the same code
  as ``stream()``) and then fetches the final state once, so a finished prediction is noticed
  within milliseconds; without a stream, or when the stream cannot go on, it polls with
  adaptive backoff (``REPLICATE_POLL_INTERVAL`` caps the delay) (3).
* ``failed``/``canceled``/``aborted`` raise their own errors, never a silent ``None`` (6).
* Output is shaped by the version's schema (``_schema_cache``): token streams joined into
  ``str`` (2), ``format: uri`` values made ``FileOutput`` and nothing else (7).
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .._core.backoff import Backoff
from .._core.errors import raise_for_status
from ..types import Model, Prediction, Version
from .events import EventSource

if TYPE_CHECKING:
    from .context import OpsClient

__all__ = [
    "NOT_CACHED",
    "closing",
    "file_factory",
    "raise_for_status",
    "shape_cached",
    "shape_output",
    "wait_for_terminal",
]

log = logging.getLogger("replicate_async")

T = TypeVar("T")


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
        await _await_done(client, prediction, url)
        await prediction.async_reload()
    while not prediction.terminal:
        await client._sleep(backoff.next())
        await prediction.async_reload()
    return prediction


async def _await_done(client: OpsClient, prediction: Prediction, url: str) -> None:
    """Read the stream until ``done`` (the reconnections are ``EventSource``'s); return early
    when it cannot go on (the caller polls)."""
    source = EventSource(client._transport, url, client._sleep, name=prediction.id)
    async with closing(source.batches()) as batches:
        async for batch in batches:
            for event in batch:
                if event.event == "done":
                    return


@contextlib.asynccontextmanager
async def closing(iterator: AsyncIterator[T]) -> AsyncIterator[AsyncIterator[T]]:
    """Close an async iterator (a chunk generator) on exit, whatever ends the loop."""
    try:
        yield iterator
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()

"""Batch fan-out: many inputs through one model, inside the rate limit, nothing lost.

``client.batch(ref, inputs)`` (``client.batch_sync`` for blocking code) runs every input as a
prediction and yields a :class:`BatchResult` per input as it finishes, or in input order with
``ordered=True``. How it behaves:

* **Lazy.** Inputs (any iterable or async iterable) are read only when a slot is free, so a
  generator of a million inputs never sits in memory. At most ``concurrency`` predictions run
  at once; with ``ordered=True`` at most ``window`` items are started ahead of the next one to
  deliver, which bounds the buffer that a slow item makes.
* **Within the limits.** Every request goes through the client's rate limiter
  (:class:`~replicate_async.TokenBucketLimiter`, shared by all callers of the client), so the
  batch never needs to hammer the server with 429s to find the limit.
* **One failure never aborts the others.** A prediction that fails, is canceled or aborted, or
  whose create the API refuses (a 422 for a bad input, say) becomes a result with ``status``
  and ``error``. Only errors that concern every item stop the batch: authentication (401),
  permission (403), credit (402), and a model or deployment that does not exist (404).
* **Cancellable.** Cancelling the consuming task, leaving the loop and closing the iterator
  (``aclose()``) cancel the remote predictions still running. A create whose answer is still
  on its way is given a few seconds to name its prediction so that it can be canceled too. The
  final progress report's ``undelivered`` lists every started item that was not handed out:
  those that finished meanwhile with their results, the others with status ``canceled``.

Predictions are created without sync mode (``wait=False``) by default: the create answers at
once with the prediction id, so a cancellation can reach every running prediction. (In sync
mode the id only arrives when the prediction has finished.)
"""

from __future__ import annotations

from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Iterable,
    Iterator,
    Mapping,
)
from typing import TYPE_CHECKING, Any

from .._core.errors import ConfigurationError
from .._core.ratelimit import LimiterStats, TokenBucketLimiter
from ..types import Model, Version
from .batch_engine import DEFAULT_CONCURRENCY, Engine, Hook, ProgressCallback
from .batch_types import BatchProgress, BatchResult, BatchStoppedError, Item
from .run import RunOptions

if TYPE_CHECKING:
    from .context import OpsClient

__all__ = [
    "DEFAULT_CONCURRENCY",
    "BatchProgress",
    "BatchResult",
    "BatchStoppedError",
    "Engine",
    "Item",
    "LimiterStats",
    "TokenBucketLimiter",
    "run_batch",
]


def run_batch(
    client: OpsClient,
    ref: str | Model | Version | None,
    inputs: Iterable[Any] | AsyncIterable[Any],
    options: RunOptions,
    *,
    deployment: str | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    ordered: bool = False,
    on_progress: ProgressCallback | None = None,
    window: int | None = None,
    on_start: Hook | None = None,
    on_created: Hook | None = None,
) -> AsyncGenerator[BatchResult, None]:
    """The engine behind ``client.batch``: validates everything now, runs when iterated."""
    engine = Engine(
        client,
        ref,
        options,
        deployment=deployment,
        concurrency=concurrency,
        ordered=ordered,
        on_progress=on_progress,
        window=window,
        on_start=on_start,
        on_created=on_created,
    )
    if isinstance(inputs, AsyncIterable):
        return engine.results(_aitems(inputs))
    if isinstance(inputs, Iterable) and not isinstance(inputs, (str, bytes, Mapping)):
        return engine.results(_items(inputs))
    raise ConfigurationError(
        f"inputs must be an iterable or async iterable of input dicts, got {type(inputs)!r}"
    )


def _items(inputs: Iterable[Any]) -> Iterator[Item]:
    for index, value in enumerate(inputs):
        yield value if isinstance(value, Item) else Item(index, value)


async def _aitems(inputs: AsyncIterable[Any]) -> AsyncIterator[Item]:
    index = 0
    async for value in inputs:
        yield value if isinstance(value, Item) else Item(index, value)
        index += 1

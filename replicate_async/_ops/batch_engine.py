"""The batch engine: bounded concurrency, lazy input, cancellation (see ``batch.py``)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import inspect
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from .._core.errors import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    PredictionError,
    ReplicateAsyncError,
    RunTimeoutError,
)
from ..types import Model, Prediction, Version
from .batch_types import BatchProgress, BatchResult, BatchStoppedError, Item
from .lifetimes import ANSWER_TIMEOUT, CANCEL_TIMEOUT
from .run import RunOptions, resolve_target, run_prediction
from .wait import shape_output, wait_for_terminal

if TYPE_CHECKING:
    from .context import OpsClient

__all__ = ["DEFAULT_CONCURRENCY", "Engine", "Hook", "ProgressCallback"]

DEFAULT_CONCURRENCY = 32

_HEX64 = re.compile(r"[0-9a-f]{64}")
# Errors that say nothing about one input but about the whole batch: they stop it.
_BATCH_ERRORS = (AuthenticationError, PaymentRequiredError, PermissionDeniedError, NotFoundError)


@attrs.define(eq=False)
class _Slot:
    seq: int
    item: Item
    task: asyncio.Task[BatchResult] | None = None
    prediction: Prediction | None = None


ProgressCallback = Callable[[BatchProgress], object]
Hook = Callable[[Item, Prediction | None], object]


def _check_concurrency(concurrency: int, window: int | None) -> int:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigurationError(f"concurrency must be a positive integer, got {concurrency!r}")
    if window is None:
        return max(4 * concurrency, 64)
    if isinstance(window, bool) or not isinstance(window, int) or window < concurrency:
        raise ConfigurationError(f"window must be an integer >= concurrency, got {window!r}")
    return window


class Engine:
    """Runs items with bounded concurrency; ``replicate_async.batch`` describes the behaviour.

    ``on_start(item, None)`` is called just before an item's prediction is created and
    ``on_created(item, prediction)`` as soon as it exists (the command line journals both).
    """

    def __init__(
        self,
        client: OpsClient,
        ref: str | Model | Version | None,
        options: RunOptions,
        *,
        deployment: str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        ordered: bool = False,
        on_progress: ProgressCallback | None = None,
        window: int | None = None,
        on_start: Hook | None = None,
        on_created: Hook | None = None,
    ) -> None:
        self.client = client
        self.ref = ref
        self.deployment = deployment
        self.target = resolve_target(ref, deployment)  # validates the reference now
        self.options = options
        self.window = _check_concurrency(concurrency, window)
        self.concurrency = concurrency
        self.ordered = ordered
        self.on_progress = on_progress
        self.on_start = on_start
        self.on_created = on_created
        self._slots: dict[asyncio.Task[BatchResult], _Slot] = {}
        self._ready: collections.deque[BatchResult] = collections.deque()
        self._buffer: dict[int, BatchResult] = {}  # ordered mode: seq -> result
        self._next_seq = 0  # sequence number of the next item started
        self._next_out = 0  # ordered mode: sequence number of the next item to deliver
        self._submitted = self._done = self._failed = self._canceled = 0
        self._started_at = time.monotonic()
        self._reported: tuple[int, int, int, int] | None = None
        self._final_sent = False
        # ``owner/name`` of a model that may not be official: the first create tells which
        # version runs; the others wait for it and pin that version (see _learn).
        self._probe: _Slot | None = None
        self._probe_over = asyncio.Event()
        self._pinning = set(self.target.create) == {"model"} and self.target.model is not None

    # -- the iterator ----------------------------------------------------------------------
    async def results(
        self, source: Iterator[Item] | AsyncIterator[Item]
    ) -> AsyncGenerator[BatchResult, None]:
        """Yield results as items finish (or in order); clean up however the iteration ends."""
        feeder: asyncio.Future[Item | None] | None = None
        exhausted = False
        self._started_at = time.monotonic()
        try:
            while True:
                while not exhausted and feeder is None and self._has_room():
                    if isinstance(source, AsyncIterator):
                        feeder = asyncio.ensure_future(_anext(source))
                        break
                    item = next(source, None)
                    if item is None:
                        exhausted = True
                    else:
                        self._start(item)
                await self._report()
                result = self._pop()
                if result is not None:
                    yield result
                    continue
                if exhausted and not self._slots:
                    break
                waiting: set[asyncio.Future[Any]] = set(self._slots)
                if feeder is not None:
                    waiting.add(feeder)
                await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                if feeder is not None and feeder.done():
                    item, feeder = _feeder_result(feeder), None
                    if item is None:
                        exhausted = True
                    else:
                        self._start(item)
                self._collect()
            self._final_sent = True
            await self._report(final=True)
        finally:
            if feeder is not None:
                feeder.cancel()
            if not self._final_sent:
                await self._shutdown()

    def _has_room(self) -> bool:
        if len(self._slots) >= self.concurrency:
            return False
        started_ahead = self._next_seq - (self._next_out if self.ordered else 0)
        return not self.ordered or started_ahead < self.window

    def _start(self, item: Item) -> None:
        slot = _Slot(self._next_seq, item)
        self._next_seq += 1
        self._submitted += 1
        slot.task = asyncio.ensure_future(self._run(slot))
        self._slots[slot.task] = slot

    def _collect(self) -> None:
        for task in [t for t in self._slots if t.done()]:
            slot = self._slots.pop(task)
            self._deliver(slot, task.result())  # a batch-wide error propagates from here

    def _deliver(self, slot: _Slot, result: BatchResult) -> None:
        self._done += 1
        self._failed += not result.ok
        if self.ordered:
            self._buffer[slot.seq] = result
        else:
            self._ready.append(result)

    def _pop(self) -> BatchResult | None:
        if not self.ordered:
            return self._ready.popleft() if self._ready else None
        result = self._buffer.pop(self._next_out, None)
        if result is not None:
            self._next_out += 1
        return result

    def progress(
        self, *, final: bool = False, undelivered: tuple[BatchResult, ...] = ()
    ) -> BatchProgress:
        """The counts now."""
        return BatchProgress(
            submitted=self._submitted,
            in_flight=len(self._slots),
            done=self._done,
            failed=self._failed,
            elapsed=time.monotonic() - self._started_at,
            canceled=self._canceled,
            final=final,
            undelivered=undelivered,
        )

    async def _report(
        self, *, final: bool = False, undelivered: tuple[BatchResult, ...] = ()
    ) -> None:
        if self.on_progress is None:
            return
        key = (self._submitted, len(self._slots), self._done, self._failed)
        if key == self._reported and not final:
            return
        self._reported = key
        outcome = self.on_progress(self.progress(final=final, undelivered=undelivered))
        if inspect.isawaitable(outcome):
            await outcome

    # -- one item --------------------------------------------------------------------------
    async def _run(self, slot: _Slot) -> BatchResult:
        item = slot.item
        try:
            if not isinstance(item.input, Mapping):
                raise ConfigurationError(
                    f"input {item.index} must be a dict of model inputs, got {type(item.input)!r}"
                )
            adopted = await self._adopt(slot, item.adopt) if item.adopt is not None else None
            if adopted is not None:
                prediction, output = adopted
            else:
                await self._wait_for_probe(slot)
                if self.on_start is not None:
                    self.on_start(item, None)
                prediction, output = await run_prediction(
                    self.client,
                    self.ref,
                    item.input,
                    self.options,
                    deployment=self.deployment,
                    on_created=lambda p: self._created(slot, p),
                )
        except _BATCH_ERRORS as exc:
            if isinstance(exc, NotFoundError) and slot.prediction is not None:
                return _failure(slot, exc)  # a prediction vanished: about this item only
            raise
        except Exception as exc:  # one item's failure never aborts the others
            return _failure(slot, exc)
        finally:
            if slot is self._probe:
                self._end_probe()  # no prediction came of it: the next item probes
        return BatchResult(
            item.index, item.input, "succeeded", prediction.id, output, None, prediction
        )

    async def _wait_for_probe(self, slot: _Slot) -> None:
        while self._pinning and self._probe is not slot:
            if self._probe is None:
                self._probe = slot  # this item's create finds out which version runs
                return
            await self._probe_over.wait()

    def _end_probe(self) -> None:
        self._probe = None
        over, self._probe_over = self._probe_over, asyncio.Event()
        over.set()

    def _learn(self, prediction: Prediction) -> None:
        """After the first create of an ``owner/name`` batch: pin the version it ran.

        Creating ``owner/name`` goes to the official-models endpoint first and, for other
        models, again with the latest version (``_run.create_prediction``): two creates per
        item, both counted by the rate limit. A 64-hex ``version`` on the first prediction
        means a community model, so every later item names that version directly, and the
        whole batch runs one version even if a new one is pushed meanwhile. Official models
        report an opaque version (API-FACTS, "Ids") and keep their endpoint.
        """
        version = prediction.version
        if isinstance(version, str) and _HEX64.fullmatch(version):
            self.ref = f"{self.target.model}:{version}"
        self._pinning = False
        self._end_probe()

    def _created(self, slot: _Slot, prediction: Prediction) -> None:
        slot.prediction = prediction
        if slot is self._probe:
            self._learn(prediction)
        if self.on_created is not None:
            self.on_created(slot.item, prediction)

    async def _adopt(self, slot: _Slot, prediction_id: str) -> tuple[Prediction, Any] | None:
        """Follow a prediction created earlier (a resumed batch) instead of creating one;
        None when the API no longer knows it."""
        try:
            prediction = await self.client.predictions.async_get(prediction_id)
        except NotFoundError:
            return None
        self._created(slot, prediction)
        # As in run(): given up (cancelled, or the wait failed), it is canceled.
        async with self.client._lifetimes.own(
            prediction.id, cancel=self.options.cancel_on_exit
        ) as life:
            life.adopt(prediction)
            life.created = True  # an error names it, as run()'s do
            await wait_for_terminal(self.client, prediction)
            life.release()
        output = await shape_output(
            self.client,
            prediction,
            use_file_output=self.options.use_file_output,
            model=self.target.model,
            hint=self.target.hint,
        )
        return prediction, output

    # -- stopping early --------------------------------------------------------------------
    async def _shutdown(self) -> None:
        """Cancel what still runs (remote predictions included), report what was left."""
        slots = list(self._slots.values())
        self._slots.clear()
        if slots:
            cleanup = asyncio.ensure_future(
                asyncio.gather(*(self._stop(slot) for slot in slots), return_exceptions=True)
            )
            try:
                await asyncio.wait_for(asyncio.shield(cleanup), ANSWER_TIMEOUT + CANCEL_TIMEOUT)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass  # cancelled twice, or stuck: the cancel requests carry on by themselves
        undelivered: list[BatchResult] = [*self._ready, *self._buffer.values()]
        self._ready.clear()
        self._buffer.clear()
        for slot in slots:
            assert slot.task is not None
            result = _finished(slot.task) or await self._finished_anyway(slot)
            if result is None:
                self._canceled += 1
                prediction = slot.prediction
                error = BatchStoppedError(
                    f"input {slot.item.index} was canceled because the batch was stopped",
                    prediction,
                )
                result = BatchResult(
                    slot.item.index,
                    slot.item.input,
                    "canceled",
                    prediction.id if prediction is not None else None,
                    None,
                    error,
                    prediction,
                )
            else:
                self._done += 1
                self._failed += not result.ok
            undelivered.append(result)
        undelivered.sort(key=lambda r: r.index)
        with contextlib.suppress(Exception):
            await self._report(final=True, undelivered=tuple(undelivered))

    async def _finished_anyway(self, slot: _Slot) -> BatchResult | None:
        """The result of an item whose prediction succeeded before its cancel arrived (the
        cancel's answer says so): it is kept like any finished one, never run again."""
        prediction = slot.prediction
        if prediction is None or prediction.status != "succeeded":
            return None
        try:
            output = await asyncio.wait_for(
                prediction.async_result(use_file_output=self.options.use_file_output),
                CANCEL_TIMEOUT,
            )
        except (ReplicateAsyncError, asyncio.TimeoutError):
            return None
        return BatchResult(
            slot.item.index, slot.item.input, "succeeded", prediction.id, output, None, prediction
        )

    async def _stop(self, slot: _Slot) -> None:
        """Cancel an item's task: its run's lifetime cancels the prediction (waiting for a
        create on its way to name it) before the task ends."""
        task = slot.task
        assert task is not None
        if task.done():
            return
        task.cancel()
        with contextlib.suppress(BaseException):
            await task


async def _anext(source: AsyncIterator[Item]) -> Item | None:
    try:
        return await source.__anext__()
    except StopAsyncIteration:
        return None


def _feeder_result(feeder: asyncio.Future[Item | None]) -> Item | None:
    return feeder.result()  # an exception from the caller's iterator propagates


def _finished(task: asyncio.Task[BatchResult]) -> BatchResult | None:
    if not task.done() or task.cancelled() or task.exception() is not None:
        return None
    return task.result()


def _failure(slot: _Slot, exc: Exception) -> BatchResult:
    item = slot.item
    prediction = slot.prediction
    status = "error"
    if isinstance(exc, PredictionError) and isinstance(exc.prediction, Prediction):
        prediction = exc.prediction
        status = str(exc.prediction.status or "failed")
    elif isinstance(exc, RunTimeoutError):
        status = "canceled" if exc.canceled else "error"
    prediction_id = prediction.id if prediction is not None else None
    if prediction_id is None and isinstance(exc, RunTimeoutError):
        prediction_id = exc.prediction_id
    return BatchResult(item.index, item.input, status, prediction_id, None, exc, prediction)

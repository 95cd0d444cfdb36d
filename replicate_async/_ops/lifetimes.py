"""The one owner of prediction lifetimes, per client.

Every create made for a call that may give up goes through the client's ``Lifetimes``:
``run()``, ``stream()``, the batch engine (through ``run()``), ``Prediction.async_stream``
(adopting an existing prediction) and a plain ``predictions.async_create`` (``guard_create``).
What it guarantees: a prediction whose caller gives up — before the create is sent, while a
sync-mode create is on the wire, while waiting or streaming, on ``asyncio.timeout`` /
``wait_for``, on task cancellation, on Ctrl-C in a blocking twin, on ``client.aclose()`` — is
canceled, or, when the process cannot live long enough, a warning names what may still run.

ONE primitive, ``Lifetime.create``: the create runs in a task of its own, which hands its
answer to a future the caller awaits (a cheaper ``asyncio.shield``), so a caller cancelled
mid-request does not cut it off: the answer still arrives and names the prediction to cancel.

ONE grace policy (``Lifetime.abandon``): whoever gives up waits, shielded, for the cleanup —
the in-flight create's answer (its ``Prefer: wait`` is short by default, ``SYNC_WAIT``, so
this takes seconds, not a minute), then the cancel request (``CANCEL_TIMEOUT``). Cancelled
again while waiting (a second Ctrl-C), it stops waiting and the cleanup carries on in the
background, owned by this registry: ``client.aclose()`` waits for it (``drain``). Nothing is
shared between clients or threads; only the tasks of a loop that is running are awaited.

What could still cut a cleanup off, and what happens then:

* ``asyncio.run`` ends (``KeyboardInterrupt`` included) with a cleanup in the background: it
  cancels every task left and runs the loop until they have ended. A cancel request so cut
  off is sent once more. A create so cut off can no longer name its prediction: a warning says
  which model may still run.
* The client was closed first (``break`` out of ``client.stream`` inside ``async with client``:
  the loop finalises the generator after the block has closed the client): the cancel goes
  from the bridge loop (``_io.bridge``) on a transport of its own, closed after it.
* The interpreter exits with cleanups still under way (a second Ctrl-C in a blocking twin):
  a warning at exit lists the predictions (or models) that may still run.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType
from typing import Any, Protocol, TypeVar, cast
from urllib.parse import quote

from .._core.errors import (
    ConfigurationError,
    ReplicateAsyncError,
    ServerError,
    TransportError,
)
from .._core.lifetime import GUARDED, Deadline
from .._core.request import MAX_WAIT
from .._io.bridge import get_bridge_loop
from .._io.transport import Transport
from ..types import Prediction


class _Connected(Protocol):
    """What a last cancel needs of the client: its transport."""

    _transport: Transport


__all__ = [
    "ANSWER_TIMEOUT",
    "CANCEL_TIMEOUT",
    "SYNC_WAIT",
    "Lifetime",
    "Lifetimes",
    "annotate",
]

log = logging.getLogger("replicate_async")

T = TypeVar("T")

SYNC_WAIT = 5
"""Seconds of ``Prefer: wait`` a default ``run()`` asks for: a model that finishes sooner
answers in the create; a caller who gives up meanwhile learns the id to cancel within this."""
CANCEL_TIMEOUT = 10.0
"""Seconds one cancel request may take (it is shielded, so it is bounded)."""
ANSWER_TIMEOUT = MAX_WAIT + 30.0
"""Seconds an abandoned create may take to answer (the longest ``Prefer: wait`` and then some)."""

_UNKNOWN_OUTCOME = (TransportError, ServerError, asyncio.TimeoutError)
"""Create failures after which a prediction may exist (a 4xx answer means none does)."""


def _named(result: object) -> Prediction | None:
    """What a create made: its ``Prediction`` (alone or first of a tuple)."""
    prediction = result[0] if isinstance(result, tuple) and result else result
    return prediction if isinstance(prediction, Prediction) else None


def _outcome(task: asyncio.Task[Any]) -> Prediction | None:
    if not task.done() or task.cancelled() or task.exception() is not None:
        return None
    return _named(task.result())


async def _answer(create: Awaitable[T], waiter: asyncio.Future[T]) -> T:
    """The create task: await ``create`` and hand its outcome to ``waiter`` (what the caller
    awaits), unless the caller has stopped waiting. The task keeps its own outcome too, for
    the cleanup of an abandoned create (``_outcome``)."""
    GUARDED.set(True)  # this task's own context: a create inside is not guarded again
    try:
        result = await create
    except asyncio.CancelledError:
        if not waiter.done():
            waiter.cancel()
        raise
    except BaseException as exc:
        if not waiter.done():
            waiter.set_exception(exc)
        raise
    if not waiter.done():
        waiter.set_result(result)
    return result


def _uncancel() -> None:
    """Take back the cancellation this task just caught (Python 3.11+ counts them)."""
    task = asyncio.current_task()
    uncancel = getattr(task, "uncancel", None)
    if uncancel is not None:
        uncancel()


class Lifetimes:
    """The client's registry of the predictions its calls own (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owned: dict[int, Lifetime] = {}
        self._cleanups: dict[asyncio.Task[Any], str] = {}  # background cleanup -> what it is
        weakref.finalize(self, _warn_at_exit, self._cleanups, self._lock)

    # -- the lifetimes -------------------------------------------------------------------------
    def own(self, shown: str, *, cancel: bool) -> Lifetime:
        """A lifetime for one call (``async with``): what it creates or adopts is canceled when
        the call gives up (``cancel``, the call's ``cancel_on_exit``)."""
        return Lifetime(self, shown, cancel)

    async def guard_create(self, create: Awaitable[T], shown: str) -> T:
        """A plain create: shielded; if its caller gives up before the answer, what it made
        is canceled (the caller never learned its id). A create inside a lifetime's create
        (``GUARDED``) is awaited as it is."""
        if GUARDED.get():
            return await create
        async with self.own(shown, cancel=True) as life:
            result = await life.create(create)
            life.release()  # the caller has it now: its lifetime is the caller's
            return result

    # One dict operation each, atomic under the GIL (calls on several threads' loops share
    # the client); readers take a snapshot with ``list(...)``, which is atomic too.
    def _add(self, life: Lifetime) -> None:
        self._owned[id(life)] = life

    def _discard(self, life: Lifetime) -> None:
        self._owned.pop(id(life), None)

    def pending(self) -> list[str]:
        """What the background cleanups under way are about (prediction ids or models)."""
        with self._lock:
            return [shown for task, shown in self._cleanups.items() if not task.done()]

    # -- cleanups -------------------------------------------------------------------------------
    def _spawn(self, coro: Awaitable[bool], shown: str) -> asyncio.Task[bool]:
        task: asyncio.Task[bool] = asyncio.ensure_future(coro)
        with self._lock:
            self._cleanups[task] = shown
        task.add_done_callback(self._forget)
        return task

    def _forget(self, task: asyncio.Task[Any]) -> None:
        with self._lock:
            self._cleanups.pop(task, None)

    def cancel(self, prediction: Prediction) -> asyncio.Task[bool]:
        """Cancel ``prediction`` in a task of its own (bounded, sent again if the loop's end
        cuts it off); the task says whether it worked."""
        return self._spawn(_cancel_quietly(prediction), prediction.id)

    def finish_create(
        self,
        task: asyncio.Task[Any],
        shown: str,
        on_named: Callable[[Prediction], object] | None = None,
    ) -> asyncio.Task[bool]:
        """An abandoned create: wait for its answer (``on_named`` gets the prediction) and
        cancel what it made."""
        return self._spawn(_cancel_when_created(task, shown, on_named), f"a run of {shown}")

    async def drain(
        self, timeout: float = ANSWER_TIMEOUT, *, skip: asyncio.AbstractEventLoop | None = None
    ) -> None:
        """Wait (bounded) for the cleanups under way on every running loop but ``skip``."""
        here = asyncio.get_running_loop()
        with self._lock:
            tasks = [t for t in self._cleanups if not t.done() and t is not asyncio.current_task()]
        by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Task[Any]]] = {}
        for task in tasks:
            by_loop.setdefault(task.get_loop(), []).append(task)
        waits: list[Awaitable[Any]] = []
        for loop, group in by_loop.items():
            if loop is here:
                waits.append(asyncio.wait(group))
            elif loop is not skip and loop.is_running() and not loop.is_closed():
                future = asyncio.run_coroutine_threadsafe(_wait_all(group), loop)
                waits.append(asyncio.wrap_future(future))
        if waits:
            async with Deadline(timeout):
                await asyncio.gather(*waits, return_exceptions=True)

    async def aclose(self, *, skip: asyncio.AbstractEventLoop | None = None) -> None:
        """The client is closing: cancel every prediction its calls still own (the calls see
        it canceled), finish the creates on their way, and wait (bounded) for all of it."""
        loop = asyncio.get_running_loop()
        owned = list(self._owned.values())
        ending = [life.close_from(loop) for life in owned]
        try:
            await self.drain(skip=skip)
            # The calls see their predictions canceled (a stream's ``done``, a poll) and end,
            # before the sessions they read from close under them.
            waits = [end for end in ending if end is not None]
            if waits:
                await asyncio.wait(waits, timeout=CANCEL_TIMEOUT)
        except asyncio.TimeoutError:
            log.warning("closing the client left cleanups under way: %s", self.pending())


async def _wait_all(tasks: Iterable[asyncio.Task[Any]]) -> None:
    await asyncio.wait(list(tasks))


class Lifetime:
    """One call's ownership of one prediction (``async with registry.own(…) as life``).

    ``create`` (or ``adopt``) names the prediction; leaving the block by an exception, a
    cancellation or a closed generator abandons it (``abandon``); leaving it normally, or
    after ``release``, leaves the prediction alone.
    """

    __slots__ = (
        "busy",
        "cancel_on_exit",
        "canceled",
        "create_task",
        "created",
        "ended",
        "loop",
        "on_named",
        "prediction",
        "registry",
        "shown",
    )

    def __init__(self, registry: Lifetimes, shown: str, cancel_on_exit: bool) -> None:
        self.registry = registry
        self.shown = shown
        self.cancel_on_exit = cancel_on_exit
        self.prediction: Prediction | None = None
        #: Told of the prediction when only the cleanup of an abandoned create learns it (a
        #: batch then knows what became of its item).
        self.on_named: Callable[[Prediction], object] | None = None
        self.create_task: asyncio.Task[Any] | None = None
        self.created = False  # this call created the prediction (not adopted it)
        self.canceled = False
        self.loop: asyncio.AbstractEventLoop | None = None
        self.ended: asyncio.Future[None] | None = None  # set up by ``close_from``
        #: The call is running (a stream's generator: not suspended at a ``yield``).
        self.busy = True

    async def __aenter__(self) -> Lifetime:
        self.loop = asyncio.get_running_loop()
        if self.cancel_on_exit:
            self.registry._add(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc is not None:
                await self.abandon(exc)
        finally:
            self.registry._discard(self)
            if self.ended is not None and not self.ended.done():
                self.ended.set_result(None)

    async def create(self, create: Awaitable[T]) -> T:
        """THE shielded create: the request runs in a task of its own, so a caller who gives
        up mid-request still learns (in ``abandon``) which prediction to cancel.

        The caller awaits a plain future that the task completes (``_answer``): cancelling
        the caller cancels that future, never the request, as ``asyncio.shield`` would, at
        the cost of one future instead of a future and two done-callbacks."""
        self.created = True
        if not self.cancel_on_exit:
            token = GUARDED.set(True)  # left running on purpose: not guarded below either
            try:
                result = await create
            finally:
                GUARDED.reset(token)
        else:
            loop = asyncio.get_running_loop()
            waiter: asyncio.Future[T] = loop.create_future()
            task = loop.create_task(_answer(create, waiter))
            self.create_task = task
            try:
                result = await waiter
            except asyncio.CancelledError:
                raise  # the task goes on: ``abandon`` finishes it and cancels what it made
            except BaseException:
                if task.done() and not task.cancelled():
                    task.exception()  # the caller has it (from the waiter)
                raise
            self.create_task = None
        self.prediction = _named(result)
        return result

    def adopt(self, prediction: Prediction) -> None:
        """Own a prediction created elsewhere (a resumed batch, ``prediction.async_stream``)."""
        self.prediction = prediction

    def _named_late(self, prediction: Prediction) -> None:
        self.adopt(prediction)
        if self.on_named is not None:
            self.on_named(prediction)

    def release(self) -> None:
        """The call is done with the prediction: leave it alone whatever happens next."""
        self.cancel_on_exit = False
        self.registry._discard(self)

    async def abandon(self, exc: BaseException) -> None:
        """The call gives up (``exc``): cancel the prediction, waiting for the cleanup
        (shielded); a second cancellation leaves it to the background. An error after the
        create also says what became of the prediction."""
        prediction = self.prediction
        running = prediction is not None and not prediction.terminal
        wanted = self.cancel_on_exit
        cleanup = self._cleanup() if wanted else None
        if cleanup is not None:
            self.canceled = await asyncio.shield(cleanup)
        if running and self.created and isinstance(exc, Exception):
            assert prediction is not None
            if not wanted:
                fate = "it is still running (cancel_on_exit=False)"
            elif self.canceled:
                fate = "it has been canceled"
            else:
                fate = "canceling it failed: it may still run"
            annotate(exc, f"prediction {prediction.id} was created; {fate}")

    def _cleanup(self) -> asyncio.Task[bool] | None:
        """Start this lifetime's cleanup (once): finish an in-flight create and cancel what
        it made, or cancel the named prediction unless it has ended."""
        task = self.create_task
        if task is not None and self.prediction is None:
            if task.done() and _outcome(task) is None:
                return None  # it failed: nothing was made (or its error says so)
            self.cancel_on_exit = False
            return self.registry.finish_create(task, self.shown, self._named_late)
        prediction = self.prediction
        if prediction is None or prediction.terminal:
            return None
        self.cancel_on_exit = False
        return self.registry.cancel(prediction)

    def close_from(self, loop: asyncio.AbstractEventLoop) -> asyncio.Future[None] | None:
        """``client.aclose()`` on ``loop``: start this lifetime's cleanup now, on its own loop;
        on ``loop`` itself, a future done when the call has ended."""
        if not self.cancel_on_exit:
            return None
        if self.loop is loop:
            self._cleanup()
            if not self.busy:
                return None  # a generator left suspended: it ends when it is closed
            self.ended = loop.create_future()
            return self.ended
        if self.loop is not None and self.loop.is_running():
            self.loop.call_soon_threadsafe(self._cleanup)
        return None

    def timeout_message(self, message: str) -> str:
        prediction = self.prediction
        if prediction is None:
            return message + "; the prediction was not created in time"
        if self.canceled:
            return message + f"; prediction {prediction.id} was canceled"
        if prediction.terminal:
            return message + f"; prediction {prediction.id} finished as {prediction.status}"
        return message + f"; prediction {prediction.id} is still running"


# -- sending a cancel ------------------------------------------------------------------------------
async def _cancel_quietly(prediction: Prediction) -> bool:
    try:
        try:
            async with Deadline(CANCEL_TIMEOUT):
                await _send_cancel(prediction)
        except asyncio.CancelledError:
            # Only the loop's shutdown cancels this task, and the loop runs until it ends.
            _uncancel()
            async with Deadline(CANCEL_TIMEOUT):
                await _send_cancel(prediction)
    except (ReplicateAsyncError, asyncio.TimeoutError) as exc:
        log.warning("could not cancel prediction %s: %s", prediction.id, exc)
        return False
    return True


def _session_open(client: _Connected) -> bool:
    """Whether the client has an open session on this loop. None (or a closed one) means the
    client or the loop is closing: ``asyncio.run`` closes the session's guard while it
    finalises async generators, and a new session opened then would never be closed."""
    transport = client._transport
    if transport.closed:
        return False
    state = transport._sessions.get(asyncio.get_running_loop())
    return state is not None and not state.session.closed


async def _send_cancel(prediction: Prediction) -> None:
    client = cast("_Connected", prediction._bound())
    if _session_open(client):
        try:
            await prediction.async_cancel()
            return
        except (TransportError, ConfigurationError):
            if _session_open(client):
                raise  # a real failure, not the client closing under the request
    data = await asyncio.wrap_future(
        asyncio.run_coroutine_threadsafe(_cancel_detached(client, prediction.id), get_bridge_loop())
    )
    prediction._update(Prediction.from_dict(data))


async def _cancel_detached(client: _Connected, prediction_id: str) -> Any:
    """``POST /predictions/{id}/cancel`` on a transport of its own (run on the bridge loop)."""
    from .._io.transport import Request

    transport = client._transport.detached()
    try:
        path = f"/predictions/{quote(prediction_id, safe='')}/cancel"
        response = await transport.request(Request("POST", path, idempotent=True))
        return response.json()
    finally:
        await transport.aclose()


async def _cancel_when_created(
    task: asyncio.Task[Any], shown: str, on_named: Callable[[Prediction], object] | None
) -> bool:
    try:
        async with Deadline(ANSWER_TIMEOUT):
            await asyncio.shield(task)
    except asyncio.CancelledError:
        _uncancel()  # the loop is ending: the create was cancelled too; see how it ended
        await asyncio.wait({task}, timeout=CANCEL_TIMEOUT)
    except (Exception, asyncio.TimeoutError):
        pass  # how it failed says whether a prediction may exist (below)
    prediction = _outcome(task)
    if prediction is not None:
        if on_named is not None:
            on_named(prediction)
        return not prediction.terminal and await _cancel_quietly(prediction)
    if not task.done() or task.cancelled() or isinstance(task.exception(), _UNKNOWN_OUTCOME):
        log.warning(
            "a run of %s was abandoned while its create request was on its way, and the "
            "request was cut off before the API named the prediction: a prediction may still "
            "be running (see your predictions list). cancel_after= bounds any run on the server.",
            shown,
        )
    return False


def _warn_at_exit(cleanups: dict[asyncio.Task[Any], str], lock: threading.Lock) -> None:
    """At interpreter exit (or when the registry goes): name what may still run."""
    with lock:
        left = [shown for task, shown in cleanups.items() if not task.done()]
    if left:
        log.warning(
            "the program ended while canceling abandoned predictions; these may still run: %s",
            ", ".join(left),
        )


def annotate(exc: BaseException, note: str) -> None:
    """Append ``note`` to the error's message (the library's errors keep it in ``message``)."""
    message = getattr(exc, "message", None)
    if isinstance(message, str):
        exc.message = f"{message}\n  {note}"  # type: ignore[attr-defined]
        exc.args = (exc.message,)  # type: ignore[attr-defined]
    elif isinstance(exc, ReplicateAsyncError) and len(exc.args) == 1:
        exc.args = (f"{exc.args[0]}\n  {note}",)
    elif hasattr(exc, "add_note"):  # not one of ours: Python 3.11+ shows notes with it
        exc.add_note(note)

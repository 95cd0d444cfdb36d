"""``run()``: create a prediction, finish the job, shape the output.

The steps, and the defects each one rules out (``PEER-DEFECTS.md``):

1. **Create** with ``Prefer: wait`` (sync mode). The reference may be ``owner/name``,
   ``owner/name:<version>``, a bare 64-hex version id (5), a ``Model``/``Version`` object, or
   ``deployment="owner/name"``; anything else fails before any request.
2. **Finish** (``_finish``). A sync-mode answer may be ``processing`` with the full output
   (API-FACTS, "Sync mode"): only a terminal status ends the wait (1), ``aborted`` included
   (4), through the prediction's stream or by polling with adaptive backoff (3).
3. **Bound it.** ``timeout=`` bounds the whole call; when it expires, or when the awaiting task
   is cancelled, the remote prediction is canceled too (``cancel_on_exit``), with a shielded,
   bounded cancel request (3, 30) that survives the end of ``asyncio.run`` (``_finish``,
   "Abandoning"). A create still on its way is waited for (it answers at once outside sync
   mode) so that what it made is canceled before the call returns. A step after the create
   that fails (a network error while waiting, say) cancels the prediction too, and the error
   says which prediction it was. ``cancel_after=`` sets the server-side deadline.
   Files uploaded for a create that fails are deleted.
4. **Shape** (``_finish``) by the version's schema (cached per client): token streams are
   joined into ``str`` (2), ``format: uri`` values become ``FileOutput`` and nothing else does,
   unless ``use_file_output=False`` (7). ``failed``/``canceled``/``aborted`` raise their own
   errors instead of returning ``None`` (6).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import attrs

from .._core.errors import (
    ConfigurationError,
    NotFoundError,
    ReplicateError,
    RunTimeoutError,
    ServerError,
    UnprocessableEntityError,
)
from .._core.refs import parse_deployment, parse_ref
from .._core.request import (
    MAX_WAIT,
    cancel_after_header,
    check_input,
    prefer_header,
    validate_webhook,
)
from ..types import Model, Prediction, Version
from .file_input import delete_uploads, prepare_input
from .input_check import check_target_input
from .wait import (
    CANCEL_TIMEOUT,
    NOT_CACHED,
    abandon_create,
    cancel_remote,
    cancel_when_created,
    give_up,
    raise_for_status,
    shape_cached,
    shape_output,
    wait_for_terminal,
)

if TYPE_CHECKING:
    from ..types import File
    from .context import OpsClient

__all__ = [
    "CANCEL_TIMEOUT",
    "RunOptions",
    "Target",
    "cancel_remote",
    "cancel_when_created",
    "create_prediction",
    "raise_for_status",
    "resolve_target",
    "run_prediction",
    "shape_output",
    "wait_for_terminal",
]

Ref = str | Model | Version | None

CREATE_GRACE = 5.0
"""Seconds an abandoned run waits for an in-flight create to learn the id it must cancel."""


def _events_tuple(value: Iterable[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        raise ConfigurationError(
            f"webhook_events_filter must be a list such as ['completed'], got {value!r}"
        )
    return tuple(value)


@attrs.frozen
class RunOptions:
    """How ``run()`` creates, waits and shapes (validated when built, before any request).

    ``wait``: ``True`` (sync mode, 60 s), seconds 1–60, or ``False`` (create, then wait on the
    stream or poll). ``timeout``: seconds for the whole call. ``cancel_on_exit``: cancel the
    remote prediction when the timeout expires or the awaiting task is cancelled.
    ``cancel_after``: server-side deadline (``"5m"``, seconds, ``timedelta``; at least 5 s).
    ``use_file_output``: ``format: uri`` values become ``FileOutput`` (else plain URLs).
    ``file_encoding``: how file inputs are sent (``"upload"``, ``"data_uri"``, None = auto).
    ``validate``: check the input against the version's schema before anything is sent.
    """

    wait: bool | int = True
    timeout: float | None = None
    cancel_on_exit: bool = True
    cancel_after: str | int | float | timedelta | None = None
    use_file_output: bool = True
    file_encoding: str | None = None
    webhook: str | None = None
    webhook_events_filter: tuple[str, ...] | None = attrs.field(
        default=None, converter=_events_tuple
    )
    validate: bool = False

    def __attrs_post_init__(self) -> None:
        if self.wait is not True:
            prefer_header(self.wait)
        if self.cancel_after is not None:
            cancel_after_header(self.cancel_after)
        if self.webhook is not None or self.webhook_events_filter is not None:
            validate_webhook(self.webhook, self.webhook_events_filter)
        if self.timeout is not None and (
            isinstance(self.timeout, bool)
            or not isinstance(self.timeout, int | float)
            or not self.timeout > 0
        ):
            raise ConfigurationError(
                f"timeout must be a positive number of seconds or None, got {self.timeout!r}"
            )
        if self.file_encoding not in (None, "upload", "data_uri"):
            raise ConfigurationError(
                f"file_encoding must be 'upload', 'data_uri' or None, got {self.file_encoding!r}"
            )

    def sync_wait(self) -> bool | int | None:
        """The ``Prefer: wait`` value to send: never longer than the whole call may take."""
        if self.wait is False:
            return None
        if self.timeout is None:
            return self.wait
        limit = MAX_WAIT if self.wait is True else self.wait
        seconds = int(min(limit, self.timeout))
        return seconds if seconds >= 1 else None


@attrs.frozen
class Target:
    """What to run: keyword arguments for ``predictions.async_create`` and what is known of
    the model (``owner/name``) and its schema (a ``Model``/``Version`` object) in advance."""

    create: dict[str, Any]
    model: str | None = None
    hint: Model | Version | None = None
    shown: str = ""


_TARGETS: dict[str, Target] = {}
_TARGETS_MAX = 512  # model names a process runs; bounded so arbitrary refs cannot grow it


def resolve_target(ref: Ref, deployment: str | None = None) -> Target:
    """Check a model reference or deployment and say how to create it (pure).

    Raises ``InvalidReferenceError`` listing the accepted forms for anything else. Targets of
    string references are kept (they are immutable), so a fan-out parses each name once.
    """
    if deployment is None and isinstance(ref, str):
        target = _TARGETS.get(ref)
        if target is None:
            target = _resolve(ref, None)
            if len(_TARGETS) >= _TARGETS_MAX:
                _TARGETS.clear()
            _TARGETS[ref] = target
        return target
    return _resolve(ref, deployment)


def _resolve(ref: Ref, deployment: str | None) -> Target:
    if deployment is not None:
        if ref is not None:
            raise ConfigurationError("pass a model reference or deployment=, not both")
        owner, name = parse_deployment(deployment)
        return Target({"deployment": f"{owner}/{name}"}, shown=f"deployment {owner}/{name}")
    if isinstance(ref, Version):
        return Target({"version": ref}, hint=ref, shown=ref.id)
    if isinstance(ref, Model):
        return Target({"model": ref}, model=ref.id, hint=ref, shown=ref.id)
    parsed = parse_ref(ref)  # type: ignore[arg-type]  # non-str raises, listing the forms
    shown = str(parsed)
    if parsed.version is None:
        return Target({"model": shown}, model=parsed.model, shown=shown)
    return Target({"version": shown}, model=parsed.model, shown=shown)


async def create_prediction(
    client: OpsClient,
    target: Target,
    input: Any,
    options: RunOptions,
    *,
    wait: bool | int | None,
    stream: bool | None = None,
) -> tuple[Prediction, Target]:
    """Create the prediction; ``owner/name`` of a model that is not official runs its latest
    version (the models endpoint only serves official models). What a model is, and its
    latest version, are remembered for a few minutes (``SchemaCache``), so a fan-out looks
    them up once. File inputs are checked (and sent) before any other request."""
    # File inputs are sent once, before the first create (a second one reuses their URLs),
    # and deleted when the create fails: always when the API refused it (4xx: nothing was
    # created); after an error that leaves it unknown (5xx, a lost connection, cancellation)
    # only when the run cancels what it abandons, since a prediction may need them.
    uploaded: list[File] = []
    input = check_input(input)
    if options.validate:
        await check_target_input(client, target, input)
    input = await prepare_input(client, input, options.file_encoding, uploaded=uploaded)
    try:
        target = await _name_the_model(client, target)
        return await _create_or_pin(client, target, input, options, wait, stream)
    except BaseException as exc:
        refused = isinstance(exc, ReplicateError) and not isinstance(exc, ServerError)
        if uploaded and (refused or options.cancel_on_exit):
            await delete_uploads(client, uploaded)
        raise


async def _name_the_model(client: OpsClient, target: Target) -> Target:
    """For ``owner/name``: whether to run it through the official-models endpoint or to name
    its latest version, from one lookup shared by concurrent runs (instead of a refused
    create per run of a fan-out). A model the API marks neither way, or a failed lookup,
    leaves the create to find out, as ``_create_or_pin`` does."""
    cache = client._schemas
    if "model" in target.create and target.model is not None:
        known = cache.latest(target.model)
        if known is None and not cache.official(target.model):
            with contextlib.suppress(ReplicateError):  # the create reports a bad model
                model = await cache.lookup_model(target.model)
                if model.extra.get("is_official") is False:
                    known = cache.latest(target.model)
        if known is not None:
            target = _pinned(target, target.model, known)
    return target


async def _create_or_pin(
    client: OpsClient,
    target: Target,
    input: dict[str, Any],
    options: RunOptions,
    wait: bool | int | None,
    stream: bool | None,
) -> tuple[Prediction, Target]:
    try:
        return await _create(client, target, input, options, wait, stream), target
    except (NotFoundError, UnprocessableEntityError) as exc:
        if "model" not in target.create or target.model is None or exc.invalid_fields:
            raise
        try:
            latest = await client._schemas.lookup_latest(target.model)
        except ReplicateError:
            raise exc from None
        if latest is None:
            raise
        target = _pinned(target, target.model, latest)
        return await _create(client, target, input, options, wait, stream), target


def _pinned(target: Target, model: str, version: Version) -> Target:
    return attrs.evolve(target, create={"version": f"{model}:{version.id}"}, hint=version)


def _create(
    client: OpsClient,
    target: Target,
    input: Any,
    options: RunOptions,
    wait: bool | int | None,
    stream: bool | None,
) -> Awaitable[Prediction]:
    return client.predictions.async_create(
        **target.create,
        input=input,
        webhook=options.webhook,
        webhook_events_filter=options.webhook_events_filter,
        stream=stream,
        wait=wait,
        cancel_after=options.cancel_after,
        file_encoding=options.file_encoding,
    )


class _Run:
    """The state one ``run_prediction`` call needs to clean up after itself."""

    __slots__ = (
        "canceled",
        "client",
        "create_task",
        "options",
        "prediction",
        "target",
        "timed_out",
    )

    def __init__(self, client: OpsClient, options: RunOptions, target: Target) -> None:
        self.client = client
        self.options = options
        self.target = target
        self.prediction: Prediction | None = None
        self.create_task: asyncio.Task[Prediction] | None = None
        self.timed_out = False
        self.canceled = False

    def expire(self, task: asyncio.Task[Any]) -> None:
        self.timed_out = True
        task.cancel()

    async def create(
        self, input: Any, on_created: Callable[[Prediction], object] | None
    ) -> Prediction:
        wait = self.options.sync_wait()
        prediction, self.target = await create_prediction(
            self.client, self.target, input, self.options, wait=wait
        )
        self.prediction = prediction
        if on_created is not None:
            on_created(prediction)
        return prediction

    async def abandon(self) -> None:
        """The run was cancelled or timed out: cancel the remote prediction if asked to."""
        if not self.options.cancel_on_exit:
            return
        task = self.create_task
        if self.prediction is None and task is not None:
            # Outside sync mode the create answers at once, and a timed-out run capped its
            # sync wait to the timeout: wait for the answer, so that what it made is canceled
            # before this call returns (a background task may not outlive the event loop).
            quick = self.timed_out or self.options.sync_wait() is None
            grace = CREATE_GRACE if quick else 0.0
            self.canceled = await abandon_create(task, self.target.shown, grace)
            return
        prediction = self.prediction
        if prediction is None or prediction.terminal:
            return
        self.canceled = await cancel_remote(prediction)

    def timeout_error(self) -> RunTimeoutError:
        prediction = self.prediction
        what = f"run of {self.target.shown}" if self.target.shown else "run"
        message = f"{what} did not finish within {self.options.timeout:g} s"
        if prediction is None:
            message += "; the prediction was not created in time"
        elif self.canceled:
            message += f"; prediction {prediction.id} was canceled"
        elif prediction.terminal:
            message += f"; prediction {prediction.id} finished as {prediction.status}"
        else:
            message += f"; prediction {prediction.id} is still running"
        return RunTimeoutError(
            message,
            prediction_id=prediction.id if prediction is not None else None,
            canceled=self.canceled,
        )


async def run_prediction(
    client: OpsClient,
    ref: Ref,
    input: Any,
    options: RunOptions,
    *,
    deployment: str | None = None,
    on_created: Callable[[Prediction], object] | None = None,
) -> tuple[Prediction, Any]:
    """Create, finish and shape one prediction; return the terminal prediction and its output.

    ``on_created`` is called with the prediction as soon as it exists. Raises ``ModelError``,
    ``PredictionCanceledError``, ``PredictionAbortedError`` or ``RunTimeoutError``.
    """
    run = _Run(client, options, resolve_target(ref, deployment))
    loop = asyncio.get_running_loop()
    task = timer = None
    if options.timeout is not None:
        task = asyncio.current_task()
        if task is not None:
            timer = loop.call_later(options.timeout, run.expire, task)
    try:
        if options.cancel_on_exit:
            # A task of its own, shielded: if this run is cancelled mid-request, the answer
            # still arrives and says which prediction to cancel.
            run.create_task = loop.create_task(run.create(input, on_created))
            prediction = await asyncio.shield(run.create_task)
        else:
            prediction = await run.create(input, on_created)
        if not prediction.terminal:
            await wait_for_terminal(client, prediction)
        target = run.target
        output = shape_cached(
            client, prediction, use_file_output=options.use_file_output, model=target.model
        )
        if output is NOT_CACHED:
            output = await shape_output(
                client,
                prediction,
                use_file_output=options.use_file_output,
                model=target.model,
                hint=target.hint,
            )
    except asyncio.CancelledError:
        if timer is not None:
            timer.cancel()
        await run.abandon()
        if run.timed_out and task is not None:
            uncancel = getattr(task, "uncancel", None)  # Python 3.11+: undo our own cancel
            if uncancel is not None:
                uncancel()
            raise run.timeout_error() from None
        raise
    except Exception as exc:  # a step after the create failed: do not leave it running
        await give_up(run.prediction, exc, cancel=options.cancel_on_exit)
        raise
    finally:
        if timer is not None:
            timer.cancel()
    return prediction, output

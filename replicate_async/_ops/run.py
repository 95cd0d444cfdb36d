"""``run()``: create a prediction, finish the job, shape the output.

The steps, and the defects each one rules out (``PEER-DEFECTS.md``):

1. **Create** with a short ``Prefer: wait`` (sync mode, ``SYNC_WAIT`` = 5 s by default: a
   fast model's output comes back in the create; a slower one is followed). The reference
   may be ``owner/name``, ``owner/name:<version>``, a bare 64-hex version id (5), a
   ``Model``/``Version`` object, or ``deployment="owner/name"``; anything else fails
   before any request.
2. **Finish** (``_ops.wait``). A sync-mode answer may be ``processing`` with the full output
   (API-FACTS, "Sync mode"): only a terminal status ends the wait (1), ``aborted`` included
   (4), through the prediction's stream or by polling with adaptive backoff (3).
3. **Bound it.** ``timeout=`` bounds the whole call (``asyncio.timeout``: a cancellation from
   outside is never taken for it). When it expires, when the awaiting task is cancelled
   (``wait_for``, ``asyncio.timeout``, Ctrl-C) or when a step after the create fails, the
   prediction's lifetime (``_ops.lifetimes``) cancels the remote prediction
   (``cancel_on_exit``; 3, 30): a create still on its way is awaited, shielded, until it names
   the prediction, and the call returns once the cancel has been sent. An error says which
   prediction it was. ``cancel_after=`` sets the server-side deadline. Files uploaded for a
   create that fails are deleted.
4. **Shape** (``_ops.wait``) by the version's schema (cached per client): token streams are
   joined into ``str`` (2), ``format: uri`` values become ``FileOutput`` and nothing else does,
   unless ``use_file_output=False`` (7). ``failed``/``canceled``/``aborted`` raise their own
   errors instead of returning ``None`` (6).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import attrs

from .._core.errors import (
    ConfigurationError,
    InvalidResponseError,
    NotFoundError,
    ReplicateError,
    RunTimeoutError,
    ServerError,
    UnprocessableEntityError,
)
from .._core.http_types import Request, Response
from .._core.lifetime import Deadline
from .._core.refs import parse_deployment, parse_ref
from .._core.request import (
    cancel_after_header,
    check_input,
    prefer_header,
    validate_webhook,
)
from ..resources.predictions import build_create_request, create_target
from ..types import Model, Prediction, Version
from .file_input import delete_uploads, plain_input, prepare_input
from .hints import with_model_hints
from .input_check import check_target_input
from .lifetimes import SYNC_WAIT, Lifetime
from .target import Target
from .wait import NOT_CACHED, raise_for_status, shape_cached, shape_output, wait_for_terminal

if TYPE_CHECKING:
    from ..types import File
    from .context import OpsClient

__all__ = [
    "RunOptions",
    "Target",
    "create_prediction",
    "raise_for_status",
    "resolve_target",
    "run_prediction",
    "shape_output",
    "wait_for_terminal",
]

Ref = str | Model | Version | None


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

    ``wait``: ``True`` (sync mode for ``SYNC_WAIT`` = 5 s, then the stream or polling),
    seconds 1–60, or ``False`` (create, then wait on the stream or poll).
    ``timeout``: seconds for the whole call. ``cancel_on_exit``: cancel the
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

    @classmethod
    def of(cls, **options: Any) -> RunOptions:
        """``RunOptions(**options)``; the defaults are one shared object (options are
        immutable, and a fan-out would otherwise build and check the same ones per run). A
        value is a default only if it *is* the field's default (``wait=1`` is not ``True``)."""
        defaults = _DEFAULT_VALUES
        for name, value in options.items():
            if value is not defaults[name]:
                return cls(**options)
        return _DEFAULT_OPTIONS

    def sync_wait(self) -> int | None:
        """The ``Prefer: wait`` seconds to send: ``SYNC_WAIT`` for ``wait=True`` (short, so
        that a run given up during its create learns the id to cancel within seconds), and
        never longer than the whole call may take."""
        if self.wait is False:
            return None
        seconds = SYNC_WAIT if self.wait is True else int(self.wait)
        if self.timeout is not None:
            seconds = int(min(seconds, self.timeout))
        return seconds if seconds >= 1 else None


_DEFAULT_OPTIONS = RunOptions()
_DEFAULT_VALUES = {field.name: field.default for field in attrs.fields(RunOptions)}


def resolve_target(ref: Ref, deployment: str | None = None) -> Target:
    """Check a model reference or deployment and say how to create it (pure).

    Raises ``InvalidReferenceError`` listing the accepted forms for anything else. Targets of
    string references are kept (they are immutable), so a fan-out parses each name once.
    """
    if deployment is None and isinstance(ref, str):
        return _named_target(ref)
    return _resolve(ref, deployment)


# Model names a process runs; bounded so that arbitrary references cannot grow it.
@functools.lru_cache(maxsize=512)
def _named_target(ref: str) -> Target:
    return _resolve(ref, None)


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
    them up once. File inputs are checked (and sent) before any other request.

    The common path is one request built here and sent by the transport; a refused create
    (404, 422) takes the slow path: the latest version pinned, "did you mean" for a model
    that does not exist."""
    # File inputs are sent once, before the first create (a second one reuses their URLs),
    # and deleted when the create fails: always when the API refused it (4xx: nothing was
    # created); after an error that leaves it unknown (5xx, a lost connection, cancellation)
    # only when the run cancels what it abandons, since a prediction may need them.
    uploaded: list[File] = []
    input = check_input(input)
    if options.validate:
        await check_target_input(client, target, input)
    if not plain_input(input):  # (options.file_encoding was checked with the options)
        input = await prepare_input(client, input, options.file_encoding, uploaded=uploaded)
    try:
        model = target.model
        if model is not None and "model" in target.create:
            known = client._schemas.latest(model)
            if known is None:
                target = await _name_the_model(client, target)
            else:
                target = _pinned(target, model, known)
        request = _create_request(target, input, options, wait, stream)
        try:
            response = await client._transport.request(request)
        except (NotFoundError, UnprocessableEntityError) as exc:
            again = _create_refused(client, target, input, options, wait, stream, exc)
            return await with_model_hints(client, model, again)  # 404: "did you mean"
        return _created(client, request, response), target
    except BaseException as exc:
        refused = isinstance(exc, ReplicateError) and not isinstance(exc, ServerError)
        if uploaded and (refused or options.cancel_on_exit):
            await delete_uploads(client, uploaded)
        raise


async def _name_the_model(client: OpsClient, target: Target) -> Target:
    """For ``owner/name`` whose latest version is not known: whether to run it through the
    official-models endpoint or to name its latest version, from one lookup shared by
    concurrent runs (instead of a refused create per run of a fan-out). A model the API marks
    neither way, or a failed lookup, leaves the create to find out (``_create_refused``)."""
    cache = client._schemas
    assert target.model is not None
    if cache.official(target.model):
        return target
    known = None
    with contextlib.suppress(ReplicateError):  # the create reports a bad model
        model = await cache.lookup_model(target.model)
        if model.extra.get("is_official") is False:
            known = cache.latest(target.model)
    return target if known is None else _pinned(target, target.model, known)


async def _create_refused(
    client: OpsClient,
    target: Target,
    input: dict[str, Any],
    options: RunOptions,
    wait: bool | int | None,
    stream: bool | None,
    exc: NotFoundError | UnprocessableEntityError,
) -> tuple[Prediction, Target]:
    """A create of ``owner/name`` the models endpoint refused: create again with its latest
    version, when it has one; else ``exc``."""
    if "model" not in target.create or target.model is None or exc.invalid_fields:
        raise exc
    try:
        latest = await client._schemas.lookup_latest(target.model)
    except ReplicateError:
        raise exc from None
    if latest is None:
        raise exc
    target = _pinned(target, target.model, latest)
    return await _create(client, target, input, options, wait, stream), target


def _pinned(target: Target, model: str, version: Version) -> Target:
    return Target(
        {"version": f"{model}:{version.id}"}, model=target.model, hint=version, shown=target.shown
    )


def _endpoint(create: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The create's path and naming fields for a target's ``create`` (one key), kept per
    name so that a fan-out parses it once."""
    ((kind, value),) = create.items()
    if value.__class__ is not str:
        return _target_of(create)
    return _named_endpoint(kind, value)


@functools.lru_cache(maxsize=1024)  # bounded, as _named_target
def _named_endpoint(kind: str, value: str) -> tuple[str, dict[str, Any]]:
    return _target_of({kind: value})


def _target_of(create: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return create_target(create.get("version"), create.get("model"), create.get("deployment"))


def _create_request(
    target: Target,
    input: dict[str, Any],
    options: RunOptions,
    wait: bool | int | None,
    stream: bool | None,
) -> Request:
    """The create request for ``target`` (its input checked and prepared): what
    ``predictions.async_create`` sends, sent here without its guard (the caller's lifetime
    is it)."""
    path, fields = _endpoint(target.create)
    return build_create_request(
        path,
        fields,
        input,
        webhook=options.webhook,
        webhook_events_filter=options.webhook_events_filter,
        stream=stream,
        wait=wait,
        cancel_after=options.cancel_after,
        checked=True,
    )


def _created(client: OpsClient, request: Request, response: Response) -> Prediction:
    data = response.json()
    if not isinstance(data, dict):
        raise InvalidResponseError(
            f"expected a JSON object from {request.method} {request.url}, got {data!r:.200}"
        )
    return client._prediction(data)


async def _create(
    client: OpsClient,
    target: Target,
    input: dict[str, Any],
    options: RunOptions,
    wait: bool | int | None,
    stream: bool | None,
) -> Prediction:
    request = _create_request(target, input, options, wait, stream)
    return _created(client, request, await client._transport.request(request))


def run_prediction(
    client: OpsClient,
    ref: Ref,
    input: Any,
    options: RunOptions,
    *,
    deployment: str | None = None,
    on_created: Callable[[Prediction], object] | None = None,
) -> Awaitable[tuple[Prediction, Any]]:
    """Create, finish and shape one prediction; await it for the terminal prediction and its
    output. A bad reference raises here, before anything is awaited.

    ``on_created`` is called with the prediction as soon as it exists. Raises ``ModelError``,
    ``PredictionCanceledError``, ``PredictionAbortedError`` or ``RunTimeoutError``. The
    prediction's lifetime (``_ops.lifetimes``) cancels it when the call gives up: its
    ``timeout``, a cancellation, an error after the create. Without ``timeout`` no deadline
    is armed (no timer, no coroutine around the run).
    """
    target = resolve_target(ref, deployment)
    life = client._lifetimes.own(target.shown, cancel=options.cancel_on_exit)
    life.on_named = on_created  # also when the run is abandoned before its create answers
    if options.timeout is None:
        return _run(client, target, input, options, life, on_created)
    return _run_within(client, target, input, options, life, on_created)


async def _run_within(
    client: OpsClient,
    target: Target,
    input: Any,
    options: RunOptions,
    life: Lifetime,
    on_created: Callable[[Prediction], object] | None,
) -> tuple[Prediction, Any]:
    """``_run`` bounded by ``options.timeout``."""
    assert options.timeout is not None
    deadline = Deadline(options.timeout)
    try:
        async with deadline:
            return await _run(client, target, input, options, life, on_created)
    except asyncio.TimeoutError:
        if not deadline.expired:
            raise
        what = f"run of {target.shown}" if target.shown else "run"
        message = life.timeout_message(f"{what} did not finish within {options.timeout:g} s")
        prediction_id = life.prediction.id if life.prediction is not None else None
        canceled = life.canceled
        raise RunTimeoutError(message, prediction_id=prediction_id, canceled=canceled) from None


async def _run(
    client: OpsClient,
    target: Target,
    input: Any,
    options: RunOptions,
    life: Lifetime,
    on_created: Callable[[Prediction], object] | None,
) -> tuple[Prediction, Any]:
    async with life:
        prediction, target = await life.create(
            create_prediction(client, target, input, options, wait=options.sync_wait())
        )
        if on_created is not None:
            on_created(prediction)
        if not prediction.terminal:
            await wait_for_terminal(client, prediction)
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
        life.release()
    return prediction, output

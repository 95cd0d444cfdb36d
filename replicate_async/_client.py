"""The :class:`Client`: configuration, namespaces, lifecycle, and the entry verbs."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import ssl as ssl_module
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
)
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import attrs

from ._core.backoff import Backoff
from ._core.config import Secret, Timeouts, resolve_base_url, resolve_token
from ._core.errors import ConfigurationError
from ._core.events import StreamEvent
from ._core.http_types import RateLimiter
from ._core.ratelimit import TokenBucketLimiter
from ._core.retry import RetryPolicy
from ._io.bridge import blocking, blocking_iter, in_bridge_thread, run_blocking
from ._io.telemetry import Hook, Hooks, run_span
from ._io.transport import Transport
from ._ops.batch import DEFAULT_CONCURRENCY, BatchProgress, BatchResult, run_batch
from ._ops.batch_types import Item as BatchItem
from ._ops.file_input import delete_uploads, prepare_input
from ._ops.lifetimes import Lifetimes
from ._ops.run import RunOptions, create_prediction, resolve_target, run_prediction
from ._ops.schemas import SchemaCache
from ._ops.stream import stream_prediction, stream_run
from ._ops.use import ModelFunction
from ._ops.wait import shape_output, wait_for_terminal
from .resources.account import AccountNamespace
from .resources.collections import Collections
from .resources.deployments import Deployments
from .resources.files import Files
from .resources.hardware import HardwareNamespace
from .resources.models import Models
from .resources.predictions import Predictions
from .resources.search import SearchNamespace
from .resources.trainings import Trainings
from .resources.webhooks import Webhooks
from .types import Account, File, Model, Prediction, SearchResults, Version

if TYPE_CHECKING:
    from ._io.transport import BaseConnector, ClientSession

__all__ = ["Client", "ProgressCallback"]

log = logging.getLogger("replicate_async")

ProgressCallback = Callable[[Prediction], object]
"""``on_progress``: called with the prediction (a plain or ``async`` callable)."""

__version__ = "0.1.0"
DEFAULT_USER_AGENT = f"replicate-async/{__version__}"


class Client:
    """A Replicate API client for async apps, notebooks and scripts alike.

    Share one client across all tasks of an app and close it at the end::

        async with Client() as client:
            text = await client.run("meta/meta-llama-3-8b-instruct", input={"prompt": "Hi"})

    Blocking twins (``run_sync``, ``predictions.create`` …) work in scripts and inside a running
    event loop (Jupyter). ``with Client() as client:`` and ``client.close()`` close it there.

    The token comes from ``api_token``, else ``REPLICATE_API_TOKEN``, else ``REPLICATE_API_KEY``,
    else a ``.env`` file in the working directory; it is read when first needed and never shown.
    ``base_url`` (or ``REPLICATE_BASE_URL``) overrides the API root. ``timeout`` is the total for
    a JSON call in seconds, or a :class:`Timeouts`; ``retry`` a :class:`RetryPolicy` or a number
    of retries (0 disables them). ``ssl`` is the ``SSLContext`` HTTPS connections verify with
    (default: the system's trust store), e.g. ``emulator.ssl_context()`` of an HTTPS emulator.

    HTTP options (see docs/http.md): ``default_headers`` (or ``headers``, the official
    client's name) are sent with every API call;
    ``proxy`` (else ``HTTP(S)_PROXY``/``NO_PROXY`` unless ``trust_env=False``) routes them
    through a proxy; ``session`` (an ``aiohttp.ClientSession``) or ``connector`` lets an app
    bring its own, which the client never closes; ``on_request``/``on_response`` or
    ``event_hooks={"request": [...], "response": [...]}`` observe every exchange.
    ``base_url``, ``timeouts`` and ``retry`` are read-only: :meth:`with_options` makes a
    client with other ones that shares this one's connections and rate limiter.
    """

    def __init__(
        self,
        api_token: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | Timeouts | None = None,
        retry: RetryPolicy | int | None = None,
        user_agent: str | None = None,
        max_connections: int = 200,
        poll_interval: float | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        ssl: ssl_module.SSLContext | None = None,
        default_headers: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        proxy: str | None = None,
        trust_env: bool = True,
        allow_insecure_proxy: bool = False,
        session: ClientSession | None = None,
        connector: BaseConnector | None = None,
        on_request: Hook | Iterable[Hook] | None = None,
        on_response: Hook | Iterable[Hook] | None = None,
        event_hooks: Mapping[str, Iterable[Hook]] | None = None,
    ) -> None:
        if api_token is not None and not isinstance(api_token, str):
            raise ConfigurationError("api_token must be a string")
        self._explicit_token = Secret(api_token) if api_token is not None else None
        self._token: Secret | None = None
        self._base_url = resolve_base_url(base_url)
        timeouts = Timeouts.of(timeout)
        retry_policy = _retry_policy(retry)
        self.poll_interval = poll_interval
        self._sleep: Callable[[float], Awaitable[None]] = sleep or asyncio.sleep
        if max_connections < 1:
            raise ConfigurationError("max_connections must be at least 1")
        self._transport = Transport(
            base_url=self.base_url,
            token=self._resolve_token,
            user_agent=user_agent or DEFAULT_USER_AGENT,
            timeouts=timeouts,
            retry=retry_policy,
            sleep=self._sleep,
            max_connections=max_connections,
            limiter=TokenBucketLimiter(sleep=self._sleep),
            ssl=ssl,
            default_headers={**(default_headers or {}), **(headers or {})},
            session=session,
            connector=connector,
            proxy=proxy,
            trust_env=trust_env,
            allow_insecure_proxy=allow_insecure_proxy,
            hooks=Hooks(on_request, on_response, event_hooks),
        )
        self._bind_namespaces()
        self._schemas = SchemaCache(self.models)
        self._lifetimes = Lifetimes()  # what this client's calls created and may abandon

    predictions: Predictions
    models: Models
    account: AccountNamespace
    trainings: Trainings
    deployments: Deployments
    files: Files
    collections: Collections
    hardware: HardwareNamespace
    webhooks: Webhooks
    _search: SearchNamespace
    accounts: _Accounts

    def _bind_namespaces(self) -> None:
        self.predictions = Predictions(self)
        self.models = Models(self)
        self.account = AccountNamespace(self)
        self.trainings = Trainings(self)
        self.deployments = Deployments(self)
        self.files = Files(self)
        self.collections = Collections(self)
        self.hardware = HardwareNamespace(self)
        self.webhooks = Webhooks(self)
        self._search = SearchNamespace(self)
        self.accounts = _Accounts(self.account)

    # -- configuration -------------------------------------------------------------------
    def _resolve_token(self) -> Secret:
        if self._token is None:
            explicit = self._explicit_token.reveal() if self._explicit_token else None
            try:
                self._token = resolve_token(explicit)
            except ConfigurationError:
                scoped = cog_scope_token()
                if scoped is None:
                    raise
                return scoped  # not kept: each request to a Cog model has its own scope
        return self._token

    @property
    def base_url(self) -> Any:
        """The API root (a ``yarl.URL``; read-only: pass ``base_url=`` to ``Client``)."""
        return self._base_url

    @property
    def timeouts(self) -> Timeouts:
        """The :class:`Timeouts` (read-only: see :meth:`with_options`)."""
        return self._transport.timeouts

    @property
    def retry(self) -> RetryPolicy:
        """The :class:`RetryPolicy` (read-only: see :meth:`with_options`)."""
        return self._transport.retry

    @property
    def default_headers(self) -> Mapping[str, str]:
        """The headers sent with every API call (read-only: see :meth:`with_options`)."""
        return dict(self._transport.default_headers)

    def with_options(
        self,
        *,
        timeout: float | Timeouts | None = None,
        retry: RetryPolicy | int | None = None,
        headers: Mapping[str, str] | None = None,
        poll_interval: float | None = None,
    ) -> Client:
        """A client with other timeouts, retries, extra headers or poll interval that shares
        this one's connections, rate limiter, token, hooks and lifetime (closing either closes
        both)::

            patient = client.with_options(timeout=300, retry=0, headers={"X-Team": "search"})

        A number for ``timeout`` changes the JSON-call total only; a :class:`Timeouts`
        replaces them all.
        """
        timeouts = None
        if isinstance(timeout, Timeouts):
            timeouts = timeout
        elif timeout is not None:
            timeouts = attrs.evolve(self.timeouts, request=Timeouts.of(timeout).request)
        other = copy.copy(self)
        other._transport = self._transport.derive(
            timeouts=timeouts,
            retry=_retry_policy(retry) if retry is not None else None,
            headers=headers,
        )
        if poll_interval is not None:
            other.poll_interval = poll_interval
        other._bind_namespaces()
        return other

    @property
    def rate_limiter(self) -> RateLimiter | None:
        """The client-side rate limiter every call passes through (``None``: none)."""
        return self._transport.limiter

    @rate_limiter.setter
    def rate_limiter(self, limiter: RateLimiter | None) -> None:
        self._transport.limiter = limiter

    def __repr__(self) -> str:
        state = "closed" if self._transport.closed else "open"
        return f"<replicate_async.Client base_url={str(self.base_url)!r} {state}>"

    # -- data binding --------------------------------------------------------------------
    async def _prepare_input(
        self, value: dict[str, Any], file_encoding: str | None, *, uploaded: list[File]
    ) -> dict[str, Any]:
        return await prepare_input(self, value, file_encoding, uploaded=uploaded)

    async def _delete_uploads(self, files: list[File]) -> None:
        await delete_uploads(self, files)

    def _stream_prediction(
        self, prediction: Prediction, *, use_file_output: bool, cancel_on_exit: bool
    ) -> AsyncGenerator[StreamEvent, None]:
        return stream_prediction(
            self, prediction, use_file_output=use_file_output, cancel_on_exit=cancel_on_exit
        )

    async def _prediction_result(self, prediction: Prediction, *, use_file_output: bool) -> Any:
        await wait_for_terminal(self, prediction)
        return await shape_output(self, prediction, use_file_output=use_file_output)

    def _prediction(self, data: Mapping[str, Any]) -> Prediction:
        # Which stream hosts get the token is the transport's call, from the API's own
        # answers it read; a Prediction built here (a webhook's, say) never extends it.
        return Prediction.from_dict(data, client=self)

    # -- run and stream ------------------------------------------------------------------
    async def run(
        self,
        ref: str | Model | Version | None = None,
        input: Mapping[str, Any] | None = None,
        *,
        deployment: str | None = None,
        wait: bool | int = True,
        timeout: float | None = None,
        cancel_on_exit: bool = True,
        cancel_after: str | int | float | timedelta | None = None,
        use_file_output: bool = True,
        file_encoding: str | None = None,
        webhook: str | None = None,
        webhook_events_filter: Iterable[str] | None = None,
        on_progress: ProgressCallback | None = None,
        on_created: Callable[[Prediction], object] | None = None,
        validate: bool = False,
    ) -> Any:
        """Run a model and return its output, shaped by the version's output schema.

        ``ref``: ``"owner/name"`` (latest version; official models), ``"owner/name:<version>"``,
        a bare 64-hex version id, or a ``Model``/``Version``; or pass ``deployment="owner/name"``.
        Token streams come back as one ``str``, other iterators as lists, and file values
        (``format: uri``) as ``FileOutput`` (plain URLs with ``use_file_output=False``).

        The prediction is created in sync mode (``wait=True``: up to 60 s, or ``wait=N``
        seconds; ``wait=False`` skips it) and then followed until it is terminal, through its
        stream or by polling. ``timeout`` (seconds) bounds the whole call and raises
        ``RunTimeoutError`` (with the prediction id). When the timeout expires or the awaiting
        task is cancelled, the remote prediction is canceled too, unless
        ``cancel_on_exit=False``. ``cancel_after`` sets a server-side deadline (``"5m"``,
        seconds, ``timedelta``; at least 5 s). Failed, canceled and aborted predictions raise
        ``ModelError``, ``PredictionCanceledError`` and ``PredictionAbortedError``.
        ``input`` may hold ``Path``, ``bytes`` or binary files (uploaded, or inlined as
        ``data:`` URIs; ``file_encoding="upload"|"data_uri"`` forces one).

        ``on_progress`` (a plain or ``async`` callable) is called with the ``Prediction``: as
        soon as it is created (its ``id`` is known), whenever its status or logs change (the
        run then also reads it, at most about once a second), and once at the end, terminal,
        with its ``metrics`` (also when it failed). What it raises is logged and ignored.
        With ``on_progress`` the prediction is created without sync mode (``wait`` is
        ignored), so that its id is known at once. ``on_created`` (a plain callable) is only
        called once, with the prediction the create returned (in sync mode, when it answers),
        and makes no request of its own. ``validate=True``
        checks the input against the version's schema first: a bad input raises the API's
        ``UnprocessableEntityError`` (``invalid_fields``) before anything is sent.
        """
        options = RunOptions.of(
            # With on_progress the id must be known at once: no sync mode (Prefer: wait).
            wait=False if on_progress is not None else wait,
            timeout=timeout,
            cancel_on_exit=cancel_on_exit,
            cancel_after=cancel_after,
            use_file_output=use_file_output,
            file_encoding=file_encoding,
            webhook=webhook,
            webhook_events_filter=webhook_events_filter,
            validate=validate,
        )
        with run_span("run", deployment or ref) as span:

            def created(prediction: Prediction) -> None:
                span.prediction(prediction)
                if on_created is not None:
                    try:
                        on_created(prediction)
                    except Exception:  # the prediction exists: the run goes on
                        log.warning("on_created raised; ignored", exc_info=True)

            try:
                if on_progress is None:
                    prediction, output = await run_prediction(
                        self,
                        ref,
                        input,
                        options,
                        deployment=deployment,
                        # Nothing to tell: no callback to call for nothing (a fan-out's case).
                        on_created=created if on_created or span.recording else None,
                    )
                else:
                    reporter = _ProgressReporter(self, on_progress, created)
                    prediction, output = await reporter.run(
                        run_prediction(
                            self,
                            ref,
                            input,
                            options,
                            deployment=deployment,
                            on_created=reporter.created,
                        )
                    )
            except Exception as exc:
                failed = getattr(exc, "prediction", None)
                if failed is not None:
                    span.prediction(failed)
                raise
            span.prediction(prediction)
        return output

    run_sync = blocking(run)
    async_run = run
    """The official client's name for :meth:`run` (``await client.async_run(...)``)."""

    # -- model functions -----------------------------------------------------------------
    def use(
        self,
        ref: str | Model | Version | None = None,
        *,
        deployment: str | None = None,
        pin: bool = False,
        validate: bool = True,
        wait: bool | int = True,
        timeout: float | None = None,
        use_file_output: bool = True,
        file_encoding: str | None = None,
    ) -> ModelFunction:
        """A model as a function: ``llama = client.use("meta/meta-llama-3-8b-instruct")``,
        then ``await llama(prompt="Hi")`` (or ``llama.run_sync(...)``, ``llama.stream(...)``,
        ``llama.batch(inputs)``, ``llama.create(...)``). Inputs are checked against the
        version's schema before anything is sent (``validate=False`` turns that off).
        ``owner/name`` follows the latest version unless ``pin=True`` (fixed at first use).
        No request is made here (so there is no blocking twin): the schema loads on first
        call, or with ``await llama.load()`` / ``llama.load_sync()``.
        """
        return ModelFunction(
            self,
            ref,
            deployment=deployment,
            pin=pin,
            validate=validate,
            wait=wait,
            timeout=timeout,
            use_file_output=use_file_output,
            file_encoding=file_encoding,
        )

    def stream(
        self,
        ref: str | Model | Version | None = None,
        input: Mapping[str, Any] | None = None,
        *,
        deployment: str | None = None,
        cancel_on_exit: bool = True,
        cancel_after: str | int | float | timedelta | None = None,
        use_file_output: bool = True,
        file_encoding: str | None = None,
        webhook: str | None = None,
        webhook_events_filter: Iterable[str] | None = None,
    ) -> AsyncGenerator[StreamEvent, None]:
        """Run a model and iterate its events as they happen: ``async for e in client.stream(…)``.

        Yields ``StreamEvent`` objects for ``output`` and ``logs``; ``str(event)`` is the
        generated text (empty for logs), ``event.output`` the item (a ``FileOutput`` for file
        outputs unless ``use_file_output=False``). The iteration ends at ``done``; a failed,
        canceled or aborted prediction raises ``ModelError``, ``PredictionCanceledError`` or
        ``PredictionAbortedError``. A dropped connection resumes with ``Last-Event-ID``; if it
        cannot, the rest of the output comes from the finished prediction, never repeated.
        Leaving the loop early closes the connection and cancels the prediction, unless
        ``cancel_on_exit=False``. ``ref`` and the other options are as for :meth:`run`.
        """
        options = RunOptions(
            wait=False,
            cancel_on_exit=cancel_on_exit,
            cancel_after=cancel_after,
            use_file_output=use_file_output,
            file_encoding=file_encoding,
            webhook=webhook,
            webhook_events_filter=webhook_events_filter,
        )
        return stream_run(self, ref, input, options, deployment=deployment)

    stream_sync = blocking_iter(stream)

    async def start(
        self,
        ref: str | Model | Version | None = None,
        input: Mapping[str, Any] | None = None,
        *,
        deployment: str | None = None,
        cancel_after: str | int | float | timedelta | None = None,
        file_encoding: str | None = None,
        webhook: str | None = None,
        webhook_events_filter: Iterable[str] | None = None,
    ) -> Prediction:
        """Start a run and return its prediction at once, without waiting for it.

        Takes what :meth:`run` takes (any model reference, including ``owner/name`` of a model
        that is not official: its latest version runs); follow it with
        ``prediction.async_wait()``, ``async_result()`` or ``async_stream()``.
        """
        options = RunOptions(
            wait=False,
            cancel_on_exit=False,
            cancel_after=cancel_after,
            file_encoding=file_encoding,
            webhook=webhook,
            webhook_events_filter=webhook_events_filter,
        )
        prediction, _ = await create_prediction(
            self, resolve_target(ref, deployment), input, options, wait=None
        )
        return prediction

    start_sync = blocking(start)

    def async_stream(
        self,
        ref: str | Model | Version | None = None,
        input: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> AwaitableStream:
        """The official client's name for :meth:`stream`. ``async for e in
        client.async_stream(...)`` works, and so does the official ``async for e in await
        client.async_stream(...)``."""
        return AwaitableStream(self.stream(ref, input, **options))

    # -- batch ---------------------------------------------------------------------------
    def batch(
        self,
        ref: str | Model | Version | None,
        inputs: Iterable[Mapping[str, Any] | BatchItem]
        | AsyncIterable[Mapping[str, Any] | BatchItem],
        *,
        deployment: str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        ordered: bool = False,
        on_progress: Callable[[BatchProgress], object] | None = None,
        on_start: Callable[[BatchItem, Prediction | None], object] | None = None,
        on_created: Callable[[BatchItem, Prediction | None], object] | None = None,
        wait: bool | int = False,
        timeout: float | None = None,
        cancel_after: str | int | float | timedelta | None = None,
        use_file_output: bool = True,
        file_encoding: str | None = None,
        webhook: str | None = None,
        webhook_events_filter: Iterable[str] | None = None,
    ) -> AsyncGenerator[BatchResult, None]:
        """Run a model on many inputs: ``async for result in client.batch(ref, inputs)``.

        ``inputs`` is any iterable or async iterable of input dicts, read lazily. Yields one
        ``BatchResult`` per input (``index``, ``input``, ``status``, ``prediction_id``,
        ``output`` or ``error``) as each finishes, or in input order with ``ordered=True``
        (``[r async for r in client.batch(..., ordered=True)]`` collects them all). A failed
        item never stops the others; only errors about every item (401, 402, 403, a model
        that does not exist) raise. At most ``concurrency`` predictions run at once, and all
        requests pass the client's rate limiter (``client.rate_limiter``). ``on_progress``
        is called with a ``BatchProgress`` (submitted, in flight, done, failed) whenever the
        counts change. Cancelling the task or leaving the loop cancels the predictions still
        running; the final progress report lists the items not handed out. ``ref``,
        ``deployment`` and the other options are as for :meth:`run`, except that ``wait``
        defaults to ``False`` (so that a cancellation can reach every prediction).

        To resume work, ``inputs`` may also yield :class:`BatchItem` objects: an item with its
        own ``index`` and, in ``adopt``, the id of a prediction already created for it, which
        is followed instead of creating another. ``on_start(item, None)`` is called just before
        an item's prediction is created and ``on_created(item, prediction)`` as soon as it
        exists (to journal ids, as ``replicate-async batch`` does).
        """
        options = RunOptions(
            wait=wait,
            timeout=timeout,
            cancel_after=cancel_after,
            use_file_output=use_file_output,
            file_encoding=file_encoding,
            webhook=webhook,
            webhook_events_filter=webhook_events_filter,
        )
        return run_batch(
            self,
            ref,
            inputs,
            options,
            deployment=deployment,
            concurrency=concurrency,
            ordered=ordered,
            on_progress=on_progress,
            on_start=on_start,
            on_created=on_created,
        )

    batch_sync = blocking_iter(batch)

    # -- search --------------------------------------------------------------------------
    async def search(self, query: str, *, limit: int | None = None) -> SearchResults:
        """Search public models, collections and docs pages (``GET /search``, in beta).

        Needs no API token. ``limit`` (1–50, server default 20) caps the models returned;
        ``results.models`` holds each model with its ``metadata`` (tags, relevance score).
        A coroutine, like every verb on the client itself; ``search_sync`` blocks.
        """
        return await self._search.async_search(query, limit=limit)

    search_sync = blocking(search)
    async_search = search  # the ``async_`` spelling of the namespaces, for symmetry

    # -- lifecycle -----------------------------------------------------------------------
    async def aclose(self) -> None:
        """Close every HTTP session this client opened (idempotent).

        Predictions that calls still running on this client created and would cancel on exit
        (``run``, ``stream``, ``batch`` …) are canceled first, creates still on their way are
        waited for and what they made canceled, and cancels under way are waited for, so that
        all of it goes out before the sessions close.
        """
        await self._aclose()

    async def _aclose(self, skip: asyncio.AbstractEventLoop | None = None) -> None:
        if not self._transport.closed:
            await self._lifetimes.aclose(skip=skip)
        await self._transport.aclose()

    def close(self) -> None:
        """Blocking twin of :meth:`aclose` (idempotent)."""
        if self._transport.closed and not self._transport._sessions:
            return
        try:
            asyncio.get_running_loop()
            running = True
        except RuntimeError:
            running = False
        if running and in_bridge_thread():
            raise ConfigurationError("use `await client.aclose()` inside coroutines")
        skip = None
        if running:
            # Inside a running loop (a notebook cell): that loop is blocked while we wait, so
            # its session is closed by a task it runs next; the others close on the bridge.
            skip = asyncio.get_running_loop()
            self._transport.close_current_loop_soon()
        run_blocking(self._aclose(skip))

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AwaitableStream:
    """An event stream that is also awaitable (``await`` gives the stream itself), so code
    written for the official ``async for e in await replicate.async_stream(...)`` runs."""

    def __init__(self, events: AsyncGenerator[StreamEvent, None]) -> None:
        self._events = events

    def __aiter__(self) -> AwaitableStream:
        return self

    async def __anext__(self) -> StreamEvent:
        return await self._events.__anext__()

    async def aclose(self) -> None:
        """Stop early: close the connection (and cancel the prediction, by default)."""
        await self._events.aclose()

    def __await__(self) -> Any:
        async def itself() -> AwaitableStream:
            return self

        return itself().__await__()


class _Accounts:
    """``client.accounts.current()``: the official client's name for ``client.account.get()``."""

    def __init__(self, account: AccountNamespace) -> None:
        self._account = account

    async def async_current(self) -> Account:
        """The account that owns the token."""
        return await self._account.async_get()

    def current(self) -> Account:
        """The account that owns the token (blocking)."""
        return self._account.get()


class _ProgressReporter:
    """Feeds ``on_progress`` for one run: the created prediction, each change of status or
    logs seen by reading it (a separate object: the run's own prediction is never touched),
    and the terminal prediction."""

    POLL_CEILING = 1.0

    def __init__(
        self,
        client: Client,
        callback: ProgressCallback,
        also: Callable[[Prediction], object] | None = None,
    ) -> None:
        self._client = client
        self._callback = callback
        self._also = also
        self._created: asyncio.Future[Prediction] = asyncio.get_running_loop().create_future()
        self._last: tuple[str | None, str | None] | None = None

    def created(self, prediction: Prediction) -> None:
        if self._also is not None:
            self._also(prediction)
        if not self._created.done():
            self._created.set_result(copy.copy(prediction))

    async def report(self, prediction: Prediction, *, always: bool = False) -> None:
        key = (prediction.status, prediction.logs)
        if key == self._last and not always:
            return
        self._last = key
        try:
            result = self._callback(prediction)
            if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                await result
        except Exception:
            log.warning("on_progress raised; ignored", exc_info=True)

    async def _watch(self) -> None:
        prediction = await self._created
        await self.report(prediction)
        backoff = Backoff(initial=0.1, ceiling=self.POLL_CEILING)
        while True:
            await asyncio.sleep(backoff.next())
            try:
                latest = await self._client.predictions.async_get(prediction.id)
            except Exception:  # progress never breaks the run
                continue
            await self.report(latest)
            if latest.terminal:
                return

    async def run(self, work: Awaitable[tuple[Prediction, Any]]) -> tuple[Prediction, Any]:
        watcher = asyncio.ensure_future(self._watch())
        try:
            prediction, output = await work
        except Exception as exc:
            ended = getattr(exc, "prediction", None)
            if isinstance(ended, Prediction):  # failed, canceled, aborted: the end too
                await self.report(ended, always=True)
            raise
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        if self._last is None and self._created.done():
            await self.report(self._created.result())
        await self.report(prediction, always=True)
        return prediction, output


def cog_scope_token() -> Secret | None:
    """Inside a Cog predictor on Replicate, the token of the current request's scope (as the
    official client reads it: ``cog.current_scope().context["REPLICATE_API_TOKEN"]``)."""
    try:
        import cog  # type: ignore[import-not-found, unused-ignore]

        context = cog.current_scope().context
        for key, value in dict(context).items():
            if str(key).upper() == "REPLICATE_API_TOKEN" and isinstance(value, str):
                if value.strip():
                    return Secret(value.strip())
    except Exception:  # no cog, an older cog without scopes, or no current request
        return None
    return None


def _retry_policy(retry: RetryPolicy | int | None) -> RetryPolicy:
    if retry is None:
        return RetryPolicy()
    if isinstance(retry, RetryPolicy):
        return retry
    if isinstance(retry, int) and not isinstance(retry, bool) and retry >= 0:
        return RetryPolicy(max_retries=retry)
    raise ConfigurationError(f"retry must be a RetryPolicy or a number of retries, got {retry!r}")

"""The :class:`Client`: configuration, namespaces, lifecycle, and the entry verbs."""

from __future__ import annotations

import asyncio
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
)
from datetime import timedelta
from typing import Any

from ._core.config import Secret, Timeouts, resolve_base_url, resolve_token
from ._core.errors import ConfigurationError
from ._core.events import StreamEvent
from ._core.http_types import RateLimiter
from ._core.ratelimit import TokenBucketLimiter
from ._core.retry import RetryPolicy
from ._io.bridge import blocking, blocking_iter, in_bridge_thread, run_blocking
from ._io.transport import Transport
from ._ops.batch import DEFAULT_CONCURRENCY, BatchProgress, BatchResult, run_batch
from ._ops.file_input import delete_uploads, prepare_input
from ._ops.run import RunOptions, run_prediction
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
from .types import File, Model, Prediction, SearchResults, Version

__all__ = ["Client"]

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
    of retries (0 disables them).
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
    ) -> None:
        if api_token is not None and not isinstance(api_token, str):
            raise ConfigurationError("api_token must be a string")
        self._explicit_token = Secret(api_token) if api_token is not None else None
        self._token: Secret | None = None
        self.base_url = resolve_base_url(base_url)
        self.timeouts = Timeouts.of(timeout)
        self.retry = _retry_policy(retry)
        self.poll_interval = poll_interval
        self._sleep: Callable[[float], Awaitable[None]] = sleep or asyncio.sleep
        if max_connections < 1:
            raise ConfigurationError("max_connections must be at least 1")
        self._transport = Transport(
            base_url=self.base_url,
            token=self._resolve_token,
            user_agent=user_agent or DEFAULT_USER_AGENT,
            timeouts=self.timeouts,
            retry=self.retry,
            sleep=self._sleep,
            max_connections=max_connections,
            limiter=TokenBucketLimiter(sleep=self._sleep),
        )
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
        self._schemas = SchemaCache(self.models)

    # -- configuration -------------------------------------------------------------------
    def _resolve_token(self) -> Secret:
        if self._token is None:
            explicit = self._explicit_token.reveal() if self._explicit_token else None
            self._token = resolve_token(explicit)
        return self._token

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
        prediction = Prediction.from_dict(data, client=self)
        if prediction.urls is not None and prediction.urls.stream:
            self._transport.trust_stream_url(prediction.urls.stream)
        return prediction

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
        ``data:`` URIs; ``file_encoding="upload"|"data_uri"`` forces one). ``validate=True``
        checks the input against the version's schema first: a bad input raises the API's
        ``UnprocessableEntityError`` (``invalid_fields``) before anything is sent.
        """
        options = RunOptions(
            wait=wait,
            timeout=timeout,
            cancel_on_exit=cancel_on_exit,
            cancel_after=cancel_after,
            use_file_output=use_file_output,
            file_encoding=file_encoding,
            webhook=webhook,
            webhook_events_filter=webhook_events_filter,
            validate=validate,
        )
        _, output = await run_prediction(self, ref, input, options, deployment=deployment)
        return output

    run_sync = blocking(run)

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

    # -- batch ---------------------------------------------------------------------------
    def batch(
        self,
        ref: str | Model | Version | None,
        inputs: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
        *,
        deployment: str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        ordered: bool = False,
        on_progress: Callable[[BatchProgress], object] | None = None,
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

        Cancels of remote predictions still on their way (a cancelled ``run``) are waited for
        first, up to 10 s, so they go out before the session closes.
        """
        if not self._transport.closed:
            from ._ops.wait import drain

            await drain()
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
        if running:
            # Inside a running loop (a notebook cell): that loop is blocked while we wait, so
            # its session is closed by a task it runs next; the others close on the bridge.
            self._transport.close_current_loop_soon()
        run_blocking(self.aclose())

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _retry_policy(retry: RetryPolicy | int | None) -> RetryPolicy:
    if retry is None:
        return RetryPolicy()
    if isinstance(retry, RetryPolicy):
        return retry
    if isinstance(retry, int) and not isinstance(retry, bool) and retry >= 0:
        return RetryPolicy(max_retries=retry)
    raise ConfigurationError(f"retry must be a RetryPolicy or a number of retries, got {retry!r}")

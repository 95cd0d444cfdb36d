"""The :class:`Client`: configuration, namespaces, lifecycle, and the entry verbs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ._config import Secret, Timeouts, resolve_base_url, resolve_token
from ._errors import ConfigurationError
from ._retry import RetryPolicy
from ._sync import in_bridge_thread, run_blocking
from ._transport import RateLimiter, Transport
from .resources.account import AccountNamespace
from .resources.models import Models
from .resources.predictions import Predictions
from .resources.trainings import Trainings
from .types import Prediction

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
        )
        self.predictions = Predictions(self)
        self.models = Models(self)
        self.account = AccountNamespace(self)
        self.trainings = Trainings(self)

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
    def _prediction(self, data: Mapping[str, Any]) -> Prediction:
        prediction = Prediction.from_dict(data, client=self)
        if prediction.urls is not None and prediction.urls.stream:
            self._transport.trust_stream_url(prediction.urls.stream)
        return prediction

    async def _prepare_input(
        self, input: dict[str, Any], file_encoding: str | None = None
    ) -> dict[str, Any]:
        """Replace file-like values in ``input`` (paths, bytes, binary files) by URLs.

        ``file_encoding``: ``"upload"`` (Files API), ``"data_uri"`` (inline), or ``None`` for the
        automatic choice (small files inline, larger ones uploaded).
        """
        return input

    # -- lifecycle -----------------------------------------------------------------------
    async def aclose(self) -> None:
        """Close every HTTP session this client opened (idempotent)."""
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

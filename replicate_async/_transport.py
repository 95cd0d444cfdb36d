"""The client's only I/O module: the one place that imports aiohttp.

Resources hand it a :class:`Request` (a pure description) and get a :class:`Response` (status,
headers, bytes) or a byte stream back. It owns:

- sessions: one ``aiohttp.ClientSession`` per event loop, created lazily inside a coroutine and
  closed when that loop shuts down (``asyncio.run`` closes async generators before closing the
  loop; a started guard generator per session uses that hook), so a client works across
  successive ``asyncio.run`` calls (PEER-DEFECTS 15) and never leaks a session (16);
- timeouts per request, never aiohttp's 300 s total (rule 5; PEER-DEFECTS 17);
- retries by :class:`~replicate_async._retry.RetryPolicy` through an injectable sleep (rule 6);
- who gets the token: only the API origin and stream origins the API itself returned
  (PEER-DEFECTS 22); API calls never follow redirects, downloads never carry the token.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import ssl as ssl_module
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import IO, Any, Literal

import aiohttp
import attrs
from yarl import URL

from ._config import Secret, Timeouts
from ._errors import (
    APIConnectionError,
    APITimeoutError,
    TransportError,
    error_from_response,
)
from ._http_types import ByteStream, Part, RateLimiter, Request, Response
from ._retry import RetryPolicy, parse_retry_after

__all__ = ["ByteStream", "Part", "RateLimiter", "Request", "Response", "Transport"]

log = logging.getLogger("replicate_async")

_CONNECT_TIMEOUT = getattr(aiohttp, "ConnectionTimeoutError", ())


@attrs.define
class _AiohttpStream:
    _response: aiohttp.ClientResponse
    status: int
    headers: Mapping[str, str]
    url: str

    async def chunks(self) -> AsyncIterator[bytes]:
        async for chunk in self._response.content.iter_any():
            yield chunk

    async def read(self) -> bytes:
        return await self._response.read()


@attrs.define
class _LoopSession:
    session: aiohttp.ClientSession
    guard: Any
    loop: asyncio.AbstractEventLoop
    pid: int


async def _session_guard(session: aiohttp.ClientSession) -> AsyncIterator[None]:
    # Finalised by loop.shutdown_asyncgens() (asyncio.run, pytest-asyncio) before the loop
    # closes: the session is then closed on its own loop instead of leaking.
    try:
        yield
    finally:
        await session.close()


def _origin(url: URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host or "", url.port)


class Transport:
    """Sends requests for one client. See the module docstring for what it owns."""

    def __init__(
        self,
        *,
        base_url: URL,
        token: Callable[[], Secret],
        user_agent: str,
        timeouts: Timeouts,
        retry: RetryPolicy,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_connections: int = 200,
        limiter: RateLimiter | None = None,
        ssl: ssl_module.SSLContext | None = None,
    ) -> None:
        self.base_url = base_url
        self._ssl = ssl
        self._base = str(base_url).rstrip("/")
        self._token = token
        self._user_agent = user_agent
        self.timeouts = timeouts
        self.retry = retry
        self.sleep = sleep
        self.limiter = limiter
        self._max_connections = max_connections
        self._auth_origins = {_origin(base_url)}
        self._sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopSession] = (
            weakref.WeakKeyDictionary()
        )
        self.closed = False
        self._closing: set[asyncio.Task[None]] = set()

    # -- who may receive the token -------------------------------------------------------
    def trust_stream_url(self, url: str) -> None:
        """Allow the token on the origin of a ``urls.stream`` that the API itself returned."""
        parsed = URL(url)
        if parsed.scheme in ("https", "http") and parsed.host:
            if parsed.scheme == "http" and self.base_url.scheme == "https":
                return  # never downgrade the token to plain HTTP
            self._auth_origins.add(_origin(parsed))

    def may_authorize(self, url: URL) -> bool:
        """Whether ``url`` is the API or a stream origin the API returned."""
        return _origin(url) in self._auth_origins

    def resolve(self, url: str) -> URL:
        """An absolute URL for a path under the API root, or the URL itself."""
        if url.startswith(("http://", "https://")):
            return URL(url, encoded=True)
        return URL(self._base + (url if url.startswith("/") else "/" + url), encoded=False)

    def _headers(self, url: URL, extra: Mapping[str, str], auth: bool = True) -> dict[str, str]:
        headers = {"User-Agent": self._user_agent}
        if auth and self.may_authorize(url):
            headers["Authorization"] = f"Bearer {self._token().reveal()}"
        headers.update(extra)
        return headers

    # -- sessions ------------------------------------------------------------------------
    async def session(self) -> aiohttp.ClientSession:
        """This event loop's session, created on first use."""
        if self.closed:
            from ._errors import ConfigurationError

            raise ConfigurationError("this client is closed; create a new Client")
        loop = asyncio.get_running_loop()
        state = self._sessions.get(loop)
        if state is not None and state.pid == os.getpid() and not state.session.closed:
            return state.session
        connector = aiohttp.TCPConnector(
            limit=self._max_connections,
            limit_per_host=0,
            ssl=self._ssl if self._ssl is not None else True,
        )
        session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.timeouts.connect),
            auto_decompress=True,
            trust_env=False,
        )
        guard = _session_guard(session)
        await guard.__anext__()
        self._sessions[loop] = _LoopSession(session, guard, loop, os.getpid())
        return session

    def close_current_loop_soon(self) -> None:
        """Close the running loop's session from a task (for blocking callers on that loop)."""
        loop = asyncio.get_running_loop()
        state = self._sessions.pop(loop, None)
        if state is not None:
            task = loop.create_task(_close_state(state))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        """Close every session of this transport, on whichever loop owns it."""
        self.closed = True
        current = asyncio.get_running_loop()
        states = list(self._sessions.values())
        self._sessions.clear()
        for state in states:
            if state.pid != os.getpid():
                continue
            if state.loop is current:
                await state.session.close()
                await state.guard.aclose()
            elif state.loop.is_running() and not state.loop.is_closed():
                future = asyncio.run_coroutine_threadsafe(_close_state(state), state.loop)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.wrap_future(future), 10)
            else:
                # Its loop is gone: nothing can run there any more; mark the session closed.
                state.session.detach()

    # -- requests ------------------------------------------------------------------------
    def _timeout(self, request: Request) -> aiohttp.ClientTimeout:
        t = self.timeouts
        if request.wait is not None:
            return aiohttp.ClientTimeout(
                total=None, sock_connect=t.connect, sock_read=request.wait + t.wait_margin
            )
        if request.multipart is not None:
            return aiohttp.ClientTimeout(
                total=None, sock_connect=t.connect, sock_read=request.timeout or t.request
            )
        return aiohttp.ClientTimeout(total=request.timeout or t.request, sock_connect=t.connect)

    def _body(self, request: Request, opened: list[IO[bytes]]) -> tuple[Any, dict[str, str]]:
        if request.multipart is not None:
            form = aiohttp.FormData()
            for part in request.multipart:
                value: Any = part.value
                if isinstance(value, Path):
                    value = value.open("rb")
                    opened.append(value)
                elif hasattr(value, "read") and hasattr(value, "seek"):
                    with contextlib.suppress(OSError, ValueError):
                        value.seek(0)
                form.add_field(
                    part.name, value, filename=part.filename, content_type=part.content_type
                )
            return form, {}
        if request.json is not None:
            return json.dumps(request.json, separators=(",", ":")).encode(), {
                "Content-Type": "application/json"
            }
        if request.content is not None:
            return request.content, {
                "Content-Type": request.content_type or "application/octet-stream"
            }
        return None, {}

    async def request(self, request: Request) -> Response:
        """Send ``request``, retrying what is safe to retry, and return a 2xx/3xx answer.

        Error statuses raise the matching :class:`~replicate_async.ReplicateError`; failures
        with no answer raise :class:`~replicate_async.TransportError` from aiohttp's exception.
        """
        url = self.resolve(request.url)
        method = request.method.upper()
        shown = str(url.with_query(None))
        idempotent = request.is_idempotent
        attempt = 0
        while True:
            attempt += 1
            opened: list[IO[bytes]] = []
            try:
                if self.limiter is not None:
                    await self.limiter.acquire(request.rate_class)
                body, content_headers = self._body(request, opened)
                headers = self._headers(
                    url, {**content_headers, **request.headers}, auth=request.auth
                )
                session = await self.session()
                async with session.request(
                    method,
                    url,
                    params=request.params,
                    data=body,
                    headers=headers,
                    timeout=self._timeout(request),
                    allow_redirects=False,
                ) as resp:
                    payload = await resp.read()
                    status, resp_headers = resp.status, resp.headers
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                kind = _error_kind(exc)
                decision = self.retry.decide(attempt, idempotent=idempotent, error=kind)
                if decision.retry:
                    log.debug(
                        "retrying %s %s in %.2fs (%s)",
                        method,
                        shown,
                        decision.delay,
                        decision.reason,
                    )
                    await self.sleep(decision.delay)
                    continue
                raise _transport_error(exc, kind, method, shown, attempt) from exc
            finally:
                for handle in opened:
                    handle.close()
            if self.limiter is not None:
                self.limiter.observe(request.rate_class, status, resp_headers)
            if status < 400:
                return Response(status, resp_headers, payload, shown, method)
            retry_after = resp_headers.get("Retry-After")
            decision = self.retry.decide(
                attempt, idempotent=idempotent, status=status, retry_after=retry_after
            )
            if decision.retry:
                log.debug(
                    "retrying %s %s in %.2fs (%s)", method, shown, decision.delay, decision.reason
                )
                await self.sleep(decision.delay)
                continue
            import time

            raise error_from_response(
                status,
                resp_headers,
                payload,
                method=method,
                url=shown,
                retry_after=parse_retry_after(retry_after, time.time()),
            )

    @contextlib.asynccontextmanager
    async def stream(
        self, url: str, *, headers: Mapping[str, str] | None = None
    ) -> AsyncIterator[ByteStream]:
        """Open a Server-Sent Events stream (idle timeout, no total timeout).

        The token is attached only when ``url`` is the API origin or a stream origin the API
        returned. A non-2xx status raises the matching error.
        """
        target = self.resolve(url)
        sent = self._headers(
            target,
            {"Accept": "text/event-stream", "Cache-Control": "no-store", **(headers or {})},
        )
        # Like every API call, a stream never follows a redirect (PEER-DEFECTS 22).
        async with self._get_body(
            target, sent, idle=self.timeouts.stream_idle, allow_redirects=False
        ) as body:
            yield body

    @contextlib.asynccontextmanager
    async def download(self, url: str) -> AsyncIterator[ByteStream]:
        """GET a file URL **without** the API token (any host; redirects followed safely,
        since no credential is ever attached). A non-2xx status raises the matching error."""
        async with self._get_body(
            URL(url, encoded=True),
            {"User-Agent": self._user_agent},
            idle=self.timeouts.download_idle,
            allow_redirects=True,
            max_redirects=5,
        ) as body:
            yield body

    @contextlib.asynccontextmanager
    async def _get_body(
        self,
        target: URL,
        headers: Mapping[str, str],
        *,
        idle: float | None,
        allow_redirects: bool,
        max_redirects: int = 10,
    ) -> AsyncIterator[ByteStream]:
        """GET ``target`` with exactly ``headers`` and yield its body as it arrives: no total
        timeout, ``idle`` seconds at most between reads, one attempt. A non-2xx status raises
        the matching error; a failed connection or read, a :class:`TransportError`."""
        shown = str(target.with_query(None))
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=self.timeouts.connect, sock_read=idle
        )
        session = await self.session()
        try:
            async with session.get(
                target,
                headers=headers,
                timeout=timeout,
                allow_redirects=allow_redirects,
                max_redirects=max_redirects,
            ) as resp:
                if resp.status >= 300:
                    body = await resp.read()
                    raise error_from_response(
                        resp.status, resp.headers, body, method="GET", url=shown
                    )
                yield _AiohttpStream(resp, resp.status, resp.headers, shown)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            kind = _error_kind(exc)
            raise _transport_error(exc, kind, "GET", shown, 1) from exc


async def _close_state(state: _LoopSession) -> None:
    await state.session.close()
    await state.guard.aclose()


def _error_kind(exc: BaseException) -> Literal["connect", "timeout", "read"]:
    if isinstance(exc, aiohttp.ClientConnectorError) or (
        _CONNECT_TIMEOUT and isinstance(exc, _CONNECT_TIMEOUT)
    ):
        return "connect"
    if isinstance(exc, asyncio.TimeoutError):
        return "timeout"
    return "read"


def _transport_error(
    exc: BaseException,
    kind: Literal["connect", "timeout", "read"],
    method: str,
    url: str,
    attempts: int,
) -> TransportError:
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    if kind == "timeout":
        return APITimeoutError(
            f"{method} {url} timed out{tries}; raise Client(timeout=…) if the API is slow",
            method=method,
            url=url,
        )
    what = "could not connect to" if kind == "connect" else "lost the connection to"
    return APIConnectionError(
        f"{what} {url} ({method}){tries}: {type(exc).__name__}: {exc}", method=method, url=url
    )

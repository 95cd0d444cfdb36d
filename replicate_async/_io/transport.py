"""The client's only I/O module: the one place that imports aiohttp.

Resources hand it a :class:`Request` (a pure description) and get a :class:`Response` (status,
headers, bytes) or a byte stream back. It owns:

- sessions: one ``aiohttp.ClientSession`` per event loop, created lazily inside a coroutine and
  closed when that loop shuts down (``asyncio.run`` closes async generators before closing the
  loop; a started guard generator per session uses that hook), so a client works across
  successive ``asyncio.run`` calls (PEER-DEFECTS 15) and never leaks a session (16);
- timeouts per request, never aiohttp's 300 s total (rule 5; PEER-DEFECTS 17);
- retries by :class:`~replicate_async._core.retry.RetryPolicy` through an injectable sleep (rule 6);
- who gets the token: only the API origin, and the stream origins that this transport saw
  named as ``urls.stream`` in JSON answers of the API origin itself, when they have a stream
  host's shape (:func:`stream_host_allowed`). A Prediction built from anything else (a
  webhook body, a pickle, your own dict) never extends the trust (PEER-DEFECTS 22). API calls
  never follow redirects, downloads never carry the token;
- that nothing an error holds carries the token: aiohttp's request records (``request_info``,
  kept by its response errors and responses) show ``Authorization`` redacted, and the
  aiohttp error kept as ``__cause__`` loses its traceback (whose frames held the headers);
- proxies: ``proxy=`` or ``HTTP(S)_PROXY``/``NO_PROXY`` (as the environment has them at the
  client's first request), never a plain-HTTP hop that would show the token to a proxy on
  another machine unless asked (``allow_insecure_proxy=True``);
- a session or connector the application brings (never closed here), and the request/response
  hooks of :mod:`.telemetry`.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import ipaddress
import json
import logging
import os
import ssl as ssl_module
import time
import urllib.request
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import IO, Any, Literal

import aiohttp
import attrs
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from .._core.config import Secret, Timeouts
from .._core.errors import (
    APIConnectionError,
    APITimeoutError,
    ConfigurationError,
    TransportError,
    error_from_response,
)
from .._core.http_types import ByteStream, Part, RateLimiter, Request, Response
from .._core.retry import RetryPolicy, parse_retry_after
from .telemetry import Hooks, RequestEvent, ResponseEvent

__all__ = [
    "BaseConnector",
    "ByteStream",
    "ClientSession",
    "Part",
    "RateLimiter",
    "Request",
    "Response",
    "Transport",
    "stream_host_allowed",
]

log = logging.getLogger("replicate_async")

# The aiohttp types a caller may bring (Client(session=..., connector=...)), named here so that
# nothing above this module imports aiohttp.
ClientSession = aiohttp.ClientSession
BaseConnector = aiohttp.BaseConnector

_CONNECT_TIMEOUT = getattr(aiohttp, "ConnectionTimeoutError", ())
_REDACTED = "<redacted>"
_MAX_OBSERVED = 1000  # stream URLs looked at per answer (a page has far fewer results)
_MAX_CHAIN = 16  # exceptions scrubbed along one __cause__/__context__ chain


class _RedactingRequest(aiohttp.ClientRequest):
    """aiohttp's request whose ``request_info`` (what its responses and response errors keep,
    and show in reprs) has ``Authorization`` redacted. The request sent is unchanged."""

    @property
    def request_info(self) -> aiohttp.RequestInfo:
        headers = self.headers
        shown = _redacted(headers) if "Authorization" in headers else CIMultiDictProxy(headers)
        return _request_info(self.url, self.method, shown, self.original_url)


def _redacted(headers: CIMultiDict[str] | CIMultiDictProxy[str]) -> CIMultiDictProxy[str]:
    """A copy of ``headers`` whose ``Authorization`` is redacted."""
    copy = headers.copy()
    copy["Authorization"] = _REDACTED
    return CIMultiDictProxy(copy)


def _request_info(
    url: URL, method: str, headers: CIMultiDictProxy[str], real_url: URL
) -> aiohttp.RequestInfo:
    """``aiohttp.RequestInfo(url, method, headers, real_url)``; a named tuple since aiohttp
    3.11, built as aiohttp builds it (its constructor takes another signature as well)."""
    if issubclass(aiohttp.RequestInfo, tuple):
        return tuple.__new__(aiohttp.RequestInfo, (url, method, headers, real_url))
    return aiohttp.RequestInfo(url, method, headers, real_url)


def _redacted_info(info: aiohttp.RequestInfo) -> aiohttp.RequestInfo:
    if "Authorization" not in info.headers:
        return info
    return _request_info(info.url, info.method, _redacted(info.headers), info.real_url)


def _scrub(exc: BaseException) -> BaseException:
    """``exc`` (an aiohttp or asyncio error) made safe to keep as ``__cause__``: along its
    cause/context chain, tracebacks are dropped (their frames held the request headers and
    responses) and response errors keep only a redacted ``request_info`` and no history."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < _MAX_CHAIN:
        seen.add(id(current))
        current.__traceback__ = None
        if isinstance(current, aiohttp.ClientResponseError):
            current.request_info = _redacted_info(current.request_info)
            current.history = ()
            current.args = (current.request_info, ())
        nxt = current.__cause__ or current.__context__
        if current.__cause__ is not None and current.__context__ is not current.__cause__:
            current.__context__ = None  # keep one chain, the explicit one
        current = nxt
    return exc


def _cut_below(exc: BaseException) -> None:
    """Drop the frames below the current one from ``exc``'s traceback: a cancellation that
    passed through aiohttp would otherwise keep its frames (the request being sent, token
    included) alive, reachable from whatever error the caller raises next."""
    tb = exc.__traceback__
    if tb is not None:
        tb.tb_next = None


def _is_loopback_name(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def stream_host_allowed(api: URL, stream: URL) -> bool:
    """Whether ``stream`` has the shape of a stream origin of the API at ``api`` (pure).

    Never a downgrade from https to http. For an API on an IP address or ``localhost`` (the
    emulator), the same host on any port. For an API on a DNS name, a host in the API's own
    domain (the API host without its first label: ``replicate.com`` for
    ``api.replicate.com``, so ``stream.replicate.com``), and for Replicate also
    ``replicate.delivery`` and its subdomains.
    """
    if stream.scheme not in ("https", "http") or not stream.host or not api.host:
        return False
    if stream.scheme == "http" and api.scheme != "http":
        return False
    if stream.user is not None or stream.password is not None:
        return False
    api_host, host = api.host.lower().rstrip("."), stream.host.lower().rstrip(".")
    if _is_loopback_name(api_host):
        return host == api_host
    labels = api_host.split(".")
    site = ".".join(labels[1:]) if len(labels) >= 3 else api_host
    sites = {site, "replicate.delivery"} if site == "replicate.com" else {site}
    return any(host == s or host.endswith("." + s) for s in sites)


_UNPARSED: Any = object()


def _stream_urls(payload: bytes, data: Any = _UNPARSED) -> list[str]:
    """The ``urls.stream`` values of a JSON answer (``data``: the payload already decoded):
    of the object itself, or of the objects in its ``results`` (a page). Cheap when there is
    none (no parse without ``"stream"``)."""
    if b'"stream"' not in payload:
        return []
    if data is _UNPARSED:
        try:
            data = json.loads(payload)
        except (ValueError, RecursionError):
            return []
    if not isinstance(data, dict):
        return []
    items: list[Any] = [data]
    results = data.get("results")
    if isinstance(results, list):
        items.extend(results[:_MAX_OBSERVED])
    found = []
    for item in items:
        urls = item.get("urls") if isinstance(item, dict) else None
        stream = urls.get("stream") if isinstance(urls, dict) else None
        if isinstance(stream, str) and stream:
            found.append(stream)
    return found


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


class _Pool:
    """What a client and its :meth:`Transport.derive` copies share: the per-loop sessions, the
    session or connector the application brought, the proxy settings and the closed flag."""

    def __init__(
        self,
        *,
        max_connections: int,
        session: aiohttp.ClientSession | None,
        connector: aiohttp.BaseConnector | None,
        proxy: URL | None,
        trust_env: bool,
        allow_insecure_proxy: bool,
    ) -> None:
        self.sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopSession] = (
            weakref.WeakKeyDictionary()
        )
        self.closing: set[asyncio.Task[None]] = set()
        self.closed = False
        self.limiter: RateLimiter | None = None
        self.max_connections = max_connections
        self.user_session = session
        self.user_connector = connector
        self.proxy = proxy
        self.trust_env = trust_env
        #: ``HTTP(S)_PROXY``/``NO_PROXY`` as the environment had them at the first request.
        self.env_proxies: dict[str, str] | None = None
        self.allow_insecure_proxy = allow_insecure_proxy


_open_pools: weakref.WeakSet[_Pool] = weakref.WeakSet()


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(
        ".localhost"
    ):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def proxy_url(value: str | URL | None) -> URL | None:
    """Check a ``proxy=`` argument: an absolute ``http://`` or ``https://`` URL."""
    if value is None:
        return None
    url = URL(str(value))
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(
            f"proxy must be an http:// or https:// URL such as 'http://proxy:3128', got {value!r}"
        )
    return url


def _env_proxy(url: URL, proxies: Mapping[str, str]) -> URL | None:
    """The proxy ``HTTP_PROXY``/``HTTPS_PROXY`` (any case) in ``proxies`` name for ``url``,
    unless ``NO_PROXY`` excludes its host (the rules of :mod:`urllib.request`, as aiohttp's
    ``trust_env``)."""
    raw = proxies.get(url.scheme)
    bypass = getattr(urllib.request, "proxy_bypass_environment")  # noqa: B009 (untyped)
    if not raw or bypass(url.host or "", proxies):
        return None
    return proxy_url(raw)


_compact_json = json.JSONEncoder(separators=(",", ":")).encode
"""``json.dumps(value, separators=(",", ":"))`` without building an encoder per call."""


def _shown(url: URL) -> tuple[URL, str]:
    return url, str(url.with_query(None)) if url.raw_query_string else str(url)


@functools.lru_cache(maxsize=512)
def _under(base: str, path: str) -> tuple[URL, str]:
    """``path`` made a URL under the API root ``base``, with the URL errors and hooks show.
    Kept (URLs are immutable, and a fan-out sends the same create path thousands of times);
    bounded, since every prediction has paths of its own."""
    return _shown(URL(base + (path if path.startswith("/") else "/" + path), encoded=False))


@functools.lru_cache(maxsize=64)
def _client_timeout(
    t: Timeouts, wait: float | None, timeout: float | None, multipart: bool
) -> aiohttp.ClientTimeout:
    """A sync-mode create reads for its ``Prefer: wait`` plus a margin, an upload for its
    timeout (neither has a total, which would bound the upload too); anything else has a
    total. Kept per value: they are immutable, and a fan-out sends the same ones thousands
    of times."""
    if wait is not None:
        return aiohttp.ClientTimeout(
            total=None, sock_connect=t.connect, sock_read=wait + t.wait_margin
        )
    if multipart:
        return aiohttp.ClientTimeout(
            total=None, sock_connect=t.connect, sock_read=timeout or t.request
        )
    return aiohttp.ClientTimeout(total=timeout or t.request, sock_connect=t.connect)


@attrs.frozen
class _DecodedResponse(Response):
    """A response whose JSON body was decoded already (to read its stream URLs): the first
    ``json()`` returns that, later ones decode again (each caller owns what it gets)."""

    decoded: list[Any] = attrs.field(factory=list, repr=False, eq=False)

    def json(self) -> Any:
        if self.decoded:
            return self.decoded.pop()
        return super().json()


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
        default_headers: Mapping[str, str] | None = None,
        session: aiohttp.ClientSession | None = None,
        connector: aiohttp.BaseConnector | None = None,
        proxy: str | URL | None = None,
        trust_env: bool = True,
        allow_insecure_proxy: bool = False,
        hooks: Hooks | None = None,
    ) -> None:
        if session is not None and connector is not None:
            raise ConfigurationError("pass session= or connector=, not both")
        self.default_headers = check_default_headers(default_headers)
        self.hooks = hooks or Hooks()
        self._pool = _Pool(
            max_connections=max_connections,
            session=session,
            connector=connector,
            proxy=proxy_url(proxy),
            trust_env=trust_env,
            allow_insecure_proxy=allow_insecure_proxy,
        )
        _open_pools.add(self._pool)
        self.base_url = base_url
        self._ssl = ssl
        self._base = str(base_url).rstrip("/")
        self._token = token
        self._user_agent = user_agent
        self.timeouts = timeouts
        self.retry = retry
        self.sleep = sleep
        self._pool.limiter = limiter
        self._auth_origins = {_origin(base_url)}
        self._sessions = self._pool.sessions
        self._closing = self._pool.closing

    # -- options shared with copies ------------------------------------------------------
    @property
    def closed(self) -> bool:
        """Whether the client (and every copy made by :meth:`derive`) is closed."""
        return self._pool.closed

    @closed.setter
    def closed(self, value: bool) -> None:
        self._pool.closed = value

    @property
    def limiter(self) -> RateLimiter | None:
        """The rate limiter of the client and of every copy made by :meth:`derive`."""
        return self._pool.limiter

    @limiter.setter
    def limiter(self, value: RateLimiter | None) -> None:
        self._pool.limiter = value

    def derive(
        self,
        *,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Transport:
        """A transport with other timeouts, retries or extra headers that shares this one's
        sessions, limiter, token, trusted stream origins, hooks and lifetime."""
        other = object.__new__(Transport)
        other.__dict__.update(self.__dict__)
        if timeouts is not None:
            other.timeouts = timeouts
        if retry is not None:
            other.retry = retry
        if headers:
            other.default_headers = {**self.default_headers, **check_default_headers(headers)}
        return other

    def proxy_for(self, url: URL) -> URL | None:
        """The proxy a request to ``url`` goes through (``None``: direct).

        Raises :class:`ConfigurationError` when the token would cross a plain-HTTP hop to a
        proxy on another machine, unless ``allow_insecure_proxy=True`` was given.
        """
        pool = self._pool
        proxy = pool.proxy
        if proxy is None and pool.trust_env:
            env = pool.env_proxies
            if env is None:  # read once, at the first request: it walks all of os.environ
                env = pool.env_proxies = urllib.request.getproxies_environment()
            proxy = _env_proxy(url, env) if env else None
        if (
            proxy is not None
            and url.scheme == "http"
            and not _is_loopback(proxy.host)
            and self.may_authorize(url)
            and not pool.allow_insecure_proxy
        ):
            raise ConfigurationError(
                f"refusing to send the API token in clear text through the proxy "
                f"{proxy.with_user(None).with_password(None)} to the plain-HTTP URL "
                f"{url.with_query(None)}: use an https:// base_url, set NO_PROXY, or pass "
                f"Client(allow_insecure_proxy=True) to allow it"
            )
        return proxy

    def detached(self) -> Transport:
        """A new transport with this one's configuration and none of its sessions or state.

        For a last request (a cancel) that must go out while this transport closes or its event
        loop ends; the caller closes it.
        """
        pool = self._pool
        return Transport(
            base_url=self.base_url,
            token=self._token,
            user_agent=self._user_agent,
            timeouts=self.timeouts,
            retry=self.retry,
            ssl=self._ssl,
            default_headers=self.default_headers,
            proxy=pool.proxy,
            trust_env=pool.trust_env,
            allow_insecure_proxy=pool.allow_insecure_proxy,
        )

    # -- who may receive the token -------------------------------------------------------
    def _observe(self, url: URL, payload: bytes, data: Any = _UNPARSED) -> None:
        """Trust the stream origins named by a successful JSON answer of the API origin
        (``data``: the payload already decoded)."""
        if _origin(url) != _origin(self.base_url):
            return
        for stream in _stream_urls(payload, data):
            try:
                parsed = URL(stream)
            except (ValueError, TypeError):
                continue
            if stream_host_allowed(self.base_url, parsed):
                self._auth_origins.add(_origin(parsed))

    def may_authorize(self, url: URL) -> bool:
        """Whether ``url`` is the API or a stream origin the API's own answers named."""
        return _origin(url) in self._auth_origins

    def resolve(self, url: str) -> URL:
        """An absolute URL for a path under the API root, or the URL itself."""
        return self._resolved(url)[0]

    def _resolved(self, url: str) -> tuple[URL, str]:
        """``resolve(url)``, and how errors and hooks show it (without its query)."""
        if url.startswith(("http://", "https://")):
            return _shown(URL(url, encoded=True))
        return _under(self._base, url)

    def _headers(self, url: URL, extra: Mapping[str, str], auth: bool = True) -> dict[str, str]:
        headers = {"User-Agent": self._user_agent, **self.default_headers}
        if auth and self.may_authorize(url):
            headers["Authorization"] = f"Bearer {self._token().reveal()}"
        headers.update(extra)
        return headers

    # -- sessions ------------------------------------------------------------------------
    def _open_session(self) -> aiohttp.ClientSession | None:
        """This event loop's own session when it is open (else ``session()`` says why not,
        or makes one): a request awaits nothing for it."""
        state = self._sessions.get(asyncio.get_running_loop())
        if state is None or self._pool.closed or state.pid != os.getpid() or state.session.closed:
            return None
        return state.session

    async def session(self) -> aiohttp.ClientSession:
        """This event loop's session, created on first use."""
        if self.closed:
            raise ConfigurationError("this client is closed; create a new Client")
        loop = asyncio.get_running_loop()
        user_session = self._pool.user_session
        if user_session is not None:
            return _check_user_session(user_session, loop)
        open_session = self._open_session()
        if open_session is not None:
            return open_session
        session = self._new_session(loop)
        guard = _session_guard(session)
        await guard.__anext__()
        self._sessions[loop] = _LoopSession(session, guard, loop, os.getpid())
        return session

    def _new_session(self, loop: asyncio.AbstractEventLoop) -> aiohttp.ClientSession:
        connector = self._pool.user_connector
        if connector is not None:
            _check_loop(getattr(connector, "_loop", None), loop, "connector")
        return aiohttp.ClientSession(
            connector=connector
            or aiohttp.TCPConnector(
                limit=self._pool.max_connections,
                limit_per_host=0,
                ssl=self._ssl if self._ssl is not None else True,
            ),
            connector_owner=connector is None,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.timeouts.connect),
            auto_decompress=True,
            # Proxies from the environment are chosen per request by proxy_for(), which also
            # keeps the token off plain-HTTP proxies; trust_env would add ~/.netrc credentials.
            trust_env=False,
            request_class=_RedactingRequest,
        )

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
        """aiohttp's timeouts for ``request``."""
        return _client_timeout(
            self.timeouts, request.wait, request.timeout, request.multipart is not None
        )

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
            return _compact_json(request.json).encode(), {"Content-Type": "application/json"}
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
        url, shown = self._resolved(request.url)
        method = request.method.upper()
        idempotent = request.is_idempotent
        attempt = 0
        while True:
            attempt += 1
            opened: list[IO[bytes]] = []
            try:
                if self.limiter is not None:
                    await self.limiter.acquire(request.rate_class)
                hooks = self.hooks
                if hooks:
                    await hooks.request(RequestEvent(method=method, url=shown, attempt=attempt))
                started = time.monotonic()
                status, resp_headers, payload = await self._attempt(request, url, method, opened)
                if hooks:
                    await self._after(method, shown, attempt, started, status, resp_headers)
            except asyncio.CancelledError as exc:
                _cut_below(exc)
                raise
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
                raise _transport_error(exc, kind, method, shown, attempt) from _scrub(exc)
            finally:
                for handle in opened:
                    handle.close()
            if self.limiter is not None:
                self.limiter.observe(request.rate_class, status, resp_headers)
            if status < 400:
                if 200 <= status < 300 and b'"stream"' in payload:
                    return self._observed(url, status, resp_headers, payload, shown, method)
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
            sent_token = request.auth and self.may_authorize(url)
            raise error_from_response(
                status,
                resp_headers,
                payload,
                method=method,
                url=shown,
                retry_after=parse_retry_after(retry_after, time.time()),
                credential=self._token().describe() if sent_token else None,
                api_root=self._base,
            )

    def _observed(
        self,
        url: URL,
        status: int,
        headers: Mapping[str, str],
        payload: bytes,
        shown: str,
        method: str,
    ) -> Response:
        """The answer of a call that may name stream URLs: its origins observed, its JSON
        decoded once for that and for the caller."""
        try:
            data = json.loads(payload)
        except (ValueError, RecursionError):
            return Response(status, headers, payload, shown, method)  # json() says what is wrong
        self._observe(url, payload, data)
        return _DecodedResponse(status, headers, payload, shown, method, [data])

    async def _attempt(
        self, request: Request, url: URL, method: str, opened: list[IO[bytes]]
    ) -> tuple[int, Mapping[str, str], bytes]:
        """One attempt: status, headers and body. The headers sent (token included) live only
        in this frame, which an error raised from :meth:`request` never references."""
        body, content_headers = self._body(request, opened)
        session = self._open_session()
        if session is None:
            session = await self.session()
        async with session.request(
            method,
            url,
            params=request.params,
            data=body,
            headers=self._headers(url, {**content_headers, **request.headers}, auth=request.auth),
            timeout=self._timeout(request),
            allow_redirects=False,
            proxy=self.proxy_for(url),
        ) as resp:
            payload = await resp.read()
            return resp.status, resp.headers, payload

    @contextlib.asynccontextmanager
    async def stream(
        self, url: str, *, headers: Mapping[str, str] | None = None
    ) -> AsyncIterator[ByteStream]:
        """Open a Server-Sent Events stream (idle timeout, no total timeout).

        The token is attached only when ``url`` is the API origin or a stream origin the API
        returned. A non-2xx status raises the matching error.
        """
        # Like every API call, a stream never follows a redirect (PEER-DEFECTS 22).
        async with self._get_body(
            self.resolve(url),
            {"Accept": "text/event-stream", "Cache-Control": "no-store", **(headers or {})},
            auth=True,
            idle=self.timeouts.stream_idle,
            allow_redirects=False,
        ) as body:
            yield body

    @contextlib.asynccontextmanager
    async def download(self, url: str) -> AsyncIterator[ByteStream]:
        """GET a file URL **without** the API token (any host; redirects followed safely,
        since no credential is ever attached). A non-2xx status raises the matching error."""
        async with self._get_body(
            URL(url, encoded=True),
            {},
            auth=False,
            idle=self.timeouts.download_idle,
            allow_redirects=True,
            max_redirects=5,
        ) as body:
            yield body

    @contextlib.asynccontextmanager
    async def _get_body(
        self,
        target: URL,
        extra: Mapping[str, str],
        *,
        auth: bool,
        idle: float | None,
        allow_redirects: bool,
        max_redirects: int = 10,
    ) -> AsyncIterator[ByteStream]:
        """GET ``target`` with ``extra`` headers (and the token when ``auth`` and the origin may
        have it) and yield its body as it arrives: no total timeout, ``idle`` seconds at most
        between reads, one attempt. A non-2xx status raises the matching error; a failed
        connection or read, a :class:`TransportError`. The headers are built in the call, so
        no local of this frame (which errors raised through it keep) holds the token."""
        shown = str(target.with_query(None))
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=self.timeouts.connect, sock_read=idle
        )
        proxy = self.proxy_for(target)
        session = await self.session()
        opened = False
        try:
            started = await self._before("GET", shown, 1)
            async with session.get(
                target,
                headers=self._headers(target, extra, auth=auth),
                timeout=timeout,
                allow_redirects=allow_redirects,
                max_redirects=max_redirects,
                proxy=proxy,
            ) as resp:
                await self._after("GET", shown, 1, started, resp.status, resp.headers)
                if resp.status >= 300:
                    body = await resp.read()
                    raise error_from_response(
                        resp.status, resp.headers, body, method="GET", url=shown
                    )
                opened = True
                yield _AiohttpStream(resp, resp.status, resp.headers, shown)
        except asyncio.CancelledError as exc:
            if not opened:  # cancelled while connecting: aiohttp's frames hold the request
                _cut_below(exc)
            raise
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            kind = _error_kind(exc)
            raise _transport_error(exc, kind, "GET", shown, 1) from _scrub(exc)

    # -- hooks ---------------------------------------------------------------------------
    async def _before(self, method: str, url: str, attempt: int) -> float:
        if self.hooks:
            await self.hooks.request(RequestEvent(method=method, url=url, attempt=attempt))
        return time.monotonic()

    async def _after(
        self,
        method: str,
        url: str,
        attempt: int,
        started: float,
        status: int,
        headers: Mapping[str, str],
    ) -> None:
        if self.hooks:
            await self.hooks.response(
                ResponseEvent(
                    method=method,
                    url=url,
                    attempt=attempt,
                    status=status,
                    elapsed=time.monotonic() - started,
                    request_id=headers.get("X-Request-Id") or headers.get("Replicate-Request-Id"),
                )
            )


_FORBIDDEN_HEADERS = frozenset({"authorization", "host", "content-length", "transfer-encoding"})


def check_default_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """Validate ``default_headers``: string names and values, never ``Authorization``."""
    result: dict[str, str] = {}
    for name, value in (headers or {}).items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise ConfigurationError("default_headers must map header names to string values")
        if name.lower() in _FORBIDDEN_HEADERS:
            raise ConfigurationError(
                f"default_headers cannot set {name!r}"
                + ("; pass api_token" if name.lower() == "authorization" else "")
            )
        if any(c in name + value for c in "\r\n"):
            raise ConfigurationError(f"header {name!r} contains a line break")
        result[name] = value
    return result


def _check_loop(owner: object, loop: asyncio.AbstractEventLoop, what: str) -> None:
    if owner is not None and owner is not loop:
        raise ConfigurationError(
            f"the {what} given to Client belongs to another event loop: call the client's async "
            f"methods from that loop (blocking twins such as run_sync run on a loop of their own)"
        )


def _check_user_session(
    session: aiohttp.ClientSession, loop: asyncio.AbstractEventLoop
) -> aiohttp.ClientSession:
    if session.closed:
        raise ConfigurationError("the aiohttp session given to Client is closed")
    _check_loop(getattr(session, "_loop", None), loop, "aiohttp session")
    return session


async def _close_state(state: _LoopSession) -> None:
    await state.session.close()
    await state.guard.aclose()


def _close_pools_at_exit() -> None:
    """Close the sessions still open when the interpreter exits, on the loops that own them,
    so no "Unclosed client session" noise follows a script's last line (or its traceback)."""
    for pool in list(_open_pools):
        states = list(pool.sessions.values())
        pool.sessions.clear()
        for state in states:
            with contextlib.suppress(Exception):
                _close_state_now(state)


def _close_state_now(state: _LoopSession) -> None:
    if state.pid != os.getpid() or state.session.closed:
        return
    loop = state.loop
    if loop.is_closed():
        state.session.detach()  # nothing can run there: forget it without a warning
        return
    if loop.is_running():  # the bridge loop: its daemon thread still runs during atexit
        future = asyncio.run_coroutine_threadsafe(_close_state(state), loop)
        future.result(timeout=5)
    else:
        loop.run_until_complete(_close_state(state))


atexit.register(_close_pools_at_exit)


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
    if isinstance(exc, aiohttp.TooManyRedirects):
        return APIConnectionError(
            f"{method} {url}: too many redirects (a loop, or more hops than allowed)",
            method=method,
            url=url,
        )
    what = "could not connect to" if kind == "connect" else "lost the connection to"
    return APIConnectionError(
        f"{what} {url} ({method}){tries}: {type(exc).__name__}: {exc}", method=method, url=url
    )

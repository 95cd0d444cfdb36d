"""``Emulator``: three loopback origins (API, stream, delivery), async or in a thread."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .._io.bridge import forget_origin, serve_origin
from ._app import build_api_app, build_delivery_app, build_stream_app
from ._core import Core
from ._faults import Faults
from ._jobs import Job
from ._options import Options
from ._routes_files import download_signature
from ._state import DeliveryRecord, RequestRecord, Stats, UploadedFile
from ._tls import TlsMaterial
from ._webhooks import WebhookDelivery

if TYPE_CHECKING:
    from replicate_async import Client

__all__ = ["Emulator", "serve_forever"]


class Emulator:
    """A local Replicate: ``async with Emulator() as emu`` or ``with Emulator() as emu``.

    Keyword options are those of :class:`~replicate_async.emulator._options.Options`
    (``token``, ``seed``, ``speed``, ``model_timings``, ``sync_quirk``, ``retention``,
    ``page_size``, ``rate_limit``, ``webhook_*``, ``max_file_size`` …).
    """

    def __init__(self, **options: Any) -> None:
        self.options = Options(**options)
        self._core = Core(self.options)
        self._runners: list[web.AppRunner] = []
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = False
        self._tls: TlsMaterial | None = None
        self._stopped = False

    # -- addresses ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The API base URL, e.g. ``http://127.0.0.1:PORT/v1`` (pass as ``base_url``)."""
        return self._core.api_url

    @property
    def stream_url(self) -> str:
        """Origin of ``urls.stream`` (a different port than the API, like the real host)."""
        return self._core.stream_url

    @property
    def delivery_url(self) -> str:
        """Origin that serves output files (the local ``replicate.delivery``)."""
        return self._core.delivery_url

    @property
    def token(self) -> str | None:
        return self.options.token

    # -- HTTPS ---------------------------------------------------------------------------
    @property
    def tls(self) -> bool:
        """Whether the three origins serve HTTPS (``Emulator(tls=True)``)."""
        return self.options.tls

    def _material(self) -> TlsMaterial:
        if self._tls is None:
            if not self.options.tls:
                raise RuntimeError("this emulator serves plain HTTP; start it with tls=True")
            if self._stopped:
                raise RuntimeError("this emulator has stopped; its CA file is gone")
            self._tls = TlsMaterial([self.options.host], self.options.tls_dir)
        return self._tls

    @property
    def ca_file(self) -> str | None:
        """Path of the PEM file of the emulator's local CA (``None`` without ``tls=True``).

        Made when the emulator starts (or on first use) and removed when it stops.
        """
        return self._material().ca_file if self.options.tls else None

    def trust_env(self) -> dict[str, str]:
        """Environment variables that make common clients trust the emulator's CA:
        ``SSL_CERT_FILE`` (OpenSSL-based clients: Python, curl, httpx, aiohttp),
        ``REQUESTS_CA_BUNDLE`` (requests) and ``NODE_EXTRA_CA_CERTS`` (Node.js), each set to
        :attr:`ca_file`. Empty without ``tls=True``."""
        return self._material().trust_env() if self.options.tls else {}

    def ssl_context(self) -> ssl.SSLContext:
        """A client ``SSLContext`` that trusts the emulator's CA (``tls=True`` only)."""
        return self._material().client_context()

    # -- introspection --------------------------------------------------------------------
    @property
    def predictions(self) -> dict[str, Job]:
        """Prediction id -> live state (``.status``, ``.output``, ``.to_json()`` …)."""
        return self._core.store.predictions

    @property
    def trainings(self) -> dict[str, Job]:
        return self._core.store.trainings

    @property
    def files(self) -> dict[str, UploadedFile]:
        return self._core.store.files

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request the API and stream origins answered (credentials redacted)."""
        return list(self._core.store.requests)

    @property
    def delivery_requests(self) -> list[DeliveryRecord]:
        return self._core.store.delivery_requests

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        return self._core.webhooks.deliveries

    @property
    def stats(self) -> Stats:
        return self._core.store.stats

    @property
    def faults(self) -> Faults:
        """Fault rules: ``emu.faults.add(route=..., status=503, times=2)``."""
        return self._core.faults

    @property
    def webhook_secret(self) -> str:
        """The ``whsec_…`` key served at ``GET /webhooks/default/secret``."""
        return self._core.webhook_secret

    @property
    def file_signing_secret(self) -> str:
        """The key of ``/files/{id}/download`` signatures (see :meth:`file_download_url`)."""
        return self._core.file_signing_secret

    def file_download_url(self, file_id: str, expires_in: float = 3600.0) -> str:
        """A signed ``/files/{id}/download`` URL valid for ``expires_in`` seconds."""
        from urllib.parse import urlencode

        owner = self.options.username
        expiry = int(self._core.clock.time() + expires_in)
        signature = download_signature(self._core, owner, file_id, expiry)
        query = urlencode({"owner": owner, "expiry": expiry, "signature": signature})
        return f"{self.url}/files/{file_id}/download?{query}"

    def client(self, **kwargs: Any) -> Client:
        """A ``replicate_async.Client`` pointed at this emulator."""
        import replicate_async

        if self.options.tls:
            kwargs.setdefault("ssl", self.ssl_context())
        return replicate_async.Client(
            api_token=self.options.token or "r8_emulator", base_url=self.url, **kwargs
        )

    async def wait_for_webhooks(self, timeout: float = 5.0) -> None:
        """Wait until webhook deliveries in flight have finished (retries included)."""
        await self._core.webhooks.drain(timeout)

    # -- async lifecycle -------------------------------------------------------------------
    def start(self) -> asyncio.Task[None]:
        """Start serving on the running event loop: ``await emu.start()``.

        The start is scheduled at once and the returned task awaited for its outcome, so in a
        notebook even ``emu.start()`` without ``await`` starts serving when the cell ends.
        Without a running event loop (a plain script) it raises ``RuntimeError`` naming
        :meth:`start_in_thread`, instead of doing nothing. Blocking calls (``run_sync`` …)
        made from the thread of that loop would block the emulator they wait for: they raise
        ``BlockingCallError``; use :meth:`start_in_thread` (or ``with Emulator() as emu``)
        for blocking code and notebooks.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                "Emulator.start() needs a running event loop: `await emu.start()` in async "
                "code, or `emu.start_in_thread()` (or `with Emulator() as emu:`) in blocking "
                "code and notebooks"
            ) from None
        if self._started:
            raise RuntimeError("emulator already started")
        return loop.create_task(self._start())

    async def _start(self) -> None:
        if self._started:
            raise RuntimeError("emulator already started")
        opts = self.options
        core = self._core
        ports = [
            opts.port,
            opts.stream_port
            if opts.stream_port is not None
            else (opts.port + 1 if opts.port else 0),
            opts.delivery_port
            if opts.delivery_port is not None
            else (opts.port + 2 if opts.port else 0),
        ]
        apps = (build_api_app(core), build_stream_app(core), build_delivery_app(core))
        server_ssl = self._material().server_context if opts.tls else None
        scheme = "https" if server_ssl is not None else "http"
        bound: list[str] = []
        try:
            for app, port in zip(apps, ports, strict=True):
                runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
                await runner.setup()
                self._runners.append(runner)
                site = web.TCPSite(runner, opts.host, port, backlog=1024, ssl_context=server_ssl)
                await site.start()
                host, real_port = runner.addresses[0][:2]
                shown = f"[{host}]" if ":" in str(host) else host
                bound.append(f"{scheme}://{shown}:{real_port}")
        except BaseException:
            await self._cleanup()
            if self._tls is not None:
                self._tls.close()
                self._tls = None
            raise
        core.bind(bound[0] + "/v1", bound[1], bound[2])
        core.closing = False
        self._started = True
        for origin in bound:  # blocking calls from this loop's thread must not wait on it
            serve_origin(origin, asyncio.get_running_loop())

    async def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        for origin in (self.url, self.stream_url, self.delivery_url):
            forget_origin(origin)
        await self._core.close()
        await self._cleanup()
        if self._tls is not None:
            self._tls.close()
            self._tls = None
        self._stopped = True

    async def _cleanup(self) -> None:
        runners, self._runners = self._runners, []
        for runner in runners:
            await runner.cleanup()

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- blocking lifecycle (a private loop in a daemon thread) -----------------------------
    def __enter__(self) -> Emulator:
        self.start_in_thread()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_thread()

    def start_in_thread(self, timeout: float = 10.0) -> None:
        """Serve from a background thread; returns once the ports are bound."""
        ready = threading.Event()
        errors: list[BaseException] = []
        loop = asyncio.new_event_loop()
        self._loop = loop

        def main() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._start())
            except BaseException as exc:
                errors.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                _cancel_leftover_tasks(loop)
                with contextlib.suppress(Exception):
                    loop.run_until_complete(loop.shutdown_asyncgens())
                with contextlib.suppress(Exception):  # images drawn for waiting creates
                    loop.run_until_complete(loop.shutdown_default_executor())
                loop.close()

        self._thread = threading.Thread(target=main, name="replicate-emulator", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError("emulator did not start in time")
        if errors:
            self._thread.join()
            self._thread = None
            raise errors[0]

    def stop_thread(self, timeout: float = 10.0) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if thread is threading.current_thread():
            raise RuntimeError("stop_thread() called from the emulator's own thread")
        future = asyncio.run_coroutine_threadsafe(self.stop(), loop)
        try:
            future.result(timeout)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
            self._thread = None
            self._loop = None

    def __repr__(self) -> str:
        state = "running" if self._started else "stopped"
        return f"<Emulator {state} url={self.url or '-'}>"


def _cancel_leftover_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """End what outlived the server on its private loop, as ``asyncio.run`` would: a request
    handler whose client already left (held by a latency fault, say) is no longer the
    server's to close, and closing the loop under it destroys a pending task."""
    leftover = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in leftover:
        task.cancel()
    if leftover:
        with contextlib.suppress(Exception):
            loop.run_until_complete(asyncio.gather(*leftover, return_exceptions=True))


async def serve_forever(
    host: str = "127.0.0.1",
    port: int = 8787,
    *,
    announce: bool = True,
    **options: Any,
) -> None:
    """Run an emulator until cancelled (Ctrl-C). Stream/delivery use port+1/port+2."""
    emulator = Emulator(host=host, port=port, **options)
    async with emulator:
        if announce:
            print(f"Replicate emulator API:      {emulator.url}", flush=True)
            print(f"             stream origin:  {emulator.stream_url}", flush=True)
            print(f"             delivery origin:{emulator.delivery_url}", flush=True)
            token = emulator.token or "any non-empty token"
            print(f"             token:          {token}", flush=True)
            if emulator.tls:
                print(f"             CA certificate: {emulator.ca_file}", flush=True)
                print("  Trust it with:", flush=True)
                for name, value in emulator.trust_env().items():
                    print(f"    export {name}={value}", flush=True)
        await asyncio.Event().wait()

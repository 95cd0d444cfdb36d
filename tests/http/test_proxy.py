"""Proxies: ``proxy=`` and ``HTTP(S)_PROXY``/``NO_PROXY``, through a recording forward proxy on
loopback; the token never crosses a plain-HTTP hop to a proxy on another machine unasked."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from yarl import URL

from replicate_async import Client, ConfigurationError
from replicate_async.emulator import Emulator

TOKEN = "r8_proxy_tests_token"
_HOP = {"host", "proxy-connection", "connection", "content-length", "transfer-encoding"}


class RecordingProxy:
    """A minimal HTTP forward proxy: records each request line and headers, then forwards it."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.url = ""
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers: dict[str, str] = {}
            for line in lines[1:]:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip()] = value.strip()
            length = int({k.lower(): v for k, v in headers.items()}.get("content-length", 0))
            body = await reader.readexactly(length)
            self.seen.append((method, target, headers))
            forward = {k: v for k, v in headers.items() if k.lower() not in _HOP}
            async with (
                aiohttp.ClientSession() as session,
                session.request(
                    method, URL(target, encoded=True), headers=forward, data=body or None
                ) as resp,
            ):
                data = await resp.read()
                kind = resp.headers.get("Content-Type", "application/octet-stream")
                status = resp.status
            writer.write(
                f"HTTP/1.1 {status} Proxied\r\nContent-Type: {kind}\r\n"
                f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
                + data
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


@pytest.fixture
async def proxy() -> AsyncIterator[RecordingProxy]:
    server = RecordingProxy()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def _client(emu: Emulator, **kwargs: Any) -> Client:
    return Client(api_token=TOKEN, base_url=emu.url, **kwargs)


async def test_proxy_argument_carries_every_api_call(
    replicate_emulator: Emulator, proxy: RecordingProxy
) -> None:
    async with _client(replicate_emulator, proxy=proxy.url) as client:
        output = await client.run("replicate/hello-world", input={"text": "via proxy"})
    assert output == "hello via proxy"
    targets = [target for _, target, _ in proxy.seen]
    assert any(t.startswith(replicate_emulator.url) and t.endswith("/predictions") for t in targets)
    # a loopback proxy may see the token (it is this machine)
    assert all(h.get("Authorization") == f"Bearer {TOKEN}" for _, _, h in proxy.seen)


async def test_environment_proxy_is_honoured_unless_excluded(
    replicate_emulator: Emulator, proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    async with _client(replicate_emulator) as client:
        await client.models.async_get("replicate/hello-world")
    assert len(proxy.seen) == 1

    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with _client(replicate_emulator) as client:
        await client.models.async_get("replicate/hello-world")
    assert len(proxy.seen) == 1  # NO_PROXY: direct

    monkeypatch.delenv("NO_PROXY")
    async with _client(replicate_emulator, trust_env=False) as client:
        await client.models.async_get("replicate/hello-world")
    assert len(proxy.seen) == 1  # trust_env=False: the environment is ignored


@pytest.mark.parametrize("how", ["argument", "environment"])
async def test_token_is_refused_to_a_remote_proxy_over_plain_http(
    how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = "http://user:secret@192.0.2.10:3128"  # TEST-NET-1: never contacted
    kwargs: dict[str, Any] = {"proxy": remote} if how == "argument" else {}
    if how == "environment":
        monkeypatch.setenv("http_proxy", remote)
    async with Client(api_token=TOKEN, base_url="http://127.0.0.1:9/v1", **kwargs) as client:
        with pytest.raises(ConfigurationError, match="allow_insecure_proxy=True") as raised:
            await client.models.async_get("a/b")
    assert "secret" not in str(raised.value) and TOKEN not in str(raised.value)


def test_what_may_cross_a_remote_proxy() -> None:
    remote = "http://192.0.2.10:3128"
    https = Client(api_token=TOKEN, base_url="https://api.example.test/v1", proxy=remote)
    # HTTPS goes through a CONNECT tunnel: the proxy never sees the token
    assert https._transport.proxy_for(URL("https://api.example.test/v1/models")) == URL(remote)
    # a download carries no token: allowed over plain HTTP
    assert https._transport.proxy_for(URL("http://files.example.test/a.png")) == URL(remote)
    opted = Client(
        api_token=TOKEN,
        base_url="http://api.example.test/v1",
        proxy=remote,
        allow_insecure_proxy=True,
    )
    assert opted._transport.proxy_for(URL("http://api.example.test/v1/x")) == URL(remote)
    for bad in ("socks5://127.0.0.1:1080", "proxy:3128", "ftp://p"):
        with pytest.raises(ConfigurationError, match="proxy must be"):
            Client(api_token=TOKEN, proxy=bad)

"""``Emulator(tls=True)``: HTTPS on all three origins with a local CA, and what a client
needs to trust it (file, environment variables, SSLContext)."""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import io
import json
import ssl
import sys
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from emu_helpers import AUTH, LLAMA3, SDXL, call, poll

from replicate_async.emulator import Emulator, serve_forever
from replicate_async.emulator.__main__ import build_parser

pytest.importorskip("trustme")


def read_text(path: str) -> str:
    return Path(path).read_text()


def exists(path: str) -> bool:
    return Path(path).exists()


async def test_all_three_origins_serve_https_trusted_by_the_ca(emulator_factory: Any) -> None:
    async with emulator_factory(tls=True) as emu:
        for url in (emu.url, emu.stream_url, emu.delivery_url):
            assert url.startswith("https://127.0.0.1:")
        ca = str(emu.ca_file)
        assert read_text(ca).startswith("-----BEGIN CERTIFICATE-----")
        assert emu.trust_env() == {
            "SSL_CERT_FILE": ca,
            "REQUESTS_CA_BUNDLE": ca,
            "NODE_EXTRA_CA_CERTS": ca,
        }
        connector = aiohttp.TCPConnector(ssl=emu.ssl_context())
        async with aiohttp.ClientSession(headers=AUTH, connector=connector) as http:
            _, pred, _ = await call(
                http,
                "POST",
                f"{emu.url}/predictions",
                headers={"Prefer": "wait"},
                json={"version": SDXL, "input": {"prompt": "x", "width": 16, "height": 16}},
                expect=201,
            )
            assert pred["output"][0].startswith("data:image/png;base64,")  # the sync answer
            [image] = (await poll(http, pred["urls"]["get"]))["output"]
            # File outputs are https: URLs, which the official clients wrap as files.
            assert image.startswith(emu.delivery_url + "/pbxt/")
            assert pred["urls"]["stream"].startswith(emu.stream_url + "/v1/files/")
            async with http.get(image) as resp:
                assert resp.status == 200 and (await resp.read())[:8] == b"\x89PNG\r\n\x1a\n"
            async with http.get(pred["urls"]["stream"]) as resp:
                assert resp.status == 200 and b"event: done" in await resp.read()
    assert not exists(ca)  # removed when the emulator stops
    with pytest.raises(RuntimeError, match="stopped"):
        _ = emu.ca_file  # and not made again behind the caller's back


async def test_a_client_that_does_not_trust_the_ca_is_refused(emulator_factory: Any) -> None:
    async with emulator_factory(tls=True) as emu, aiohttp.ClientSession(headers=AUTH) as http:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await call(http, "GET", f"{emu.url}/account")
        plain = emu.url.replace("https://", "http://")
        with pytest.raises(aiohttp.ClientError):  # no plain HTTP on the TLS port
            await call(http, "GET", f"{plain}/account")


async def test_the_project_client_trusts_an_https_emulator(emulator_factory: Any) -> None:
    async with emulator_factory(tls=True) as emu, emu.client() as client:
        text = await client.run(LLAMA3, input={"prompt": "Hi", "seed": 1, "max_tokens": 5})
        assert isinstance(text, str) and text
        images = await client.run(SDXL, input={"prompt": "x", "width": 16, "height": 16})
        [image] = images
        assert str(image.url).startswith(emu.delivery_url)
        assert (await image.async_read())[:4] == b"\x89PNG"


def test_blocking_emulator_serves_https_to_urllib_with_the_ca_file() -> None:
    with Emulator(tls=True) as emu:
        assert emu.ca_file is not None
        context = ssl.create_default_context(cafile=emu.ca_file)
        request = urllib.request.Request(f"{emu.url}/account", headers=AUTH)
        with urllib.request.urlopen(request, timeout=5, context=context) as resp:
            assert json.loads(resp.read())["username"] == "emulator"


def test_plain_emulator_has_no_ca() -> None:
    emu = Emulator()
    assert emu.ca_file is None and emu.trust_env() == {}
    with pytest.raises(RuntimeError, match="tls=True"):
        emu.ssl_context()


async def test_missing_trustme_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_trustme(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "trustme":
            raise ImportError("No module named 'trustme'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "trustme", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_trustme)
    emu = Emulator(tls=True)
    with pytest.raises(RuntimeError, match=r"pip install 'replicate_async\[emulator\]'"):
        await emu.start()
    assert emu.url == ""


async def test_serve_forever_announces_the_ca_and_trust_variables() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        task = asyncio.create_task(serve_forever(port=0, tls=True))
        for _ in range(500):  # bounded: at most ~5 s
            if "NODE_EXTRA_CA_CERTS" in out.getvalue():
                break
            await asyncio.sleep(0.01)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    text = out.getvalue()
    assert "https://127.0.0.1:" in text
    ca_line = next(line for line in text.splitlines() if "CA certificate:" in line)
    ca_file = ca_line.split("CA certificate:")[1].strip()
    for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"):
        assert f"export {name}={ca_file}" in text


def test_command_line_has_a_tls_flag() -> None:
    assert build_parser().parse_args(["--tls"]).tls is True
    assert build_parser().parse_args([]).tls is False


def test_cli_emulator_command_has_a_tls_flag() -> None:
    from click.testing import CliRunner

    from replicate_async.cli import cli as cli_group

    result = CliRunner().invoke(cli_group, ["emulator", "--help"])
    assert result.exit_code == 0 and "--tls" in result.output

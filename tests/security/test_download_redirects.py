"""Downloads never return the body of a redirect as the file. ``client.files.download`` asks
the API (with the token) and follows a redirect to the delivery host without it, a bounded
number of hops; ``FileOutput`` reads do the same. A redirect that cannot be followed is a typed
error."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

import replicate_async as ra
from replicate_async import Client, FileOutput

TOKEN = "r8_redirects" + "Z9" * 16
EXPIRY = 4102444800  # 2100-01-01


def download(client: Client) -> Any:
    return client.files.async_download("f1", owner="alice", expiry=EXPIRY, secret="s")


def redirect(location: str | None, status: int = 302) -> Any:
    headers = {"Location": location} if location is not None else {}
    return lambda _r: web.Response(status=status, text=f"{status}: Found", headers=headers)


async def test_files_download_follows_a_redirect_without_the_token(scripted: Any) -> None:
    scripted.add_handler(redirect("/delivery/f1.bin"))
    scripted.add_handler(redirect("/delivery/f1-final.bin", status=307))
    scripted.add(200, text="the file")
    async with Client(TOKEN, base_url=scripted.url) as client:
        assert await download(client) == b"the file"
    api, hop, final = scripted.requests
    assert api["path"] == "/v1/files/f1/download"
    assert api["headers"]["Authorization"] == f"Bearer {TOKEN}"  # the API call is authorized
    assert (hop["path"], final["path"]) == ("/delivery/f1.bin", "/delivery/f1-final.bin")
    for request in (hop, final):
        assert "Authorization" not in request["headers"]  # the redirected ones are not


async def test_files_download_redirect_without_location_is_a_typed_error(scripted: Any) -> None:
    scripted.add_handler(redirect(None))
    async with Client(TOKEN, base_url=scripted.url) as client:
        with pytest.raises(ra.ReplicateError) as info:
            await download(client)
    assert info.value.status == 302


async def test_files_download_redirect_loop_is_bounded(scripted: Any) -> None:
    scripted.add_handler(redirect("/delivery/loop"))
    for _ in range(10):
        scripted.add_handler(redirect("/delivery/loop"))
    async with Client(TOKEN, base_url=scripted.url, retry=0) as client:
        with pytest.raises(ra.APIConnectionError, match="redirect"):
            await download(client)
    assert 2 <= len(scripted.requests) <= 8  # the API call, then at most a few hops


async def test_file_output_never_returns_a_redirect_body(scripted: Any) -> None:
    scripted.add_handler(redirect(None))
    scripted.add_handler(redirect("/delivery/real.png", status=301))
    scripted.add(200, text="png bytes")
    origin = scripted.url.removesuffix("/v1")
    async with Client(TOKEN, base_url=scripted.url) as client:
        with pytest.raises(ra.ReplicateError) as info:
            await FileOutput(f"{origin}/delivery/a.png", client).async_read()
        assert info.value.status == 302
        data = await FileOutput(f"{origin}/delivery/b.png", client).async_read()
    assert data == b"png bytes"
    assert all("Authorization" not in r["headers"] for r in scripted.requests)

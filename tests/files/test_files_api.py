"""``client.files`` against the emulator in both twins: create from every kind of source
(streamed from disk), get, list across pages, delete, the signed download URL, 404 and 413."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from files_support import Twin

import replicate_async as ra
from replicate_async import Client
from replicate_async._core.http_types import Request
from replicate_async.emulator import Emulator
from replicate_async.resources.files import download_signature, signed_download_url

SECRET = "files-signing-secret"


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("kind", ["path", "str_path", "bytes", "bytesio", "open_file"])
async def test_create_from_every_source(
    twin: Twin, client: Client, replicate_emulator: Emulator, tmp_path: Path, kind: str
) -> None:
    data = b"\xff\xd8\xff\xe0 jpeg-ish " * 100
    path = write(tmp_path / "cat.jpg", data)
    handle = path.open("rb")
    try:
        source: Any = {
            "path": path,
            "str_path": str(path),
            "bytes": data,
            "bytesio": io.BytesIO(data),
            "open_file": handle,
        }[kind]
        created = await twin(client.files.async_create, source, metadata={"ref": 7})
    finally:
        handle.close()
    assert isinstance(created, ra.File)
    stored = replicate_emulator.files[created.id]
    assert stored.data == data and created.size == len(data)
    assert created.checksums == {
        "sha256": hashlib.sha256(data).hexdigest(),
        "md5": hashlib.md5(data).hexdigest(),
    }
    assert created.metadata == {"ref": 7} and stored.metadata == {"ref": 7}
    assert created.url == stored.get_url
    expected_name = {"bytes": "file.jpg", "bytesio": "file.bin"}.get(kind, "cat.jpg")
    expected_type = "application/octet-stream" if kind == "bytesio" else "image/jpeg"
    assert (created.name, created.content_type) == (expected_name, expected_type)


async def test_create_sends_the_documented_parts_and_streams_paths(
    client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[Request] = []
    real = client._transport.request

    async def spy(request: Request) -> Any:
        sent.append(request)
        return await real(request)

    monkeypatch.setattr(client._transport, "request", spy)
    path = write(tmp_path / "weights.tar", b"W" * 1000)
    created = await client.files.async_create(
        path, filename="renamed.tar", content_type="application/x-tar", metadata={"a": [1]}
    )
    assert (created.name, created.content_type) == ("renamed.tar", "application/x-tar")
    (request,) = sent
    assert (request.method, request.url) == ("POST", "/files")
    parts = {p.name: p for p in request.multipart or ()}
    assert list(parts) == ["content", "filename", "type", "metadata"]
    # The path itself goes to the transport, which opens and streams it (never read whole).
    assert parts["content"].value == path
    assert (parts["content"].filename, parts["content"].content_type) == (
        "renamed.tar",
        "application/x-tar",
    )
    assert (parts["filename"].value, parts["type"].value) == ("renamed.tar", "application/x-tar")
    assert (parts["metadata"].value, parts["metadata"].content_type) == (
        '{"a": [1]}',
        "application/json",
    )


async def test_create_rejects_bad_sources_before_any_request(
    twin: Twin, client: Client, replicate_emulator: Emulator, tmp_path: Path
) -> None:
    with pytest.raises(ra.FileInputError, match="no such file"):
        await twin(client.files.async_create, tmp_path / "missing.bin")
    with pytest.raises(ra.FileInputError, match="binary mode"):
        await twin(client.files.async_create, io.StringIO("text"))
    with pytest.raises(ra.ConfigurationError, match="255 bytes"):
        await twin(client.files.async_create, b"x", filename="é" * 200)
    with pytest.raises(ra.ConfigurationError, match="metadata"):
        await twin(client.files.async_create, b"x", metadata=["not", "a", "dict"])
    assert replicate_emulator.requests == []


@pytest.mark.replicate_emulator(max_file_size=4096)
async def test_too_large_is_payload_too_large(
    twin: Twin, client: Client, replicate_emulator: Emulator, tmp_path: Path
) -> None:
    with pytest.raises(ra.PayloadTooLargeError) as caught:
        await twin(client.files.async_create, write(tmp_path / "big.bin", b"B" * 5000))
    assert caught.value.status == 413 and "less than 4096 bytes" in str(caught.value)
    # Far over the cap (rejected from Content-Length before the body is read): still a 413.
    with pytest.raises(ra.PayloadTooLargeError):
        await twin(client.files.async_create, b"B" * 200_000)
    assert replicate_emulator.files == {}


@pytest.mark.replicate_emulator(page_size=2)
async def test_get_list_and_delete(
    twin: Twin, client: Client, replicate_emulator: Emulator
) -> None:
    created = [await client.files.async_create(f"file {i}".encode()) for i in range(5)]
    got = await twin(client.files.async_get, created[1].id)
    assert got == created[1] and got.url == created[1].url
    assert await twin(client.files.async_get, created[2]) == created[2]  # a File works too

    page = await twin(client.files.async_list)
    assert len(page) == 2 and page.next is not None  # one page is not all of them
    listed = await twin.items(page)
    assert [f.id for f in listed] == [f.id for f in reversed(created)]  # newest first

    await twin(client.files.async_delete, created[0].id)
    assert created[0].id not in replicate_emulator.files
    with pytest.raises(ra.NotFoundError):
        await twin(client.files.async_get, created[0].id)
    with pytest.raises(ra.NotFoundError):
        await twin(client.files.async_delete, created[0].id)
    deletes = [r for r in replicate_emulator.requests if r.operation == "files.delete"]
    assert [r.status for r in deletes] == [204, 404]
    with pytest.raises(ra.ConfigurationError, match="not a file id"):
        await twin(client.files.async_get, "../predictions")


def test_download_signature_matches_the_documented_recipe() -> None:
    message = b"alice abc123 1708515345"
    expected = base64.b64encode(hmac.new(b"key", message, hashlib.sha256).digest()).decode()
    assert download_signature("alice", "abc123", 1708515345, "key") == expected
    assert download_signature("alice", "abc123", 1708515345, b"key") == expected
    url = signed_download_url(
        "https://api.replicate.com/v1/", "abc123", owner="alice", expiry=1708515345, secret="key"
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "api.replicate.com",
        "/v1/files/abc123/download",
    )
    assert "+" not in parts.query and "/" not in parts.query  # percent-encoded
    assert parse_qs(parts.query) == {
        "owner": ["alice"],
        "expiry": ["1708515345"],
        "signature": [expected],
    }


@pytest.mark.replicate_emulator(file_signing_secret=SECRET)
async def test_signed_download_round_trip(
    twin: Twin, client: Client, replicate_emulator: Emulator
) -> None:
    data = bytes(range(256)) * 10
    created = await client.files.async_create(data, filename="blob.bin")
    owner = replicate_emulator.options.username
    in_an_hour = int(time.time()) + 3600
    url = client.files.download_url(created, owner=owner, expiry=in_an_hour, secret=SECRET)
    assert url == signed_download_url(
        replicate_emulator.url, created.id, owner=owner, expiry=in_an_hour, secret=SECRET
    )
    # The emulator's own signed URL carries the signature we compute for its expiry.
    theirs = parse_qs(urlsplit(replicate_emulator.file_download_url(created.id)).query)
    ours = client.files.download_url(
        created, owner=owner, expiry=int(theirs["expiry"][0]), secret=SECRET
    )
    assert parse_qs(urlsplit(ours).query) == theirs
    for expiry in (in_an_hour, timedelta(minutes=5), datetime.now(timezone.utc) + timedelta(1)):
        got = await twin(
            client.files.async_download, created.id, owner=owner, expiry=expiry, secret=SECRET
        )
        assert got == data

    with pytest.raises(ra.NotFoundError):  # wrong secret
        await twin(
            client.files.async_download, created, owner=owner, expiry=in_an_hour, secret="nope"
        )
    with pytest.raises(ra.NotFoundError):  # expired
        await twin(
            client.files.async_download, created, owner=owner, expiry=time.time() - 5, secret=SECRET
        )
    with pytest.raises(ra.ConfigurationError, match="timezone-aware"):
        client.files.download_url(created, owner=owner, expiry=datetime.now(), secret=SECRET)
    with pytest.raises(ra.ConfigurationError, match="owner"):
        client.files.download_url(created, owner="", expiry=in_an_hour, secret=SECRET)

"""File inputs: found anywhere in ``input``, checked before any request, sent as ``data:`` URIs
or uploaded concurrently (bounded), cleaned up when an upload fails (PEER-DEFECTS 25)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from files_support import CALL_TIMEOUT, Twin

import replicate_async as ra
from replicate_async import Client, File, FileInputError, FileOutput
from replicate_async._core.file_data import decode_data_uri
from replicate_async._ops.file_input import DATA_URI_MAX_SIZE, prepare_input
from replicate_async.emulator import Emulator

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
BIG = DATA_URI_MAX_SIZE + 1


def api_operations(emu: Emulator) -> list[str | None]:
    return [r.operation for r in emu.requests]


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def count_uploads(client: Client, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Wrap ``client.files.async_create`` to count calls and the most in flight at once."""
    stats = {"calls": 0, "in_flight": 0, "max_in_flight": 0}
    real: Callable[..., Awaitable[File]] = client.files.async_create

    async def counting(*args: Any, **kwargs: Any) -> File:
        stats["calls"] += 1
        stats["in_flight"] += 1
        stats["max_in_flight"] = max(stats["max_in_flight"], stats["in_flight"])
        try:
            return await real(*args, **kwargs)
        finally:
            stats["in_flight"] -= 1

    monkeypatch.setattr(client.files, "async_create", counting)
    return stats


async def test_input_without_files_is_returned_as_is(
    client: Client, replicate_emulator: Emulator
) -> None:
    given = {"prompt": "hi", "n": 3, "list": [1, "two", None], "nested": {"a": [True]}}
    assert await prepare_input(client, given) is given
    assert replicate_emulator.requests == []


async def test_small_files_of_every_kind_become_data_uris_anywhere__peer_defect_25(
    client: Client, replicate_emulator: Emulator, tmp_path: Path
) -> None:
    png = write(tmp_path / "photo.png", PNG)
    with png.open("rb") as handle:
        given = {
            "path": png,
            "bytes": b"plain bytes",
            "sniffed": PNG,
            "bytearray": bytearray(b"ba"),
            "memoryview": memoryview(b"mv"),
            "buffer": io.BytesIO(b"from memory"),
            "handle": handle,
            "nested": {"list": [png, ("tuple", b"t")]},
            "string_that_is_a_path": str(png),
        }
        before = dict(given)
        out = await prepare_input(client, given)
    assert given == before  # the caller's dict is never modified
    decoded = {
        k: decode_data_uri(v)
        for k, v in out.items()
        if k not in ("nested", "string_that_is_a_path")
    }
    assert decoded == {
        "path": (PNG, "image/png"),
        "bytes": (b"plain bytes", "application/octet-stream"),
        "sniffed": (PNG, "image/png"),
        "bytearray": (b"ba", "application/octet-stream"),
        "memoryview": (b"mv", "application/octet-stream"),
        "buffer": (b"from memory", "application/octet-stream"),
        "handle": (PNG, "image/png"),
    }
    assert out["nested"]["list"][0] == out["path"]
    assert out["nested"]["list"][1][0] == "tuple"
    assert decode_data_uri(out["nested"]["list"][1][1]) == (b"t", "application/octet-stream")
    assert out["string_that_is_a_path"] == str(png)  # strings are never paths
    assert replicate_emulator.requests == []


async def test_large_files_are_uploaded_and_replaced_by_their_url(
    client: Client, replicate_emulator: Emulator, tmp_path: Path
) -> None:
    big = write(tmp_path / "clip.wav", b"R" * BIG)
    out = await prepare_input(client, {"audio": big, "small": b"s"})
    (stored,) = replicate_emulator.files.values()
    assert out["audio"] == stored.get_url
    assert (stored.name, stored.data) == ("clip.wav", b"R" * BIG)
    assert stored.content_type in ("audio/x-wav", "audio/wav")
    assert out["small"].startswith("data:")


@pytest.mark.parametrize("encoding", ["upload", "data_uri"])
async def test_file_encoding_forces_one_way(
    client: Client, replicate_emulator: Emulator, tmp_path: Path, encoding: str
) -> None:
    big = write(tmp_path / "big.bin", b"B" * BIG)
    out = await prepare_input(client, {"small": b"s", "big": big}, encoding)
    if encoding == "upload":
        assert len(replicate_emulator.files) == 2
        assert {out["small"], out["big"]} == {f.get_url for f in replicate_emulator.files.values()}
    else:
        assert replicate_emulator.files == {}
        assert decode_data_uri(out["big"])[0] == b"B" * BIG
    with pytest.raises(ra.ConfigurationError, match="file_encoding"):
        await prepare_input(client, {"x": b"x"}, "base64")


async def test_missing_path_fails_before_any_request(
    twin: Twin, client: Client, replicate_emulator: Emulator, tmp_path: Path
) -> None:
    big = write(tmp_path / "big.bin", b"B" * BIG)
    missing = tmp_path / "nope.png"
    with pytest.raises(FileInputError) as caught:
        await twin(
            client.predictions.async_create,
            "replicate/echo-file",
            {"other": big, "file": [missing]},
        )
    assert isinstance(caught.value, ra.ConfigurationError)
    assert "input['file'][0]" in str(caught.value) and "nope.png" in str(caught.value)
    assert replicate_emulator.requests == []  # nothing was uploaded, nothing was created


async def test_text_mode_and_closed_files_are_clear_errors(
    client: Client, replicate_emulator: Emulator, tmp_path: Path
) -> None:
    path = write(tmp_path / "notes.txt", b"text")
    with path.open("r") as text_handle:
        with pytest.raises(FileInputError, match=r"input\['doc'\].*binary mode"):
            await prepare_input(client, {"doc": text_handle})
    with pytest.raises(FileInputError, match="binary mode"):
        await prepare_input(client, {"doc": io.StringIO("text")})
    closed = io.BytesIO(b"x")
    closed.close()
    with pytest.raises(FileInputError, match="closed"):
        await prepare_input(client, {"doc": closed})
    with pytest.raises(FileInputError, match="not a regular file"):
        await prepare_input(client, {"doc": tmp_path})
    assert replicate_emulator.requests == []


async def test_uploads_run_concurrently_four_at_a_time__peer_defect_25(
    client: Client, replicate_emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stats = count_uploads(client, monkeypatch)
    paths = [write(tmp_path / f"f{i}.bin", bytes([i]) * 1000) for i in range(10)]
    out = await prepare_input(client, {"files": paths}, "upload")
    assert stats["calls"] == 10 and stats["max_in_flight"] == 4
    by_url = {f.get_url: f.data for f in replicate_emulator.files.values()}
    assert [by_url[url] for url in out["files"]] == [bytes([i]) * 1000 for i in range(10)]


async def test_the_same_object_twice_is_uploaded_once(
    client: Client, replicate_emulator: Emulator, tmp_path: Path
) -> None:
    data = b"D" * 10
    twin_bytes = bytes(bytearray(data))  # equal, but another object
    out = await prepare_input(client, {"a": data, "b": [data], "c": twin_bytes}, "upload")
    assert out["a"] == out["b"][0] != out["c"]
    assert len(replicate_emulator.files) == 2


@pytest.mark.replicate_emulator(max_file_size=10_000)
async def test_a_failed_upload_deletes_the_others_and_names_its_input(
    client: Client, replicate_emulator: Emulator, tmp_path: Path
) -> None:
    images = [write(tmp_path / f"ok{i}.png", PNG) for i in range(3)]
    images.insert(2, write(tmp_path / "huge.png", b"H" * 20_000))
    with pytest.raises(ra.PayloadTooLargeError) as caught:
        await prepare_input(client, {"images": images}, "upload")
    message = str(caught.value)
    assert message.startswith("uploading input['images'][2] (huge.png) failed: ")
    assert caught.value.args == (message,) and caught.value.status == 413
    operations = api_operations(replicate_emulator)
    assert operations.count("files.create") == 4 and operations.count("files.delete") == 3
    assert replicate_emulator.files == {}  # nothing half-done left behind


async def test_cancelling_the_call_deletes_what_was_uploaded(
    client: Client, replicate_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = client.files.async_create
    finished = 0
    all_but_one = asyncio.Event()

    async def one_never_ends(file: Any, **kwargs: Any) -> File:
        nonlocal finished
        if file == b"stuck":
            await asyncio.Event().wait()
        created = await real(file, **kwargs)
        finished += 1
        if finished == 2:
            all_but_one.set()
        return created

    monkeypatch.setattr(client.files, "async_create", one_never_ends)
    task = asyncio.ensure_future(
        prepare_input(client, {"a": b"one", "b": b"stuck", "c": b"two"}, "upload")
    )
    await asyncio.wait_for(all_but_one.wait(), CALL_TIMEOUT)
    assert len(replicate_emulator.files) == 2
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, CALL_TIMEOUT)
    assert replicate_emulator.files == {}


class _Unseekable(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._data.readinto(buffer)


@pytest.mark.parametrize("kind", ["os_pipe", "raw_stream"])
async def test_unseekable_streams_are_uploaded_without_knowing_their_size(
    client: Client, replicate_emulator: Emulator, kind: str
) -> None:
    data = b"P" * 5000
    if kind == "os_pipe":  # fstat of a pipe says 0 bytes: that must not count as "small"
        read_end, write_end = os.pipe()
        os.write(write_end, data)
        os.close(write_end)
        stream: io.BufferedReader = open(read_end, "rb")  # noqa: ASYNC230
    else:
        stream = io.BufferedReader(_Unseekable(data))
    with stream:
        assert not stream.seekable()
        out = await prepare_input(client, {"file": stream})  # size unknown: uploaded
    (stored,) = replicate_emulator.files.values()
    assert out["file"] == stored.get_url and stored.data == data


async def test_outputs_and_uploaded_files_pass_through_as_urls(
    client: Client, replicate_emulator: Emulator
) -> None:
    uploaded = await client.files.async_create(b"abc", filename="abc.txt")
    earlier = FileOutput("https://replicate.delivery/pbxt/x/out-0.png", client)
    out = await prepare_input(client, {"image": earlier, "doc": [uploaded]})
    assert out == {"image": earlier.url, "doc": [uploaded.url]}
    assert api_operations(replicate_emulator) == ["files.create"]
    assert replicate_emulator.delivery_requests == []  # the output was not downloaded


@pytest.mark.parametrize("encoding", [None, "upload", "data_uri"])
async def test_a_model_receives_the_file__end_to_end(
    twin: Twin, client: Client, tmp_path: Path, encoding: str | None
) -> None:
    path = write(tmp_path / "photo.png", PNG)
    model = await client.models.async_get("replicate/echo-file")
    assert model.latest_version is not None
    prediction = await twin(
        client.predictions.async_create,
        model.latest_version.id,
        {"file": path},
        file_encoding=encoding,
        wait=10,
    )
    await twin(prediction.async_wait, timeout=CALL_TIMEOUT)
    assert prediction.status == "succeeded", prediction.error
    assert prediction.output == {
        "size": len(PNG),
        "sha256": hashlib.sha256(PNG).hexdigest(),
        "content_type": "image/png",
    }
    sent = prediction.input["file"] if prediction.input else None
    if encoding == "upload":
        assert isinstance(sent, str) and "/files/" in sent
    else:
        assert sent == "data:image/png;base64," + base64.b64encode(PNG).decode()


async def test_run_sends_file_inputs(
    client: Client, replicate_emulator: Emulator, tmp_path: Path
) -> None:
    model = await client.models.async_get("replicate/echo-file")
    assert model.latest_version is not None
    path = write(tmp_path / "big.png", PNG * 300)  # over 256 KB: uploaded
    output = await asyncio.wait_for(
        client.run(model.latest_version.id, {"file": path}), CALL_TIMEOUT
    )
    assert output["sha256"] == hashlib.sha256(PNG * 300).hexdigest()
    (stored,) = replicate_emulator.files.values()
    assert stored.name == "big.png"

"""``FileOutput`` against the emulator's delivery origin and loopback origins: lazy, read in
both twins, chunked, saved safely, ``data:`` URIs local, never a token on any download."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pytest
from files_support import CALL_TIMEOUT, Origin, Twin, names

import replicate_async as ra
from replicate_async import Client, FileOutput
from replicate_async._core.http_types import Request
from replicate_async.emulator import Emulator

SDXL = "stability-ai/sdxl:7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"
HELLO = "replicate/hello-world:0000000000000000cde1a443fb5c271536f3fbcf69adf80bf7ecb441405a9e44"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TINY_PNG = PNG_MAGIC + b"\x00\x00\x00\rIHDR"


async def image_url(client: Client) -> str:
    """Run the emulator's SDXL once and return its delivery URL (a PNG).

    The seed is fixed: the image's size after compression depends on it (233 to 1,503 bytes
    at 64x64 across seeds), and the chunking test needs a known size, not a lucky one."""
    prediction = await client.predictions.async_create(
        SDXL, {"prompt": "a lighthouse", "width": 64, "height": 64, "seed": 42}
    )
    await asyncio.wait_for(prediction.async_wait(), CALL_TIMEOUT)
    assert prediction.status == "succeeded", prediction.error
    url = prediction.output[0]
    assert isinstance(url, str) and url.endswith(".png")
    return url


async def test_nothing_is_downloaded_until_read__peer_defect_26(
    client: Client, replicate_emulator: Emulator
) -> None:
    url = await image_url(client)
    f = FileOutput(url, client)
    assert f.url == str(f) == url
    assert repr(f) == f"FileOutput({url!r})"
    assert f.content_type == "image/png" and f.filename == "out-0.png"
    assert f == FileOutput(url, client) and len({f, FileOutput(url, client)}) == 1
    assert f"{f}" == url
    assert replicate_emulator.delivery_requests == []
    data = await f.async_read()
    assert data.startswith(PNG_MAGIC)
    assert len(replicate_emulator.delivery_requests) == 1


async def test_read_chunks_and_save_in_both_twins(
    twin: Twin, client: Client, replicate_emulator: Emulator, tmp_path: Path
) -> None:
    f = FileOutput(await image_url(client), client)
    data = await twin(f.async_read)
    assert data.startswith(PNG_MAGIC) and len(data) > 300  # seed 42: 1,401 bytes

    sized = await twin.chunks(f, 100)
    assert b"".join(sized) == data and len(sized) == -(-len(data) // 100)
    assert all(len(c) == 100 for c in sized[:-1]) and 0 < len(sized[-1]) <= 100
    assert b"".join(await twin.chunks(f)) == data  # `async for` / `for` over the file

    into_dir = await twin(f.async_save, tmp_path)
    assert into_dir == tmp_path / "out-0.png" and into_dir.read_bytes() == data
    named = await twin(f.async_save, tmp_path / "copy.png")
    assert named == tmp_path / "copy.png" and named.read_bytes() == data
    assert names(tmp_path) == ["copy.png", "out-0.png"]

    records = replicate_emulator.delivery_requests
    assert len(records) == 5
    assert not any(r.had_authorization for r in records)


async def test_downloads_never_carry_the_token_even_on_the_api_origin_or_after_a_redirect__peer_defect_22(  # noqa: E501
    twin: Twin, origin: Origin, other_origin: Origin
) -> None:
    # The "API" is `origin`: the client would authorize requests there. A file URL on that
    # origin redirects to another host; neither hop may see the token.
    async with Client(api_token="r8_secret_token", base_url=origin.url + "/v1") as client:
        f = FileOutput(f"{origin.url}/redirect?to={other_origin.url}/file.txt", client)
        assert await twin(f.async_read) == b"elsewhere"
        assert f.content_type == "text/plain"
        assert [p for p, _ in origin.seen] == ["/redirect"]
        assert [p for p, _ in other_origin.seen] == ["/file.txt"]
        assert not origin.saw_authorization and not other_origin.saw_authorization
        # Control: an API call to the same origin does carry it, so the check above can fail.
        await client._transport.request(Request("GET", "/account"))
        assert origin.seen[-1][1]["Authorization"] == "Bearer r8_secret_token"


async def test_a_url_printed_as_text_is_never_downloaded__peer_defect_22(
    client: Client, origin: Origin
) -> None:
    bait = f"{origin.url}/steal.png"
    for text in (bait, f"see {bait}"):
        output = await asyncio.wait_for(client.run(HELLO, {"text": text}), CALL_TIMEOUT)
        assert output == f"hello {text}" and isinstance(output, str)
    assert origin.seen == []
    # Even a URL the caller chooses to read as a file gets no token.
    assert await FileOutput(bait, client).async_read() == b"payload"
    assert not origin.saw_authorization


async def test_run_returns_lazy_file_outputs__peer_defect_26(
    client: Client, replicate_emulator: Emulator
) -> None:
    output = await asyncio.wait_for(
        client.run(SDXL, {"prompt": "a boat", "width": 64, "height": 64, "num_outputs": 2}),
        CALL_TIMEOUT,
    )
    assert [type(f) for f in output] == [FileOutput, FileOutput]
    assert [f.filename for f in output] == ["out-0.png", "out-1.png"]
    assert replicate_emulator.delivery_requests == []
    assert (await output[1].async_read()).startswith(PNG_MAGIC)
    (record,) = replicate_emulator.delivery_requests
    assert record.path.endswith("/out-1.png") and not record.had_authorization


async def test_data_uris_are_decoded_locally(
    twin: Twin, client: Client, replicate_emulator: Emulator, tmp_path: Path
) -> None:
    uri = "data:image/png;base64," + base64.b64encode(TINY_PNG).decode()
    f = FileOutput(uri, client)
    assert f.content_type == "image/png" and f.filename == "output.png"
    assert repr(f) == f"<FileOutput data:image/png ({len(uri)} characters)>"
    assert await twin(f.async_read) == TINY_PNG
    assert await twin.chunks(f, 5) == [TINY_PNG[i : i + 5] for i in range(0, len(TINY_PNG), 5)]
    saved = await twin(f.async_save, tmp_path)
    assert saved == tmp_path / "output.png" and saved.read_bytes() == TINY_PNG
    text = FileOutput("data:text/plain,caf%C3%A9", client)
    assert await twin(text.async_read) == "café".encode()
    assert replicate_emulator.requests == [] and replicate_emulator.delivery_requests == []


async def test_sync_mode_data_uri_outputs_read_and_save_like_the_delivered_files(
    twin: Twin, client: Client, replicate_emulator: Emulator, tmp_path: Path
) -> None:
    # A sync-mode create of SDXL answers as recorded: processing, the image as a data: URI.
    prediction = await client.predictions.async_create(
        SDXL, {"prompt": "a lighthouse", "width": 64, "height": 64}, wait=True
    )
    assert prediction.status == "processing"
    [uri] = prediction.output
    assert isinstance(uri, str) and uri.startswith("data:image/png;base64,")
    early = FileOutput(uri, client)
    data = await twin(early.async_read)
    assert data.startswith(PNG_MAGIC)
    saved = await twin(early.async_save, tmp_path)
    assert saved.read_bytes() == data and saved.suffix == ".png"
    assert replicate_emulator.delivery_requests == []  # decoded locally
    await asyncio.wait_for(prediction.async_wait(), CALL_TIMEOUT)
    assert prediction.status == "succeeded"
    [url] = prediction.output
    assert url.startswith(replicate_emulator.delivery_url)
    assert await FileOutput(url, client).async_read() == data  # the same bytes


async def test_missing_file_raises_and_save_leaves_nothing_behind(
    twin: Twin, client: Client, replicate_emulator: Emulator, tmp_path: Path
) -> None:
    f = FileOutput(replicate_emulator.delivery_url + "/pbxt/nope/out-0.png", client)
    with pytest.raises(ra.NotFoundError):
        await twin(f.async_read)
    with pytest.raises(ra.NotFoundError):
        await twin(f.async_save, tmp_path)
    assert names(tmp_path) == []
    with pytest.raises(FileNotFoundError):
        await twin(f.async_save, tmp_path / "no-such-dir" / "x.png")
    assert len(replicate_emulator.delivery_requests) == 2  # the bad directory: no request


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/a/..%2F..%2Fevil.png", "evil.png"),
        ("/%2e%2e", "output.png"),
        ("/x/..%5Cwin.png", "win.png"),
    ],
)
async def test_save_into_a_directory_never_escapes_it(
    twin: Twin, origin: Origin, tmp_path: Path, path: str, name: str
) -> None:
    target = tmp_path / "inside"
    target.mkdir()
    async with Client(api_token="r8_x", base_url="http://127.0.0.1:9/v1") as client:
        f = FileOutput(origin.url + path, client)
        saved = await twin(f.async_save, target)
    assert saved == target / name and saved.read_bytes() == b"payload"
    assert names(tmp_path) == ["inside"]
    assert names(target) == [name]


async def test_content_type_comes_from_the_response_once_read(
    client: Client, origin: Origin
) -> None:
    f = FileOutput(origin.url + "/blob", client)
    assert f.content_type is None and origin.seen == []
    await f.async_read()
    assert f.content_type == "image/png"


async def test_leaving_the_loop_early_closes_the_connection(twin: Twin, origin: Origin) -> None:
    # One connection only, and the first response never ends: if `break` left it open, the
    # next download could never start.
    async with Client(api_token="r8_x", base_url="http://127.0.0.1:9/v1", max_connections=1) as c:
        slow = FileOutput(origin.url + "/slow", c)
        if twin.mode == "async":
            async for chunk in slow.async_iter_chunks(100):
                assert chunk == b"x" * 100
                break
        else:

            def first_chunk_only() -> None:
                for chunk in slow.iter_chunks(100):
                    assert chunk == b"x" * 100
                    break

            await asyncio.to_thread(first_chunk_only)
        assert await twin(FileOutput(origin.url + "/file", c).async_read) == b"payload"
    assert [p for p, _ in origin.seen] == ["/slow", "/file"]


async def test_bad_arguments_and_schemes_fail_without_a_request(
    client: Client, replicate_emulator: Emulator
) -> None:
    with pytest.raises(ra.InvalidResponseError, match="only http"):
        await FileOutput("ftp://example.com/x.png", client).async_read()
    with pytest.raises(ra.ConfigurationError, match="chunk_size"):
        async for _ in FileOutput("data:,x", client).async_iter_chunks(0):
            pass
    assert replicate_emulator.requests == [] and replicate_emulator.delivery_requests == []


def test_notebook_display_downloads_only_for_images(replicate_emulator_sync: Emulator) -> None:
    emu = replicate_emulator_sync
    with emu.client() as client:
        prediction = client.predictions.create(SDXL, {"prompt": "x", "width": 64, "height": 64})
        prediction.wait(timeout=CALL_TIMEOUT)
        f = FileOutput(prediction.output[0], client)
        repr(f), str(f), f"{f!r}"
        text = FileOutput(emu.delivery_url + "/notes.txt", client)
        assert text._repr_mimebundle_() is None
        assert f._repr_mimebundle_(include=["text/plain"]) is None
        assert emu.delivery_requests == []  # no repr downloaded anything

        bundle = f._repr_mimebundle_()
        assert bundle is not None and set(bundle) == {"image/png", "text/plain"}
        assert base64.b64decode(bundle["image/png"]).startswith(PNG_MAGIC)
        assert bundle["text/plain"] == repr(f)
        assert len(emu.delivery_requests) == 1

        gone = FileOutput(emu.delivery_url + "/pbxt/missing.png", client)
        failed = gone._repr_mimebundle_()
        assert failed is not None and set(failed) == {"text/plain"}
        assert "could not be displayed" in failed["text/plain"]

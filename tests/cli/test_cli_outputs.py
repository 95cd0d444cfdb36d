"""Saving file outputs: safe names, never outside the directory, never overwriting."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from replicate_async import Client
from replicate_async._ops.file_output import FileOutput
from replicate_async.cli._errors import CliError
from replicate_async.cli._outputs import print_output, save_files, unique_path

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


@pytest.fixture
async def files_host() -> AsyncIterator[str]:
    """A loopback host that answers any path with a few PNG bytes."""

    async def anything(request: web.BaseRequest) -> web.Response:
        return web.Response(body=PNG, content_type="image/png")

    # A low-level server: no router, so even paths a router refuses (%00, %0a) are answered.
    runner = web.ServerRunner(web.Server(anything), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


HOSTILE_PATHS = [
    "/../../escape.png",
    "/a/..%2F..%2Fescape2.png",
    "/a/%2e%2e",
    "/a/..%5C..%5Cwin.png",
    "/",
    "/a/%00evil%0a.png",
    "/a/" + "x" * 300 + ".png",
    "/a/CON",
    "//etc/passwd",
    "/a/%2Fetc%2Fshadow",
    "/a/out.png",
    "/b/out.png",  # the same name twice
]


async def test_hostile_urls_never_write_outside_the_directory(
    files_host: str, tmp_path: Path
) -> None:
    target = tmp_path / "outputs" / "deeper"
    outside_before = _names(tmp_path)
    async with Client(api_token="r8_x", base_url=files_host + "/v1") as client:
        outputs = [FileOutput(files_host + path, client) for path in HOSTILE_PATHS]
        outputs.append(FileOutput("data:image/png;base64,iVBORw0KGgo=", client))
        replaced, saved = await save_files({"images": outputs}, target)
    assert len(saved) == len(outputs)
    root = target.resolve()
    for path in saved:
        assert path.parent == root, path
        assert path.is_file() and not path.is_symlink()
        assert len(path.name.encode()) <= 255
        assert "/" not in path.name and "\\" not in path.name and path.name not in (".", "..")
    assert len({p.name for p in saved}) == len(saved)  # nothing overwritten
    assert {"out.png", "out-1.png"} <= {p.name for p in saved}
    assert replaced == {"images": [str(p) for p in saved]}
    # nothing appeared anywhere but the target directory
    assert _names(tmp_path) == sorted([*outside_before, "outputs"])
    assert _names(tmp_path / "outputs") == ["deeper"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
async def test_an_existing_symlink_is_never_written_through(
    files_host: str, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("keep me")
    target = tmp_path / "out"
    target.mkdir()
    (target / "out.png").symlink_to(secret)
    async with Client(api_token="r8_x", base_url=files_host + "/v1") as client:
        _, [path] = await save_files([FileOutput(files_host + "/x/out.png", client)], target)
    assert path.name == "out-1.png"
    assert secret.read_text() == "keep me"


def test_unique_path_refuses_names_that_are_not_plain(tmp_path: Path) -> None:
    for name in ("../x.png", "a/b.png", "..", "."):
        with pytest.raises(CliError):
            unique_path(tmp_path, name, set())
    taken: set[str] = set()
    assert unique_path(tmp_path, "a.tar.gz", taken).name == "a.tar.gz"
    assert unique_path(tmp_path, "a.tar.gz", taken).name == "a-1.tar.gz"


def test_output_without_files_is_returned_as_is(tmp_path: Path) -> None:
    import asyncio

    output = {"text": "hello", "n": [1, 2]}
    assert asyncio.run(save_files(output, tmp_path / "never")) == (output, [])
    assert not (tmp_path / "never").exists()  # no directory created for nothing


@pytest.mark.parametrize(
    ("output", "printed"),
    [
        ("hello", "hello\n"),
        (None, ""),
        (3, "3\n"),
        (True, "true\n"),
        (["a", "b"], "a\nb\n"),
        ({"a": 1}, '{\n  "a": 1\n}\n'),
    ],
)
def test_print_output(output: object, printed: str, capsys: pytest.CaptureFixture[str]) -> None:
    print_output(output)
    assert capsys.readouterr().out == printed

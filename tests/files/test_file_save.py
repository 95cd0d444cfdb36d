"""``FileOutput.save`` never overwrites unless asked, names files like the command line does,
never lets two concurrent saves take one name, and leaves the mode to the umask."""

from __future__ import annotations

import asyncio
import base64
import os
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from files_support import Twin, names
from hypothesis import given, settings
from hypothesis import strategies as st

from replicate_async import Client, ConfigurationError, FileOutput
from replicate_async._core.file_data import numbered_names
from replicate_async._ops.file_output import unique_path
from replicate_async.cli._outputs import unique_path as cli_unique_path

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR"


def png(tag: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(PNG + tag).decode()


@pytest.fixture
async def offline() -> AsyncIterator[Client]:
    """``data:`` URIs are decoded locally: no request is ever made."""
    async with Client(api_token="r8_x", base_url="http://127.0.0.1:9/v1") as client:
        yield client


@pytest.fixture
def umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


async def test_saving_into_one_directory_in_a_loop_keeps_every_file(
    twin: Twin, offline: Client, tmp_path: Path
) -> None:
    """``image.save("dir")`` in a loop wrote every output to ``output.png``: each save kept
    only the last one. Now each gets a new name, as the command line's files do."""
    saved = [
        await twin(FileOutput(png(bytes([i])), offline).async_save, tmp_path) for i in range(4)
    ]
    assert [p.name for p in saved] == ["output.png", "output-1.png", "output-2.png", "output-3.png"]
    assert [p.read_bytes() for p in saved] == [PNG + bytes([i]) for i in range(4)]
    assert names(tmp_path) == sorted(p.name for p in saved)  # and no temporary file left


async def test_concurrent_saves_never_share_a_name(offline: Client, tmp_path: Path) -> None:
    files = [FileOutput(png(bytes([i])), offline) for i in range(24)]
    saved = await asyncio.gather(*(f.async_save(tmp_path) for f in files))
    assert len({p.name for p in saved}) == 24
    assert sorted(p.read_bytes() for p in saved) == sorted(PNG + bytes([i]) for i in range(24))
    assert len(names(tmp_path)) == 24


async def test_an_existing_file_path_is_kept_unless_overwrite(
    twin: Twin, offline: Client, tmp_path: Path
) -> None:
    target = tmp_path / "mine.png"
    target.write_bytes(b"precious")
    f = FileOutput(png(b"new"), offline)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        await twin(f.async_save, target)
    assert target.read_bytes() == b"precious" and names(tmp_path) == ["mine.png"]
    assert await twin(f.async_save, target, overwrite=True) == target
    assert target.read_bytes() == PNG + b"new"
    # In a directory, overwrite=True replaces the file of the URL's name instead of numbering.
    again = await twin(FileOutput(png(b"1"), offline).async_save, tmp_path)
    replaced = await twin(FileOutput(png(b"2"), offline).async_save, tmp_path, overwrite=True)
    assert again == replaced == tmp_path / "output.png" and replaced.read_bytes() == PNG + b"2"
    assert names(tmp_path) == ["mine.png", "output.png"]


async def test_a_symlink_with_the_files_name_is_never_written_through(
    offline: Client, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"untouched")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "output.png").symlink_to(outside)
    saved = await FileOutput(png(b"x"), offline).async_save(folder)
    assert saved == folder / "output-1.png" and outside.read_bytes() == b"untouched"
    with pytest.raises(FileExistsError):
        await FileOutput(png(b"x"), offline).async_save(folder / "output.png")
    assert outside.read_bytes() == b"untouched"


@pytest.mark.usefixtures("umask")
@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
async def test_saved_files_follow_the_umask(
    offline: Client, tmp_path: Path, mask: int, mode: int
) -> None:
    """Saved files were always 0600 (``mkstemp``); now they get what the umask gives any new
    file, in a directory and at an exact path."""
    os.umask(mask)
    in_dir = await FileOutput(png(b"a"), offline).async_save(tmp_path)
    exact = await FileOutput(png(b"b"), offline).async_save(tmp_path / "exact.png")
    replaced = await FileOutput(png(b"c"), offline).async_save(exact, overwrite=True)
    for path in (in_dir, exact, replaced):
        assert stat.S_IMODE(path.stat().st_mode) == mode


def test_unique_path_is_shared_with_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "a.tar.gz").write_bytes(b"")
    taken: set[str] = set()
    assert unique_path(tmp_path, "a.tar.gz", taken) == tmp_path / "a-1.tar.gz"
    assert cli_unique_path(tmp_path, "a.tar.gz", taken).name == "a-2.tar.gz"
    with pytest.raises(ConfigurationError, match="not a plain file name"):
        unique_path(tmp_path, "../x.png", set())


@settings(max_examples=60, derandomize=True, deadline=None)
@given(
    name=st.text(alphabet="ab.-_", min_size=1, max_size=8).filter(lambda n: n not in (".", "..")),
    count=st.integers(1, 6),
)
def test_numbered_names_are_distinct_and_keep_everything_after_the_first_dot(
    name: str, count: int
) -> None:
    got = list(numbered_names(name, limit=count))
    assert len(got) == len(set(got)) == count and got[0] == name
    stem, dot, suffix = name.partition(".")
    assert all(n == f"{stem}-{i}{dot}{suffix}" for i, n in enumerate(got[1:], 1))

"""File values as sources to send: paths, bytes and binary file objects, checked and described.

Local only (it may read a file or ask its size, never the network): the transport streams a
:class:`FileSource` as an upload, ``_ops.file_input`` finds file values inside an input, and
``client.files.create`` takes one directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import stat
from pathlib import Path
from typing import IO, Any, Literal, Union

import attrs

from .errors import ConfigurationError
from .file_data import guess_content_type, safe_filename, sniff_image_type

__all__ = [
    "FileEncoding",
    "FileInputError",
    "FileSource",
    "SourceValue",
    "file_source",
    "is_file_object",
]

FileEncoding = Literal["upload", "data_uri"]
SourceValue = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes]]


class FileInputError(ConfigurationError):
    """A file given as input cannot be used: a missing path, a text-mode file object, a file
    that cannot be read. Raised before any request when it can be known then."""


@attrs.frozen
class FileSource:
    """A file ready to send: what to stream (a path is opened by the transport), its name,
    content type and size (``None`` when it cannot be known without reading)."""

    value: Path | bytes | IO[bytes]
    filename: str
    content_type: str
    size: int | None

    async def read(self) -> bytes:
        """The whole content (for a ``data:`` URI)."""
        value = self.value
        if isinstance(value, bytes):
            return value
        if isinstance(value, Path):
            return await asyncio.to_thread(value.read_bytes)
        return await asyncio.to_thread(_read_file_object, value)


def _read_file_object(handle: IO[bytes]) -> bytes:
    with contextlib.suppress(OSError, ValueError, AttributeError):
        handle.seek(0)  # the whole file, as an upload sends it
    data = handle.read()
    if not isinstance(data, bytes | bytearray | memoryview):
        raise FileInputError(
            f"file objects must be opened in binary mode ('rb'); read() gave {type(data).__name__}"
        )
    return bytes(data)


def is_file_object(value: Any) -> bool:
    """Whether ``value`` is a file-like object (it has a callable ``read``)."""
    return isinstance(value, io.IOBase) or callable(getattr(value, "read", None))


def _object_size(handle: Any) -> int | None:
    try:
        status = os.fstat(handle.fileno())
        if stat.S_ISREG(status.st_mode):  # a pipe or socket reports 0, not its length
            return status.st_size
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        pass
    try:
        if not handle.seekable():
            return None
        position = handle.tell()
        end = handle.seek(0, io.SEEK_END)
        handle.seek(position)
        return int(end)
    except (AttributeError, OSError, ValueError):
        return None


def file_source(
    value: Any,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    where: str = "file",
    allow_str_path: bool = False,
) -> FileSource:
    """Check a file value and describe it; :class:`FileInputError` when it cannot be sent.

    ``value`` is a path (``str`` only when ``allow_str_path``), bytes-like, or a binary file
    object. ``where`` names the value in error messages (``input['image']``).
    """
    if isinstance(value, str) and allow_str_path:
        value = Path(value)
    if isinstance(value, os.PathLike) and not isinstance(value, str):
        path = Path(os.fspath(value))
        try:
            info = path.stat()
        except FileNotFoundError:
            raise FileInputError(f"{where}: no such file: {str(path)!r}") from None
        except OSError as exc:
            raise FileInputError(f"{where}: cannot read {str(path)!r}: {exc}") from exc
        if not path.is_file():
            raise FileInputError(f"{where}: {str(path)!r} is not a regular file")
        if not os.access(path, os.R_OK):
            raise FileInputError(f"{where}: {str(path)!r} is not readable")
        name = filename or path.name
        guessed = content_type or guess_content_type(name)
        return FileSource(path, name, guessed or "application/octet-stream", info.st_size)
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        found = content_type or guess_content_type(filename) or sniff_image_type(data)
        kind = found or "application/octet-stream"
        return FileSource(data, filename or _default_name(kind), kind, len(data))
    if is_file_object(value):
        mode = getattr(value, "mode", None)
        if isinstance(value, io.TextIOBase) or (isinstance(mode, str) and "b" not in mode):
            raise FileInputError(
                f"{where}: {value!r} is open in text mode; open files in binary mode ('rb')"
            )
        if getattr(value, "closed", False) is True:
            raise FileInputError(f"{where}: the file object {value!r} is closed")
        raw_name = getattr(value, "name", None)
        own = os.path.basename(raw_name) if isinstance(raw_name, str) else None
        label = filename or own or None
        kind = content_type or guess_content_type(label) or "application/octet-stream"
        return FileSource(value, label or _default_name(kind), kind, _object_size(value))
    raise FileInputError(
        f"{where}: expected a path, bytes or a binary file object, got {type(value).__name__}"
    )


def _default_name(content_type: str) -> str:
    return safe_filename("", content_type, default="file")

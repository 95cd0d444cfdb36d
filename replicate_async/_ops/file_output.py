"""File outputs: :class:`FileOutput`, a lazy handle on a file a model produced.

Security (PEER-DEFECTS 22): every download goes through ``Transport.download``, which never
attaches the API token, whatever the host; it follows redirects only because there is no
credential to hand on. Laziness (PEER-DEFECTS 26): creating a ``FileOutput``, printing it,
``str()``/``repr()`` and comparing it never touch the network; only reading does (and the
notebook's rich display, which is a read the notebook asks for).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import errno
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from .._core.errors import ConfigurationError, InvalidResponseError, ReplicateAsyncError
from .._core.file_data import (
    data_uri_media_type,
    decode_data_uri,
    guess_content_type,
    is_data_uri,
    is_plain_name,
    numbered_names,
    safe_filename,
    sniff_image_type,
)
from .._io.bridge import blocking, blocking_iter

if TYPE_CHECKING:
    from .context import OpsClient

__all__ = ["DEFAULT_CHUNK_SIZE", "FileOutput", "unique_path"]

DEFAULT_CHUNK_SIZE = 64 * 1024
_SAVE_CHUNK_SIZE = 1024 * 1024
_O_BINARY: int = getattr(os, "O_BINARY", 0)  # Windows: no newline translation
_DISPLAYABLE = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"})


class FileOutput:
    """A file a model produced: a URL (or ``data:`` URI) that is downloaded only when read.

    ``str(f)`` and ``f.url`` are the URL; nothing is fetched until you read::

        data = await f.async_read()          # or f.read() in blocking code
        path = await f.async_save("out/")    # or f.save("out/"): a directory or a file path
        async for chunk in f: ...            # or: for chunk in f: ...

    Each read downloads again (nothing is cached). Downloads never carry the API token, and
    ``data:`` URIs are decoded locally without any request. In Jupyter an image output shows as
    an image: the notebook's rich display is the only repr that downloads.
    """

    __slots__ = ("_client", "_response_type", "url")

    def __init__(self, url: str, client: OpsClient) -> None:
        self.url: str = url
        self._client: OpsClient | None = client
        self._response_type: str | None = None

    # A pickle holds the URL only, never the client (it holds the API token): an unpickled
    # file is read again once bound, ``FileOutput(f.url, client)``. Copies keep the client.
    def __reduce__(self) -> tuple[Any, ...]:
        return (_unbound, (self.url,))

    def __copy__(self) -> FileOutput:
        return self._copy()

    def __deepcopy__(self, memo: dict[int, Any]) -> FileOutput:
        return self._copy()

    def _copy(self) -> FileOutput:
        twin = FileOutput.__new__(FileOutput)
        twin.url, twin._client, twin._response_type = self.url, self._client, self._response_type
        return twin

    # -- what it is, without the network -------------------------------------------------
    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        if is_data_uri(self.url):
            with contextlib.suppress(ReplicateAsyncError):
                media = data_uri_media_type(self.url)
                return f"<FileOutput data:{media} ({len(self.url)} characters)>"
        return f"FileOutput({self.url!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FileOutput):
            return self.url == other.url
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.url)

    @property
    def content_type(self) -> str | None:
        """The MIME type: a ``data:`` URI's, else the last download's ``Content-Type``, else the
        one the URL's extension suggests (``None`` when unknown). Never makes a request."""
        if is_data_uri(self.url):
            with contextlib.suppress(ReplicateAsyncError):
                return data_uri_media_type(self.url).split(";")[0].strip() or None
            return None
        if self._response_type:
            return self._response_type
        from urllib.parse import urlsplit

        return guess_content_type(urlsplit(self.url).path)

    @property
    def filename(self) -> str:
        """The name :meth:`save` uses inside a directory (safe: no separators, no ``..``)."""
        return safe_filename(self.url, self.content_type)

    # -- reading -------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _open(self) -> AsyncIterator[AsyncIterator[bytes]]:
        """The raw body as chunks of whatever size arrives."""
        if is_data_uri(self.url):
            data, _ = decode_data_uri(self.url)
            yield _once(data)
            return
        if not self.url.lower().startswith(("https://", "http://")):
            raise InvalidResponseError(
                f"cannot download {self.url[:80]!r}: only http(s) URLs and data: URIs are files"
            )
        if self._client is None:
            raise ConfigurationError(
                f"this FileOutput ({self.url[:80]}) was unpickled without a client; read it "
                "through one: FileOutput(file.url, client)"
            )
        async with self._client._transport.download(self.url) as stream:
            header = stream.headers.get("Content-Type")
            if header:
                self._response_type = header.split(";")[0].strip() or None
            chunks = stream.chunks()
            try:
                yield chunks
            finally:
                close = getattr(chunks, "aclose", None)
                if close is not None:
                    await close()

    async def async_read(self) -> bytes:
        """Download the whole file and return its bytes (no token is ever sent)."""
        async with self._open() as chunks:
            parts = [chunk async for chunk in chunks]
        return b"".join(parts)

    async def async_iter_chunks(self, chunk_size: int = DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
        """Download the file piece by piece: chunks of exactly ``chunk_size`` bytes (the last
        one may be shorter). Leaving the loop early closes the connection."""
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise ConfigurationError(f"chunk_size must be a positive int, got {chunk_size!r}")
        async with self._open() as chunks:
            buffer = bytearray()
            async for piece in chunks:
                if not buffer and len(piece) == chunk_size:
                    yield piece
                    continue
                buffer += piece
                while len(buffer) >= chunk_size:
                    yield bytes(buffer[:chunk_size])
                    del buffer[:chunk_size]
            if buffer:
                yield bytes(buffer)

    def __aiter__(self) -> AsyncIterator[bytes]:
        """``async for chunk in f``: :meth:`async_iter_chunks` with the default size."""
        return self.async_iter_chunks()

    def __iter__(self) -> Iterator[bytes]:
        """``for chunk in f`` (blocking): :meth:`iter_chunks` with the default size."""
        return self.iter_chunks()

    async def async_save(
        self, path: str | os.PathLike[str] = ".", *, overwrite: bool = False
    ) -> Path:
        """Download the file to ``path`` and return where it was written.

        ``path`` is a file path, or an existing directory, in which case the file is named
        after the URL (:attr:`filename`, with the extension of the downloaded content type when
        the URL has none; never outside that directory).

        Nothing is overwritten unless ``overwrite=True``: in a directory a taken name gets a
        number (``out-0.png``, ``out-0-1.png``, ``out-0-2.png`` …, as the command line names
        its files), so saving many outputs into one folder keeps them all; an exact file path
        that exists raises :class:`FileExistsError`. The file appears only once complete
        (written to a temporary name, then linked or renamed into place, so two concurrent
        saves never take the same name) and gets the usual permissions (the umask's), like any
        file the program creates.
        """
        base = Path(path)
        into_dir = await asyncio.to_thread(_check_destination, base)
        if not into_dir and not overwrite and await asyncio.to_thread(os.path.lexists, base):
            raise _exists(base)
        async with self._open() as chunks:
            directory = base if into_dir else base.parent
            temp_name, handle = await asyncio.to_thread(_temporary_in, directory)
            try:
                try:
                    buffer = bytearray()
                    async for chunk in chunks:
                        buffer += chunk
                        if len(buffer) >= _SAVE_CHUNK_SIZE:
                            await asyncio.to_thread(handle.write, bytes(buffer))
                            buffer.clear()
                    await asyncio.to_thread(handle.write, bytes(buffer))
                finally:
                    handle.close()
                if into_dir:
                    return await asyncio.to_thread(
                        unique_path,
                        base,
                        self.filename,
                        set(),
                        claim=temp_name,
                        overwrite=overwrite,
                    )
                await asyncio.to_thread(_place, temp_name, base, overwrite)
                return base
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(temp_name)  # gone already once it was renamed into place

    read = blocking(async_read)
    iter_chunks = blocking_iter(async_iter_chunks)
    save = blocking(async_save)

    # -- notebooks -------------------------------------------------------------------------
    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, Any] | None:
        """Jupyter's rich display: an image output is downloaded (blocking) and shown.

        Only notebooks call this hook; a plain ``repr()`` never downloads. Anything that is not
        an image by its URL or ``data:`` media type is shown as its repr without a request.
        """
        if self.content_type not in _DISPLAYABLE:
            return None
        if include is not None and not any(t in include for t in _DISPLAYABLE):
            return None
        try:
            data = self.read()
        except ReplicateAsyncError as exc:
            return {"text/plain": f"{self!r} (could not be displayed: {exc})"}
        kind = sniff_image_type(data)
        if kind is None or (exclude is not None and kind in exclude):
            return {"text/plain": repr(self)}
        shown = (
            data.decode("utf-8", "replace")
            if kind == "image/svg+xml"
            else base64.b64encode(data).decode("ascii")
        )
        return {kind: shown, "text/plain": repr(self)}


def _check_destination(path: Path) -> bool:
    """Whether ``path`` is a directory; a file path whose directory is missing raises."""
    if path.is_dir():
        return True
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot save to {path}: no directory {path.parent}")
    return False


def _temporary_in(directory: Path) -> tuple[str, BinaryIO]:
    """A new hidden ``.part`` file in ``directory`` (the umask decides its mode, unlike
    ``mkstemp``'s fixed 0600), open for writing."""
    for _ in range(100):
        name = str(directory / f".replicate-{secrets.token_hex(8)}.part")
        try:
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o666)
        except FileExistsError:
            continue
        return name, os.fdopen(fd, "wb")
    raise FileExistsError(f"cannot create a temporary file in {directory}")


def _exists(path: Path) -> FileExistsError:
    return FileExistsError(
        errno.EEXIST,
        f"{path} exists; pass overwrite=True to replace it, or save into a directory "
        "to get a new name",
        str(path),
    )


def _place(temp_name: str, target: Path, overwrite: bool) -> None:
    """Move the complete temporary file to ``target``: replacing it when ``overwrite``, else
    only when nothing has that name (a hard link claims the name atomically; where links are
    not supported, a check just before the rename does)."""
    if overwrite:
        os.replace(temp_name, target)
        return
    try:
        os.link(temp_name, target)
    except FileExistsError:
        raise _exists(target) from None
    except OSError:  # no hard links on this file system
        if os.path.lexists(target):
            raise _exists(target) from None
        os.replace(temp_name, target)


def unique_path(
    directory: Path,
    name: str,
    taken: set[str],
    *,
    claim: str | None = None,
    overwrite: bool = False,
) -> Path:
    """``directory/name``, or ``name-1``, ``name-2`` … (before the first dot) when that name is
    taken, in ``taken`` or on disk; never outside ``directory``. The chosen name is added to
    ``taken``. One implementation for ``FileOutput.save`` and the command line.

    ``name`` must be a bare file name (``FileOutput.filename`` is); anything that would
    resolve elsewhere (a separator, ``..``) raises ConfigurationError. With ``claim`` (a
    complete temporary file) that file is moved to the first free name atomically (see
    :func:`_place`), so concurrent savers never pick the same one; with ``overwrite`` too, it
    simply replaces ``directory/name``.
    """
    if not is_plain_name(name):
        raise ConfigurationError(f"refusing to save an output as {name!r}: not a plain file name")
    if claim is not None and overwrite:
        _place(claim, directory / name, overwrite=True)
        taken.add(name)
        return directory / name
    for candidate in numbered_names(name):
        path = directory / candidate
        if candidate in taken:
            continue
        if claim is None:
            if os.path.lexists(path):
                continue
        else:
            try:
                _place(claim, path, overwrite=False)
            except FileExistsError:
                continue
        taken.add(candidate)
        return path
    raise ConfigurationError(f"too many files named like {name!r} in {directory}")


def _unbound(url: str) -> FileOutput:
    """A ``FileOutput`` of ``url`` without a client (what unpickling gives)."""
    file = FileOutput.__new__(FileOutput)
    file.url, file._client, file._response_type = url, None, None
    return file


async def _once(data: bytes) -> AsyncIterator[bytes]:
    if data:
        yield data

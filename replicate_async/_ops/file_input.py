"""File inputs: paths, bytes and binary file objects inside a prediction's ``input``.

:func:`prepare_input` finds them anywhere in the input (nested dicts, lists, tuples), checks
them all before any request (a missing path or a text-mode file is a :class:`FileInputError`),
then sends each one as a ``data:`` URI (small files) or uploads it through the Files API and
uses its ``urls.get`` (API-FACTS, "Files"). Uploads run concurrently, a few at a time, with the
client's timeouts (PEER-DEFECTS 25). If one fails, the uploads already done for that call are
deleted and the error names the input that failed. A caller that may still fail after the
uploads (the create itself) passes ``uploaded=`` and deletes them with :func:`delete_uploads`.

Strings are never paths: ``"photo.png"`` is sent as the string it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._core.errors import ConfigurationError, InvalidResponseError, ReplicateError, TransportError
from .._core.file_data import encode_data_uri
from .._core.file_source import (
    FileEncoding,
    FileInputError,
    FileSource,
    SourceValue,
    file_source,
    is_file_object,
)

if TYPE_CHECKING:
    from ..types import File
    from .context import OpsClient

__all__ = [
    "DATA_URI_MAX_SIZE",
    "UPLOAD_CONCURRENCY",
    "FileEncoding",
    "FileInputError",
    "FileSource",
    "SourceValue",
    "delete_uploads",
    "file_source",
    "plain_input",
    "prepare_input",
]

DATA_URI_MAX_SIZE = 256 * 1024
"""Largest file sent inline as a ``data:`` URI when ``file_encoding`` is ``None`` (automatic)."""
UPLOAD_CONCURRENCY = 4
"""How many uploads of one call run at once."""
_MAX_DEPTH = 64


# -- finding file values in an input ----------------------------------------------------------
def _label(parent: str, key: str | int) -> str:
    return f"{parent}[{key!r}]"


_PLAIN = frozenset({str, int, bool})  # floats are plain when finite (JSON has no NaN)


def _plain(value: Any) -> bool:
    cls = value.__class__
    return value is None or cls in _PLAIN or (cls is float and math.isfinite(value))


def _collect(value: Any, where: str, found: dict[int, tuple[str, Any]], depth: int) -> bool:
    """Record file values (by identity) under their first location; whether any exist.

    Anything that is neither JSON nor a file is refused here, naming where it is, instead of
    failing inside the request as a bare ``TypeError`` from the JSON encoder."""
    if depth > _MAX_DEPTH:
        raise ConfigurationError(f"{where}: input nested more than {_MAX_DEPTH} levels deep")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigurationError(f"{where}: {value!r} cannot be sent; JSON has no NaN or infinity")
    if isinstance(value, str | int | float | bool) or value is None:
        return False
    if _is_passthrough(value):
        return True
    if isinstance(value, Mapping):
        keys = [k for k in value if not isinstance(k, str | int | float | bool) and k is not None]
        if keys:
            raise ConfigurationError(f"{where}: object keys must be strings, got {keys[0]!r}")
        hits = [_collect(v, _label(where, k), found, depth + 1) for k, v in value.items()]
        return any(hits)
    if isinstance(value, list | tuple):
        hits = [_collect(v, _label(where, i), found, depth + 1) for i, v in enumerate(value)]
        return any(hits)
    if isinstance(value, os.PathLike | bytes | bytearray | memoryview) or is_file_object(value):
        found.setdefault(id(value), (where, value))
        return True
    raise ConfigurationError(
        f"{where}: a value of type {type(value).__name__} cannot be sent as JSON; pass a str, "
        "number, bool, None, list or dict (a datetime as its isoformat(), an array as tolist()), "
        "or a file (a path, bytes or a binary file object)"
    )


def _is_passthrough(value: Any) -> bool:
    from ..types import File
    from .file_output import FileOutput

    return isinstance(value, FileOutput | File)


def _replace(value: Any, urls: Mapping[int, str]) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if id(value) in urls:
        return urls[id(value)]
    from ..types import File
    from .file_output import FileOutput

    if isinstance(value, FileOutput):
        return value.url  # a previous model's output, passed on as its URL
    if isinstance(value, File):
        if not value.url:
            raise FileInputError(f"file {value.id} has no urls.get to pass as input")
        return value.url
    if isinstance(value, Mapping):
        return {k: _replace(v, urls) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_replace(v, urls) for v in value]
    return value


def plain_input(input: dict[str, Any]) -> bool:
    """Whether ``input`` holds only plain JSON scalars (``prepare_input`` returns it as it is:
    the common case, checked without awaiting anything)."""
    return all(_plain(v) for v in input.values())


# -- sending them -----------------------------------------------------------------------------
async def prepare_input(
    client: OpsClient,
    input: dict[str, Any],
    file_encoding: FileEncoding | str | None = None,
    *,
    data_uri_max_size: int = DATA_URI_MAX_SIZE,
    concurrency: int = UPLOAD_CONCURRENCY,
    uploaded: list[File] | None = None,
) -> dict[str, Any]:
    """``input`` with every file value replaced by a URL the API accepts.

    ``file_encoding``: ``"upload"`` (Files API, ``urls.get``), ``"data_uri"`` (inline), or
    ``None``: inline up to ``data_uri_max_size`` bytes, uploaded above (or when the size is
    unknown). ``FileOutput`` and ``File`` values become their URL. Returns ``input`` itself when
    it holds no file value; never modifies it. ``uploaded`` (a list) receives the files this
    call uploaded, for the caller to delete if what they were for fails.
    """
    if file_encoding not in (None, "upload", "data_uri"):
        raise ConfigurationError(
            f"file_encoding must be 'upload', 'data_uri' or None (automatic), got {file_encoding!r}"
        )
    if plain_input(input):
        return input  # the common case, checked without building labels (a fan-out's hot path)
    found: dict[int, tuple[str, Any]] = {}
    if not _collect(input, "input", found, 0):
        return input
    # Check everything before the first request: a missing path fails the call up front.
    sources = {
        key: (where, file_source(value, where=where)) for key, (where, value) in found.items()
    }
    urls: dict[int, str] = {}
    uploads: list[tuple[int, str, FileSource]] = []
    for key, (where, source) in sources.items():
        inline = file_encoding == "data_uri" or (
            file_encoding is None and source.size is not None and source.size <= data_uri_max_size
        )
        if inline:
            try:
                urls[key] = encode_data_uri(await source.read(), source.content_type)
            except OSError as exc:
                raise FileInputError(f"{where}: cannot read {source.filename!r}: {exc}") from exc
        else:
            uploads.append((key, where, source))
    if uploads:
        urls.update(await _upload_all(client, uploads, max(1, concurrency), uploaded))
    return {k: _replace(v, urls) for k, v in input.items()}


async def _upload_all(
    client: OpsClient,
    uploads: list[tuple[int, str, FileSource]],
    concurrency: int,
    uploaded: list[File] | None,
) -> dict[int, str]:
    """Upload concurrently, ``concurrency`` at a time. After a failure no new upload starts;
    those in flight finish (so none is left unaccounted for), then every file this call
    uploaded is deleted and the first error is raised."""
    gate = asyncio.Semaphore(concurrency)
    done: list[File] = []
    failed: list[BaseException] = []

    async def upload(where: str, source: FileSource) -> str | None:
        async with gate:
            if failed:
                return None  # the call has already failed: do not start more uploads
            try:
                created = await client.files.async_create(
                    source.value, filename=source.filename, content_type=source.content_type
                )
            except (ReplicateError, TransportError) as exc:
                # Keep the error's type (PayloadTooLargeError stays catchable), name the input.
                exc.message = f"uploading {where} ({source.filename}) failed: {exc.message}"
                exc.args = (exc.message,)
                failed.append(exc)
                raise
            except OSError as exc:
                error = FileInputError(f"{where}: cannot read {source.filename!r}: {exc}")
                failed.append(error)
                raise error from exc
        done.append(created)
        if not created.url:
            invalid = InvalidResponseError(f"the uploaded file {created.id} has no urls.get")
            failed.append(invalid)
            raise invalid
        return created.url

    tasks = [asyncio.ensure_future(upload(where, source)) for _, where, source in uploads]
    try:
        results = await asyncio.gather(*tasks, return_exceptions=True)
    except BaseException:  # the caller was cancelled: stop everything, then clean up
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await delete_uploads(client, done)
        raise
    if failed:
        await delete_uploads(client, done)
        raise failed[0]
    for result in results:
        if isinstance(result, BaseException):  # not one of ours (say, a bug): surface it
            await delete_uploads(client, done)
            raise result
    if uploaded is not None:
        uploaded.extend(done)
    return {key: str(url) for (key, _, _), url in zip(uploads, results, strict=True)}


async def delete_uploads(client: OpsClient, files: list[File]) -> None:
    """Best-effort cleanup of a half-done call's uploads (they would expire in 24 h anyway)."""

    async def delete(file: File) -> None:
        with contextlib.suppress(ReplicateError, TransportError):
            await client.files.async_delete(file.id)

    await asyncio.gather(*(delete(f) for f in files), return_exceptions=True)

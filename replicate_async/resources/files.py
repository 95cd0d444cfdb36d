"""``client.files``: the Files API (create, get, list, delete, signed download).

``POST /files`` is multipart/form-data (API-FACTS, "Files"; spec operation ``files.create``): a
``content`` file part, plus ``filename`` (≤ 255 bytes), ``type`` (the MIME type) and
``metadata`` (a JSON object) parts. Files over the size cap (100 MB) answer 413, raised as
:class:`~replicate_async.PayloadTooLargeError`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode, urljoin

from .._core.errors import ConfigurationError, error_from_response
from .._core.file_source import SourceValue, file_source
from .._core.http_types import Part, Request
from .._io.bridge import blocking
from ..types import File, Page
from ._base import Namespace

__all__ = ["Files", "download_signature", "signed_download_url"]


def download_signature(owner: str, file_id: str, expiry: int, secret: str | bytes) -> str:
    """``base64(HMAC-SHA256(secret, "{owner} {id} {expiry}"))``, as ``files.download`` checks
    it (spec: "a base64-encoded HMAC-SHA256 checksum of the string '{owner} {id} {expiry}'
    generated with the Files API signing secret"). The secret is used as its UTF-8 bytes."""
    key = secret.encode() if isinstance(secret, str) else bytes(secret)
    message = f"{owner} {file_id} {int(expiry)}".encode()
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode("ascii")


def signed_download_url(
    base_url: str, file_id: str, *, owner: str, expiry: int, secret: str | bytes
) -> str:
    """The absolute ``GET /files/{id}/download?owner=&expiry=&signature=`` URL (pure).

    Query values are percent-encoded (a signature's ``+``, ``/`` and ``=`` included)."""
    query = urlencode(
        {
            "owner": owner,
            "expiry": str(int(expiry)),
            "signature": download_signature(owner, file_id, expiry, secret),
        },
        quote_via=quote,
        safe="",
    )
    return f"{base_url.rstrip('/')}/files/{quote(file_id, safe='')}/download?{query}"


def _expiry(value: int | float | datetime | timedelta, now: float) -> int:
    if isinstance(value, timedelta):
        return int(now + value.total_seconds())
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ConfigurationError("expiry must be a timezone-aware datetime")
        return int(value.timestamp())
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError(
            f"expiry must be Unix seconds, a datetime or a timedelta, got {value!r}"
        )
    return int(value)


def _file_id(value: str | File) -> str:
    text = str(value.id if isinstance(value, File) else value).strip()
    if not text or any(c in text for c in "/?#"):
        raise ConfigurationError(f"not a file id: {value!r}")
    return text


class Files(Namespace):
    """Files: ``create``, ``get``, ``list``, ``delete``, ``download`` (each with an ``async_``
    twin) and :meth:`download_url`."""

    def _file(self, data: Mapping[str, Any]) -> File:
        return File.from_dict(data, client=self._client)

    async def async_create(
        self,
        file: SourceValue,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> File:
        """Upload a file and return it; pass ``file.url`` (``urls.get``) as a model input.

        ``file`` is a path (``str`` or ``Path``), bytes, or a binary file object; a path is
        streamed from disk, not read into memory. ``filename`` defaults to the path's or file
        object's name; ``content_type`` is guessed from the name (or the bytes of an image),
        else ``application/octet-stream``; ``metadata`` is any JSON object. A file over the
        API's size limit raises :class:`~replicate_async.PayloadTooLargeError` (413).
        """
        source = file_source(
            file, filename=filename, content_type=content_type, allow_str_path=True
        )
        if len(source.filename.encode()) > 255:
            raise ConfigurationError("filename must be at most 255 bytes (UTF-8)")
        parts = [
            Part(
                "content", source.value, filename=source.filename, content_type=source.content_type
            ),
            Part("filename", source.filename),
            Part("type", source.content_type),
        ]
        if metadata is not None:
            if not isinstance(metadata, Mapping):
                raise ConfigurationError(f"metadata must be a dict, got {type(metadata).__name__}")
            parts.append(
                Part("metadata", json.dumps(dict(metadata)), content_type="application/json")
            )
        request = Request("POST", "/files", multipart=parts)  # not a prediction create
        return self._file(await self._object(request))

    async def async_get(self, id: str | File) -> File:
        """The file with this id (``NotFoundError`` when it does not exist, or was deleted)."""
        return self._file(await self._object(Request("GET", f"/files/{_file_id(id)}")))

    async def async_list(self) -> Page[File]:
        """The first page of your files, newest first; iterate it for every file."""
        return await self._page("/files", self._file)

    async def async_delete(self, id: str | File) -> None:
        """Delete a file (204); ``NotFoundError`` when it does not exist."""
        await self._client._transport.request(Request("DELETE", f"/files/{_file_id(id)}"))

    def download_url(
        self,
        file: str | File,
        *,
        owner: str,
        expiry: int | float | datetime | timedelta,
        secret: str | bytes,
    ) -> str:
        """A signed URL that downloads ``file`` without a token until ``expiry``.

        ``owner`` is the username of the account that uploaded it; ``expiry`` is Unix seconds,
        an aware datetime, or a timedelta from now; ``secret`` is the Files API signing secret.
        Makes no request.
        """
        if not owner or not isinstance(owner, str):
            raise ConfigurationError("owner must be the uploading account's username")
        return signed_download_url(
            str(self._client.base_url),
            _file_id(file),
            owner=owner,
            expiry=_expiry(expiry, time.time()),
            secret=secret,
        )

    async def async_download(
        self,
        file: str | File,
        *,
        owner: str,
        expiry: int | float | datetime | timedelta,
        secret: str | bytes,
    ) -> bytes:
        """The file's content through its signed :meth:`download_url` (an API call on the API
        origin). A bad signature, an expired URL or an unknown file raise ``NotFoundError``.

        When the API redirects (to a delivery host), the redirect is followed like any file
        download: without the API token, at most 5 hops more (beyond: ``APIConnectionError``).
        A redirect without a ``Location`` raises :class:`~replicate_async.ReplicateError`
        with its ``status``; the body of a 3xx answer is never returned as the file."""
        url = self.download_url(file, owner=owner, expiry=expiry, secret=secret)
        transport = self._client._transport
        response = await transport.request(Request("GET", url))
        if 300 <= response.status < 400:
            location = response.headers.get("Location")
            if not location:
                raise error_from_response(
                    response.status, response.headers, response.body, method="GET", url=response.url
                )
            async with transport.download(urljoin(url, location)) as body:
                return await body.read()
        return response.body

    create = blocking(async_create)
    get = blocking(async_get)
    list = blocking(async_list)
    delete = blocking(async_delete)
    download = blocking(async_download)

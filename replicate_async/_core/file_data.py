"""Pure helpers for file values: ``data:`` URIs, content types, safe file names, image sniffing.

No I/O here; :mod:`._files` (outputs) and :mod:`._file_input` (inputs) build on these.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
import unicodedata
from collections.abc import Iterator
from urllib.parse import unquote, unquote_to_bytes, urlsplit

from .errors import InvalidResponseError

__all__ = [
    "decode_data_uri",
    "encode_data_uri",
    "guess_content_type",
    "is_data_uri",
    "is_plain_name",
    "numbered_names",
    "safe_filename",
    "sniff_image_type",
]

_DEFAULT_DATA_URI_TYPE = "text/plain;charset=US-ASCII"  # RFC 2397, section 2
_UNSAFE_NAME_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)
_MAX_NAME_BYTES = 200  # well under the 255 bytes most file systems allow


def is_data_uri(value: str) -> bool:
    """Whether ``value`` is a ``data:`` URI (the scheme is case-insensitive)."""
    return value[:5].lower() == "data:"


def _split_data_uri(uri: str) -> tuple[str, bool, str]:
    if not is_data_uri(uri) or "," not in uri:
        raise InvalidResponseError(f"not a data: URI: {uri[:60]!r}")
    header, _, payload = uri[5:].partition(",")
    params = [p.strip() for p in header.split(";")]
    is_base64 = len(params) > 1 and params[-1].lower() == "base64"
    if is_base64:
        params = params[:-1]
    media = ";".join(params) if params and params[0] else _DEFAULT_DATA_URI_TYPE
    return media, is_base64, payload


def decode_data_uri(uri: str) -> tuple[bytes, str]:
    """The bytes and media type of a ``data:`` URI (RFC 2397), base64 or percent-encoded.

    >>> decode_data_uri("data:text/plain,hello%20world")
    (b'hello world', 'text/plain')
    """
    media, is_base64, payload = _split_data_uri(uri)
    raw = unquote_to_bytes(payload)
    if not is_base64:
        return raw, media
    compact = re.sub(rb"\s+", b"", raw)
    compact += b"=" * (-len(compact) % 4)  # tolerate missing padding
    try:
        altchars = b"-_" if (b"-" in compact or b"_" in compact) else None
        return base64.b64decode(compact, altchars=altchars, validate=True), media
    except (binascii.Error, ValueError) as exc:
        raise InvalidResponseError(f"a data: URI holds invalid base64: {uri[:60]!r}…") from exc


def data_uri_media_type(uri: str) -> str:
    """The media type of a ``data:`` URI without decoding its payload."""
    return _split_data_uri(uri)[0]


def encode_data_uri(data: bytes, content_type: str | None) -> str:
    """A base64 ``data:`` URI holding ``data``."""
    media = content_type or "application/octet-stream"
    return f"data:{media};base64,{base64.b64encode(data).decode('ascii')}"


def guess_content_type(name: str | None) -> str | None:
    """The MIME type that a file name's extension suggests (``None`` when unknown)."""
    if not name:
        return None
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed


def _extension_for(content_type: str | None) -> str:
    if not content_type:
        return ""
    base = content_type.split(";")[0].strip().lower()
    preferred = {"image/jpeg": ".jpg", "text/plain": ".txt", "audio/mpeg": ".mp3"}
    return preferred.get(base) or mimetypes.guess_extension(base, strict=False) or ""


def safe_filename(url: str, content_type: str | None = None, default: str = "output") -> str:
    """A file name for saving ``url`` that is safe to join to any directory.

    The last path segment of the URL, percent-decoded, with path separators, control and
    reserved characters replaced, never ``.``/``..``/empty, never a Windows device name, at most
    200 bytes. ``data:`` URIs (and URLs without a usable name) get ``default`` plus an
    extension from ``content_type``.
    """
    name = ""
    if not is_data_uri(url):
        path = urlsplit(url).path
        # Decode first, then take the last segment: an encoded "%2F" must not smuggle a
        # separator in, and "a/..%2F..%2Fx" must not climb out of the target directory.
        name = unquote(path.rsplit("/", 1)[-1])
        name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = _UNSAFE_NAME_CHARS.sub("_", name).strip(" .")
    if not name or set(name) <= {"_"}:
        name = default + _extension_for(content_type)
    stem = name.split(".", 1)[0]
    if stem.upper() in _WINDOWS_RESERVED:
        name = "_" + name
    encoded = name.encode()
    if len(encoded) > _MAX_NAME_BYTES:
        dot = name.rfind(".")
        ext = name[dot:] if 0 < dot and len(name) - dot <= 16 else ""
        room = _MAX_NAME_BYTES - len(ext.encode())
        name = encoded[:room].decode(errors="ignore") + ext
    return name


MAX_NUMBERED_NAMES = 10_000


def numbered_names(name: str, limit: int = MAX_NUMBERED_NAMES) -> Iterator[str]:
    """``name``, then ``name-1``, ``name-2`` … before the first dot (``a.tar.gz`` →
    ``a-1.tar.gz``): the names tried, in order, when saving must not overwrite. ``limit``
    names at most."""
    stem, dot, suffix = name.partition(".")
    yield name
    for index in range(1, limit):
        yield f"{stem}-{index}{dot}{suffix}"


def is_plain_name(name: str) -> bool:
    """Whether ``name`` is a bare file name: not empty, ``.``/``..``, and no path separator."""
    return bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name


def sniff_image_type(data: bytes) -> str | None:
    """The image MIME type that ``data``'s magic bytes show (``None`` if not a known image)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    head = data[:512].lstrip().lower()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head):
        return "image/svg+xml"
    return None

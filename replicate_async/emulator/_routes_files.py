"""Files: multipart upload (streamed, capped), list, get, delete, signed download."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from aiohttp import BodyPartReader, web

from ._core import CORE, Core
from ._http import json_response, operation, page_of
from ._problems import Problem, not_found
from ._state import UploadedFile
from ._util import file_id as new_file_id
from ._util import format_ts

__all__ = ["download_signature"]


def download_signature(core: Core, owner: str, file_id: str, expiry: int) -> str:
    """base64(HMAC-SHA256(signing secret, "{owner} {id} {expiry}"))."""
    message = f"{owner} {file_id} {expiry}".encode()
    digest = hmac.new(core.file_signing_secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _too_large(core: Core) -> Problem:
    cap = core.options.max_file_size
    size = f"{cap // (1024 * 1024)}MB" if cap % (1024 * 1024) == 0 else f"{cap} bytes"
    return Problem(413, f"Files must be less than {size} in size", include_title=False)


async def _read_capped(part: BodyPartReader, cap: int, core: Core) -> bytes:
    buf = bytearray()
    while True:
        chunk = await part.read_chunk(256 * 1024)
        if not chunk:
            return bytes(buf)
        buf += chunk
        if len(buf) > cap:
            raise _too_large(core)


@operation("files.create", "POST", "/files")
async def files_create(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    cap = core.options.max_file_size
    if request.content_length is not None and request.content_length > cap + 64 * 1024:
        raise _too_large(core)
    if not request.content_type.startswith("multipart/"):
        raise Problem(400, "Files must be uploaded as multipart/form-data")
    reader = await request.multipart()
    data: bytes | None = None
    filename: str | None = None
    content_type: str | None = None
    part_type: str | None = None
    metadata: Any = {}
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "content":
            filename = filename or part.filename
            part_type = part.headers.get("Content-Type")
            data = await _read_capped(part, cap, core)
        elif part.name == "filename":
            filename = (await part.text()).strip() or filename
        elif part.name == "type":
            content_type = (await part.text()).strip() or None
        elif part.name == "metadata":
            raw = await part.text()
            try:
                metadata = json.loads(raw) if raw.strip() else {}
            except ValueError as exc:
                raise Problem(400, "metadata must be valid JSON") from exc
            if not isinstance(metadata, dict):
                raise Problem(400, "metadata must be a JSON object")
        else:
            await part.release()
    if data is None:
        raise Problem(400, "The content part is required")
    if filename is not None and len(filename.encode()) > 255:
        raise Problem(400, "filename must be at most 255 bytes")
    now = core.clock.time()
    fid = new_file_id(core.rng)
    upload = UploadedFile(
        id=fid,
        name=filename or "file",
        content_type=content_type or part_type or "application/octet-stream",
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        metadata=metadata,
        created_at=now,
        created_at_str=format_ts(now, core.rng),
        expires_at_str=format_ts(now + core.options.file_expiry, core.rng),
        seq=core.store.next_seq(),
        get_url=f"{core.api_url}/files/{fid}",
    )
    core.store.files[fid] = upload
    return json_response(upload.to_json(), 201, {"Location": upload.get_url})


@operation("files.list", "GET", "/files")
async def files_list(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    items = list(reversed(core.store.files.values()))
    page = page_of(core, request, items, "/files", key=lambda f: f.seq)
    return json_response(page.to_json(UploadedFile.to_json))


def _file(request: web.Request) -> UploadedFile:
    upload = request.app[CORE].store.files.get(request.match_info["file_id"])
    if upload is None:
        raise not_found()
    return upload


@operation("files.get", "GET", "/files/{file_id}")
async def files_get(request: web.Request) -> web.StreamResponse:
    return json_response(_file(request).to_json())


@operation("files.delete", "DELETE", "/files/{file_id}")
async def files_delete(request: web.Request) -> web.StreamResponse:
    upload = _file(request)
    del request.app[CORE].store.files[upload.id]
    return web.Response(status=204)


@operation("files.download", "GET", "/files/{file_id}/download")
async def files_download(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    upload = _file(request)
    query = request.query
    owner = query.get("owner", "")
    signature = query.get("signature", "").replace(" ", "+").replace("-", "+").replace("_", "/")
    try:
        expiry = int(query.get("expiry", ""))
    except ValueError:
        raise not_found() from None
    expected = download_signature(core, owner, upload.id, expiry)
    if not hmac.compare_digest(signature.rstrip("="), expected.rstrip("=")):
        raise not_found()
    if expiry < core.clock.time():
        raise not_found()
    return web.Response(
        body=upload.data,
        content_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{upload.name}"'},
    )

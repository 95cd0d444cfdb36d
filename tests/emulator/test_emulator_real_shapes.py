"""Field and URL shapes that must match recorded real traffic (replicate/replicate-python's
``tests/cassettes``) and the published spec, so that real clients cannot tell the difference."""

from __future__ import annotations

import re

import aiohttp
from emu_helpers import SDXL, call, poll

from replicate_async.emulator import Emulator


async def test_delivery_urls_have_the_recorded_shape(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    # default_example of stability-ai/sdxl (models-get recordings):
    # https://pbxt.replicate.delivery/YXbcLudoHBIYHV6L0HbcTx5iRzLFMwygLr3vhGpZI35caXbE/out-0.png
    emu = replicate_emulator
    _, pred, _ = await call(
        http,
        "POST",
        f"{emu.url}/predictions",
        json={"version": SDXL, "input": {"prompt": "x", "width": 16, "height": 16}},
        expect=201,
    )
    done = await poll(http, pred["urls"]["get"])
    [url] = done["output"]
    assert re.fullmatch(re.escape(emu.delivery_url) + r"/pbxt/[A-Za-z0-9]{48}/out-0\.png", url)


async def test_uploaded_file_ids_have_the_recorded_shape(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    # file-operations.yaml: "id":"NGZiNmY2YzQtMThhZi00ZjcyLWFhZjktODg4NTY0NWNlMDEy" = base64(uuid)
    import base64
    import uuid

    form = aiohttp.FormData()
    form.add_field("content", b"hello", filename="a.txt", content_type="text/plain")
    _, body, _ = await call(http, "POST", f"{replicate_emulator.url}/files", data=form, expect=201)
    assert re.fullmatch(r"[A-Za-z0-9]{48}", body["id"])
    uuid.UUID(base64.b64decode(body["id"]).decode())
    assert body["urls"]["get"] == f"{replicate_emulator.url}/files/{body['id']}"

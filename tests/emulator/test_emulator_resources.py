"""Files, trainings, deployments, models and account (search, collections and hardware are in
``test_emulator_listing``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import aiohttp
import pytest
from emu_helpers import AUTH, LLAMA3, SDXL, call, poll

from replicate_async.emulator import Emulator


def form(content: bytes, **fields: Any) -> aiohttp.FormData:
    data = aiohttp.FormData()
    data.add_field("content", content, filename="in.bin", content_type="application/zip")
    for key, value in fields.items():
        data.add_field(key, json.dumps(value) if key == "metadata" else value)
    return data


# -- files ------------------------------------------------------------------------------


async def test_file_upload_get_list_delete(
    emulator_factory: Any, http: aiohttp.ClientSession
) -> None:
    async with emulator_factory(page_size=2) as emu:
        content = b"PK\x03\x04 some zip bytes"
        _, body, headers = await call(
            http,
            "POST",
            f"{emu.url}/files",
            data=form(content, filename="photos.zip", metadata={"customer": 123}),
            expect=201,
        )
        assert body["size"] == len(content)
        assert body["checksums"]["sha256"] == hashlib.sha256(content).hexdigest()
        assert body["content_type"] == "application/zip"
        assert body["metadata"] == {"customer": 123} and body["name"] == "photos.zip"
        assert body["urls"]["get"] == f"{emu.url}/files/{body['id']}" == headers["Location"]
        assert body["etag"] and body["expires_at"] > body["created_at"][:19]
        _, got, _ = await call(http, "GET", body["urls"]["get"], expect=200)
        assert got == body
        for i in range(2):
            await call(
                http, "POST", f"{emu.url}/files", data=form(b"x" * i, type="text/plain"), expect=201
            )
        _, page, _ = await call(http, "GET", f"{emu.url}/files", expect=200)
        assert len(page["results"]) == 2 and page["results"][0]["content_type"] == "text/plain"
        _, page2, _ = await call(http, "GET", page["next"], expect=200)
        assert [f["id"] for f in page2["results"]] == [body["id"]]
        await call(http, "DELETE", body["urls"]["get"], expect=204)
        _, _missing, headers = await call(http, "GET", body["urls"]["get"], expect=404)
        assert headers["Content-Type"].startswith("application/problem+json")
        await call(http, "DELETE", body["urls"]["get"], expect=404)


async def test_file_size_cap(emulator_factory: Any, http: aiohttp.ClientSession) -> None:
    async with emulator_factory(max_file_size=1024) as emu:
        await call(http, "POST", f"{emu.url}/files", data=form(b"x" * 1024), expect=201)
        _, body, _ = await call(
            http, "POST", f"{emu.url}/files", data=form(b"x" * 2000), expect=413
        )
        assert body["detail"] == "Files must be less than 1024 bytes in size"

        async def chunks() -> Any:  # no Content-Length: the cap is enforced while streaming
            yield b'--b\r\nContent-Disposition: form-data; name="content"; filename="a"\r\n\r\n'
            for _ in range(100):
                yield b"y" * 100
            yield b"\r\n--b--\r\n"

        _, body, _ = await call(
            http,
            "POST",
            f"{emu.url}/files",
            data=chunks(),
            headers={"Content-Type": "multipart/form-data; boundary=b"},
            expect=413,
        )
    async with emulator_factory() as emu:
        huge = {"Content-Type": "multipart/form-data; boundary=b", "Content-Length": str(200 << 20)}
        async with aiohttp.ClientSession(headers=AUTH) as s:
            try:
                async with s.post(f"{emu.url}/files", data=b"--b", headers=huge) as resp:
                    assert resp.status == 413
                    body = await resp.json(content_type=None)
                    assert body["detail"] == "Files must be less than 100MB in size"
            except aiohttp.ClientError:
                pass  # the server may close before the client sent everything


async def test_file_download_signature(emulator_factory: Any, http: aiohttp.ClientSession) -> None:
    async with emulator_factory(file_signing_secret="s3cret") as emu:
        assert emu.file_signing_secret == "s3cret"
        _, body, _ = await call(http, "POST", f"{emu.url}/files", data=form(b"secret"), expect=201)
        url = emu.file_download_url(body["id"])
        async with aiohttp.ClientSession() as anon:
            async with anon.get(url) as resp:
                assert resp.status == 200 and await resp.read() == b"secret"
            query = parse_qs(urlparse(url).query)
            # The public secret lets a test sign a URL itself: base64(HMAC-SHA256(secret,
            # "{owner} {id} {expiry}")).
            message = f"{query['owner'][0]} {body['id']} {query['expiry'][0]}".encode()
            key = emu.file_signing_secret.encode()
            mac = hmac.new(key, message, hashlib.sha256).digest()
            assert query["signature"] == [base64.b64encode(mac).decode()]
            base = f"{emu.url}/files/{body['id']}/download"
            tampered = {k: v[0] for k, v in query.items()}
            tampered["owner"] = "someone-else"
            await call(anon, "GET", f"{base}?{urlencode(tampered)}", expect=404)
            expired = emu.file_download_url(body["id"], expires_in=-10)
            await call(anon, "GET", expired, expect=404)


async def test_uploaded_file_as_prediction_input(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emu = replicate_emulator
    content = bytes(range(256)) * 10
    _, upload, _ = await call(http, "POST", f"{emu.url}/files", data=form(content), expect=201)
    model = emu._core.catalog.models["replicate/echo-file"]
    assert model.latest is not None
    _, body, _ = await call(
        http,
        "POST",
        f"{emu.url}/predictions",
        json={"version": model.latest.id, "input": {"file": upload["urls"]["get"]}},
        headers={"Prefer": "wait"},
        expect=201,
    )
    assert body["output"]["size"] == len(content)
    assert body["output"]["sha256"] == upload["checksums"]["sha256"]


# -- trainings --------------------------------------------------------------------------


async def test_training_creates_version_on_destination(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emu = replicate_emulator
    _, trainer, _ = await call(
        http, "GET", f"{emu.url}/models/replicate/fast-flux-trainer", expect=200
    )
    vid = trainer["latest_version"]["id"]
    url = f"{emu.url}/models/replicate/fast-flux-trainer/versions/{vid}/trainings"
    payload = {"destination": "emulator/my-lora", "input": {"input_images": "data:,x"}}
    _, missing, _ = await call(http, "POST", url, json=payload, expect=404)
    assert "does not exist" in missing["detail"]
    await call(
        http,
        "POST",
        f"{emu.url}/models",
        json={
            "owner": "emulator",
            "name": "my-lora",
            "visibility": "private",
            "hardware": "gpu-t4",
        },
        expect=201,
    )
    _, bad, _ = await call(
        http, "POST", url, json={**payload, "input": {"training_steps": 1}}, expect=422
    )
    assert {f["type"] for f in bad["invalid_fields"]} == {"required", "number_gte"}
    _, training, _headers = await call(http, "POST", url, json=payload, expect=201)
    assert training["status"] == "starting" and training["output"] is None
    assert training["urls"]["get"] == f"{emu.url}/trainings/{training['id']}"
    done = await poll(http, training["urls"]["get"])
    assert done["status"] == "succeeded"
    version_ref = done["output"]["version"]
    assert version_ref.startswith("emulator/my-lora:")
    async with aiohttp.ClientSession() as anon:
        await call(anon, "GET", done["output"]["weights"], expect=200)
    _, model, _ = await call(http, "GET", f"{emu.url}/models/emulator/my-lora", expect=200)
    assert model["latest_version"]["id"] == version_ref.split(":")[1]
    # the new version runs
    _, pred, _ = await call(
        http,
        "POST",
        f"{emu.url}/predictions",
        json={"version": version_ref, "input": {"prompt": "TOK", "aspect_ratio": "16:9"}},
        headers={"Prefer": "wait"},
        expect=201,
    )
    # A file-output model: sync mode answers early, with the image as a data: URI.
    assert pred["status"] == "processing" and len(pred["output"]) == 1
    assert pred["output"][0].startswith("data:image/png;base64,")
    _, listing, _ = await call(http, "GET", f"{emu.url}/trainings", expect=200)
    assert listing["results"][0]["id"] == training["id"]
    _, again, _ = await call(http, "POST", training["urls"]["cancel"], expect=200)
    assert again["status"] == "succeeded"
    await call(http, "GET", f"{emu.url}/trainings/nope", expect=404)


async def test_training_cancel(emulator_factory: Any, http: aiohttp.ClientSession) -> None:
    async with emulator_factory(speed=1) as emu:
        await call(
            http,
            "POST",
            f"{emu.url}/models",
            json={"owner": "emulator", "name": "dest", "visibility": "private", "hardware": "cpu"},
            expect=201,
        )
        _, training, _ = await call(
            http,
            "POST",
            f"{emu.url}/models/stability-ai/sdxl/versions/{SDXL}/trainings",
            json={"destination": "emulator/dest", "input": {"input_images": "data:,x"}},
            expect=201,
        )
        _, canceled, _ = await call(http, "POST", training["urls"]["cancel"], expect=200)
        assert canceled["status"] == "canceled"


# -- deployments ------------------------------------------------------------------------


async def test_deployments(replicate_emulator: Emulator, http: aiohttp.ClientSession) -> None:
    emu = replicate_emulator
    spec = {
        "name": "my-app",
        "model": "stability-ai/sdxl",
        "version": SDXL,
        "hardware": "gpu-t4",
        "min_instances": 0,
        "max_instances": 3,
    }
    for bad in ({**spec, "min_instances": 6}, {**spec, "max_instances": 21}, {"name": "x"}):
        await call(http, "POST", f"{emu.url}/deployments", json=bad, expect=422)
    await call(http, "POST", f"{emu.url}/deployments", json={**spec, "hardware": "tpu"}, expect=422)
    await call(
        http, "POST", f"{emu.url}/deployments", json={**spec, "version": "0" * 64}, expect=422
    )
    _, dep, _ = await call(http, "POST", f"{emu.url}/deployments", json=spec, expect=200)
    assert dep["owner"] == "emulator" and dep["current_release"]["number"] == 1
    assert dep["current_release"]["configuration"] == {
        "hardware": "gpu-t4",
        "min_instances": 0,
        "max_instances": 3,
    }
    await call(http, "POST", f"{emu.url}/deployments", json=spec, expect=409)
    url = f"{emu.url}/deployments/emulator/my-app"
    _, got, _ = await call(http, "GET", url, expect=200)
    assert got == dep
    _, updated, _ = await call(http, "PATCH", url, json={"max_instances": 5}, expect=200)
    assert updated["current_release"]["number"] == 2
    _, updated, _ = await call(http, "PATCH", url, json={"hardware": "cpu"}, expect=200)
    assert updated["current_release"]["number"] == 3
    await call(http, "PATCH", url, json={"bogus": 1}, expect=422)
    _, listing, _ = await call(http, "GET", f"{emu.url}/deployments", expect=200)
    assert [d["name"] for d in listing["results"]] == ["my-app"]
    _, pred, _ = await call(
        http,
        "POST",
        url + "/predictions",
        json={"input": {"prompt": "x", "width": 8, "height": 8}},
        headers={"Prefer": "wait"},
        expect=201,
    )
    assert pred["deployment"] == "emulator/my-app" and pred["status"] == "processing"
    assert (await poll(http, pred["urls"]["get"]))["status"] == "succeeded"
    await call(
        http,
        "POST",
        f"{emu.url}/deployments/emulator/nope/predictions",
        json={"input": {}},
        expect=404,
    )
    await call(http, "DELETE", url, expect=204)
    await call(http, "GET", url, expect=404)


# -- models -----------------------------------------------------------------------------


async def test_models_crud(emulator_factory: Any, http: aiohttp.ClientSession) -> None:
    async with emulator_factory(page_size=3) as emu:
        base = f"{emu.url}/models"
        _, page, _ = await call(http, "GET", base, expect=200)
        assert len(page["results"]) == 3 and page["next"]
        names = [m["name"] for m in page["results"]]
        while page["next"]:
            _, page, _ = await call(http, "GET", page["next"], expect=200)
            names += [m["name"] for m in page["results"]]
        assert {"sdxl", "hello-world", "meta-llama-3-8b-instruct"} <= set(names)
        _, asc, _ = await call(
            http,
            "GET",
            base,
            params={"sort_by": "model_created_at", "sort_direction": "asc"},
            expect=200,
        )
        assert asc["results"][0]["name"] == "hello-world"
        spec = {"owner": "emulator", "name": "hot-dog", "visibility": "private", "hardware": "cpu"}
        _, model, _ = await call(
            http, "POST", base, json={**spec, "description": "Dogs"}, expect=201
        )
        assert model["latest_version"] is None and model["run_count"] == 0
        assert model["description"] == "Dogs"
        await call(http, "POST", base, json=spec, expect=409)
        await call(http, "POST", base, json={**spec, "owner": "someone"}, expect=403)
        await call(http, "POST", base, json={**spec, "name": "Bad Name"}, expect=422)
        await call(http, "POST", base, json={"owner": "emulator"}, expect=422)
        _, patched, _ = await call(
            http,
            "PATCH",
            f"{base}/emulator/hot-dog",
            json={"description": "Hot dogs", "readme": "# Hot dog", "github_url": "https://g.h/x"},
            expect=200,
        )
        assert patched["description"] == "Hot dogs" and patched["github_url"] == "https://g.h/x"
        _, readme, headers = await call(http, "GET", f"{base}/emulator/hot-dog/readme", expect=200)
        assert readme == "# Hot dog" and headers["Content-Type"].startswith("text/markdown")
        await call(
            http, "PATCH", f"{base}/stability-ai/sdxl", json={"description": "x"}, expect=403
        )
        await call(http, "DELETE", f"{base}/stability-ai/sdxl", expect=403)
        await call(http, "DELETE", f"{base}/emulator/hot-dog", expect=204)
        await call(http, "GET", f"{base}/emulator/hot-dog", expect=404)


async def test_versions_and_examples(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    base = f"{replicate_emulator.url}/models"
    _, model, _ = await call(http, "GET", f"{base}/stability-ai/sdxl", expect=200)
    assert (
        model["latest_version"]["id"] == SDXL and model["default_example"]["status"] == "succeeded"
    )
    _, versions, _ = await call(http, "GET", f"{base}/replicate/hello-world/versions", expect=200)
    assert [v["cog_version"] for v in versions["results"]] == ["0.8.6", "0.3.0"]
    _, version, _ = await call(http, "GET", f"{base}/stability-ai/sdxl/versions/{SDXL}", expect=200)
    schema = version["openapi_schema"]["components"]["schemas"]
    assert schema["Input"]["properties"]["refine"]["allOf"] == [
        {"$ref": "#/components/schemas/refine"}
    ]
    await call(http, "GET", f"{base}/stability-ai/sdxl/versions/{'0' * 64}", expect=404)
    _, official, _ = await call(http, "GET", f"{base}/{LLAMA3}", expect=200)
    assert official["is_official"] is True
    _, examples, _ = await call(http, "GET", f"{base}/{LLAMA3}/examples", expect=200)
    assert examples["results"] and all(e["model"] == LLAMA3 for e in examples["results"])
    _, readme, _ = await call(http, "GET", f"{base}/{LLAMA3}/readme", expect=200)
    assert LLAMA3 in readme
    await call(http, "DELETE", f"{base}/stability-ai/sdxl/versions/{SDXL}", expect=403)


async def test_own_version_delete_then_model_delete(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emu = replicate_emulator
    await call(
        http,
        "POST",
        f"{emu.url}/models",
        json={"owner": "emulator", "name": "tuned", "visibility": "private", "hardware": "cpu"},
        expect=201,
    )
    _, training, _ = await call(
        http,
        "POST",
        f"{emu.url}/models/stability-ai/sdxl/versions/{SDXL}/trainings",
        json={"destination": "emulator/tuned", "input": {"input_images": "data:,x"}},
        expect=201,
    )
    done = await poll(http, training["urls"]["get"])
    vid = done["output"]["version"].split(":")[1]
    await call(http, "DELETE", f"{emu.url}/models/emulator/tuned", expect=409)
    _status, body, _ = await call(
        http, "DELETE", f"{emu.url}/models/emulator/tuned/versions/{vid}", expect=202
    )
    assert body is None
    await call(http, "DELETE", f"{emu.url}/models/emulator/tuned", expect=204)


@pytest.mark.replicate_emulator(
    account={"type": "organization", "username": "acme", "name": "Acme"}
)
async def test_configurable_account(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    _, account, _ = await call(http, "GET", f"{replicate_emulator.url}/account", expect=200)
    assert account == {"type": "organization", "username": "acme", "name": "Acme"}
    await call(
        http,
        "POST",
        f"{replicate_emulator.url}/models",
        json={"owner": "acme", "name": "m", "visibility": "public", "hardware": "cpu"},
        expect=201,
    )

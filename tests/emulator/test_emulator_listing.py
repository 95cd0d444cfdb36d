"""Listings: predictions pagination and date filters, model search pages, collections,
hardware, account, and the request log the emulator keeps."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp
import pytest
from emu_helpers import call
from yarl import URL

from replicate_async.emulator import Emulator

LLAMAS = {"meta-llama-3-8b-instruct", "llama-2-7b-chat", "llama-guard-3-8b"}


def iso_ns(ns: int, tail: str = "Z") -> str:
    """An exact timestamp with nine fractional digits."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) + f".{ns % 10**9:09d}{tail}"


async def create_instant(http: aiohttp.ClientSession, emu: Emulator, n: int) -> list[str]:
    """``n`` predictions, at least 2 ms apart; their ids, oldest first."""
    ids = []
    for i in range(n):
        _, body, _ = await call(
            http,
            "POST",
            f"{emu.url}/models/replicate/instant/predictions",
            json={"input": {"text": str(i)}},
            expect=201,
        )
        ids.append(body["id"])
        await asyncio.sleep(0.002)
    return ids


async def listed(http: aiohttp.ClientSession, emu: Emulator, **params: str) -> list[str]:
    """Every prediction id ``GET /predictions`` lists with these filters, across pages."""
    _, page, _ = await call(http, "GET", f"{emu.url}/predictions", params=params, expect=200)
    found = [p["id"] for p in page["results"]]
    while page["next"]:
        _, page, _ = await call(http, "GET", page["next"], expect=200)
        found += [p["id"] for p in page["results"]]
    return found


async def test_list_pagination_keeps_filters(
    emulator_factory: Any, http: aiohttp.ClientSession
) -> None:
    async with emulator_factory(page_size=2) as emu:
        ids = await create_instant(http, emu, 5)
        _, page, _ = await call(http, "GET", f"{emu.url}/predictions", expect=200)
        assert [p["id"] for p in page["results"]] == ids[::-1][:2]
        assert page["previous"] is None
        seen = [p["id"] for p in page["results"]]
        while page["next"]:
            assert page["next"].startswith(emu.url + "/predictions?")
            _, page, _ = await call(http, "GET", page["next"], expect=200)
            seen += [p["id"] for p in page["results"]]
        assert seen == ids[::-1]
        _, back, _ = await call(http, "GET", page["previous"], expect=200)
        assert [p["id"] for p in back["results"]] == ids[::-1][2:4]

        # created_after is "at or after": the printed created_at of ids[1] includes ids[1].
        after = emu.predictions[ids[1]].created_at_str
        _, page, _ = await call(
            http, "GET", f"{emu.url}/predictions", params={"created_after": after}, expect=200
        )
        assert [p["id"] for p in page["results"]] == ids[::-1][:2]
        assert page["next"] is not None
        assert parse_qs(urlparse(page["next"]).query)["created_after"] == [after]
        _, page, _ = await call(http, "GET", page["next"], expect=200)
        assert [p["id"] for p in page["results"]] == [ids[2], ids[1]]
        assert page["next"] is None
        _, web_only, _ = await call(http, "GET", f"{emu.url}/predictions?source=web", expect=200)
        assert web_only["results"] == []
        await call(http, "GET", f"{emu.url}/predictions?cursor=garbage!", expect=400)


async def test_date_filters_compare_exact_creation_times(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emu = replicate_emulator
    ids = await create_instant(http, emu, 3)
    exact = emu.predictions[ids[1]].created_at_ns
    # At or after (inclusive), to the nanosecond.
    assert await listed(http, emu, created_after=iso_ns(exact)) == [ids[2], ids[1]]
    assert await listed(http, emu, created_after=iso_ns(exact + 1)) == [ids[2]]
    # Before (exclusive).
    assert await listed(http, emu, created_before=iso_ns(exact)) == [ids[0]]
    assert await listed(http, emu, created_before=iso_ns(exact + 1)) == [ids[1], ids[0]]
    both = {"created_after": iso_ns(exact), "created_before": iso_ns(exact + 1)}
    assert await listed(http, emu, **both) == [ids[1]]
    # Digits past the ninth are not dropped: 0.1 ns later is after the prediction.
    assert await listed(http, emu, created_after=iso_ns(exact, "1Z")) == [ids[2]]
    # An offset means the same instant.
    shifted = iso_ns(exact + 2 * 3600 * 10**9, "+02:00")
    assert await listed(http, emu, created_after=shifted) == [ids[2], ids[1]]
    # Whatever the precision the API printed, its created_at lists its prediction as "after".
    for pid in ids:
        printed = emu.predictions[pid].created_at_str
        assert pid in await listed(http, emu, created_after=printed)
        assert pid not in await listed(http, emu, created_before=printed)
    await call(http, "GET", f"{emu.url}/predictions?created_before=yesterday", expect=400)


async def test_request_log_keeps_decoded_and_raw_query(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emu = replicate_emulator
    await call(
        http,
        "POST",
        f"{emu.url}/models/replicate/instant/predictions",
        json={"input": {}},
        expect=201,
    )
    assert emu.stats.creates == 1 and emu.stats.predictions_created == 1
    record = emu.requests[-1]
    assert (record.method, record.path, record.status) == (
        "POST",
        "/v1/models/replicate/instant/predictions",
        201,
    )
    assert record.operation == "models.predictions.create"
    assert record.headers["Authorization"] == "<redacted>"
    assert record.query == record.raw_query == ""
    job = next(iter(emu.predictions.values()))
    assert job.status == "succeeded" and job.to_json()["output"] == "instant: "

    raw = "created_after=2024-01-01T00%3A00%3A00%2B00%3A00&source=web"
    url = URL(f"{emu.url}/predictions?{raw}", encoded=True)  # sent exactly as written
    async with http.get(url) as resp:
        assert resp.status == 200
    record = emu.requests[-1]
    assert record.operation == "predictions.list"
    assert record.raw_query == raw
    assert parse_qs(record.raw_query) == {
        "created_after": ["2024-01-01T00:00:00+00:00"],
        "source": ["web"],
    }
    assert "%3A" not in record.query and record.query.startswith("created_after=2024-01-01T00:00")


async def query_models(
    http: aiohttp.ClientSession, url: str, text: str, expect: int = 200
) -> dict[str, Any]:
    _, body, _ = await call(
        http, "QUERY", url, data=text, headers={"Content-Type": "text/plain"}, expect=expect
    )
    return dict(body)


@pytest.mark.replicate_emulator(page_size=1)
async def test_search_pages_continue_the_same_search(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    url = f"{replicate_emulator.url}/models"
    page = await query_models(http, url, "llama")
    names = [page["results"][0]["name"]]
    while page["next"]:
        # What a client does (re-send the QUERY body) and what a plain link-follower does (GET)
        # give the same next page, of the same search.
        _, plain, _ = await call(http, "GET", page["next"], expect=200)
        page = await query_models(http, page["next"], "llama")
        names.append(page["results"][0]["name"])
        assert plain == page
    assert len(names) == len(set(names)) == 3 and set(names) == LLAMAS
    back = await query_models(http, page["previous"], "llama")
    assert [m["name"] for m in back["results"]] == names[1:2]

    # A cursor belongs to its search: another query, or a plain list's cursor, is a 400.
    first = await query_models(http, url, "llama")
    await query_models(http, first["next"], "sdxl", expect=400)
    _, listing, _ = await call(http, "GET", url, expect=200)
    await query_models(http, listing["next"], "llama", expect=400)
    _, second, _ = await call(http, "GET", listing["next"], expect=200)
    assert second["results"] != listing["results"]  # plain list cursors still list


async def test_search_collections_hardware_account(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    url = replicate_emulator.url
    found = await query_models(http, f"{url}/models", '"llama"')  # JSON-quoted, as some send it
    assert {m["name"] for m in found["results"]} == LLAMAS
    found = await query_models(http, f"{url}/models", "sdxl")
    assert [m["name"] for m in found["results"]] == ["sdxl"]
    found = await query_models(http, f"{url}/models", "moderation")
    assert [m["name"] for m in found["results"]] == ["llama-guard-3-8b"]
    await query_models(http, f"{url}/models", "  ", expect=400)
    async with aiohttp.ClientSession() as anon:
        _, result, _ = await call(anon, "GET", f"{url}/search?query=language&limit=2", expect=200)
        _, safety, _ = await call(anon, "GET", f"{url}/search?query=safety", expect=200)
    assert result["query"] == "language" and len(result["models"]) <= 2
    assert result["models"][0]["metadata"]["score"] > 0
    assert any(c["slug"] == "language-models" for c in result["collections"])
    assert [m["model"]["name"] for m in safety["models"]] == ["llama-guard-3-8b"]
    await call(http, "GET", f"{url}/search?query=x&limit=99", expect=400)
    await call(http, "GET", f"{url}/search", expect=400)
    _, cols, _ = await call(http, "GET", f"{url}/collections", expect=200)
    assert {"name", "slug", "description"} == set(cols["results"][0])
    _, col, _ = await call(http, "GET", f"{url}/collections/text-to-image", expect=200)
    assert col["models"][0]["name"] == "sdxl"
    _, official, _ = await call(http, "GET", f"{url}/collections/official", expect=200)
    assert "llama-guard-3-8b" in [m["name"] for m in official["models"]]
    await call(http, "GET", f"{url}/collections/nope", expect=404)
    _, hardware, _ = await call(http, "GET", f"{url}/hardware", expect=200)
    assert hardware[0] == {"sku": "cpu", "name": "CPU"}
    assert {"sku": "gpu-t4", "name": "Nvidia T4 GPU"} in hardware
    _, account, _ = await call(http, "GET", f"{url}/account", expect=200)
    assert account["type"] == "user" and account["username"] == "emulator"

"""Server-Sent Events on ``urls.stream`` (the stream origin)."""

from __future__ import annotations

import json
import re
from typing import Any

import aiohttp
import pytest
from emu_helpers import LLAMA3, SDXL, call, poll

from replicate_async.emulator import Emulator


def parse_sse(text: str) -> tuple[list[str], list[dict[str, Any]]]:
    """(comments, events) from a complete SSE body (LF line endings, as the emulator sends)."""
    comments: list[str] = []
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {"data": []}
    for line in text.split("\n"):
        if line == "":
            if current.get("event") or current["data"]:
                events.append({**current, "data": "\n".join(current["data"])})
            current = {"data": []}
        elif line.startswith(":"):
            comments.append(line)
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "data":
                current["data"].append(value)
            else:
                current[field] = value
    return comments, events


async def create(http: aiohttp.ClientSession, emu: Emulator, **input: Any) -> dict[str, Any]:
    _, body, _ = await call(
        http,
        "POST",
        f"{emu.url}/models/{LLAMA3}/predictions",
        json={"input": {"prompt": "Tell me", "seed": 7, **input}},
        expect=201,
    )
    return dict(body)


async def read_stream(
    http: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None
) -> tuple[list[str], list[dict[str, Any]], aiohttp.ClientResponse]:
    async with http.get(url, headers={"Accept": "text/event-stream", **(headers or {})}) as resp:
        assert resp.status == 200
        text = (await resp.read()).decode()
    comments, events = parse_sse(text)
    return comments, events, resp


async def test_stream_tokens_then_done(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    pred = await create(http, replicate_emulator)
    comments, events, resp = await read_stream(http, pred["urls"]["stream"])
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    assert comments[0] == ": hi"
    names = [e["event"] for e in events]
    assert names[-1] == "done" and json.loads(events[-1]["data"]) == {}
    assert set(names) <= {"output", "logs", "done"}
    assert all(re.match(r"^\d+:\d+$", e["id"]) for e in events)
    final = await poll(http, pred["urls"]["get"])
    text = "".join(e["data"] for e in events if e["event"] == "output")
    assert text == "".join(final["output"])
    # multi-line chunks become several data: lines that join back with \n
    assert any("\n" in e["data"] for e in events if e["event"] in ("output", "logs"))


async def test_subscribe_after_finish_replays_everything(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    pred = await create(http, replicate_emulator)
    final = await poll(http, pred["urls"]["get"])
    _, events, _ = await read_stream(http, pred["urls"]["stream"])
    assert "".join(e["data"] for e in events if e["event"] == "output") == "".join(final["output"])
    assert events[-1]["event"] == "done"


async def test_last_event_id_replays_only_later_events(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    pred = await create(http, replicate_emulator)
    await poll(http, pred["urls"]["get"])
    _, events, _ = await read_stream(http, pred["urls"]["stream"])
    cut = events[5]["id"]
    _, rest, _ = await read_stream(http, pred["urls"]["stream"], {"Last-Event-ID": cut})
    assert rest == events[6:]


async def test_cancel_ends_stream_with_reason(
    emulator_factory: Any, http: aiohttp.ClientSession
) -> None:
    async with emulator_factory(speed=1, token_delay=0.05) as emu:
        pred = await create(http, emu)
        await call(http, "POST", pred["urls"]["cancel"], expect=200)
        _, events, _ = await read_stream(http, pred["urls"]["stream"])
        assert events[-1]["event"] == "done"
        assert json.loads(events[-1]["data"]) == {"reason": "canceled"}


async def test_error_event_then_done(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    model = replicate_emulator._core.catalog.models["replicate/always-fails"]
    assert model.latest is not None
    _, pred, _ = await call(
        http,
        "POST",
        f"{replicate_emulator.url}/predictions",
        json={"version": model.latest.id, "input": {}},
        expect=201,
    )
    _, events, _ = await read_stream(http, pred["urls"]["stream"])
    assert [e["event"] for e in events[-2:]] == ["error", "done"]
    assert "always fails" in json.loads(events[-2]["data"])["detail"]
    assert json.loads(events[-1]["data"]) == {"reason": "error"}


async def test_idle_timeout_comment(emulator_factory: Any, http: aiohttp.ClientSession) -> None:
    timings = {LLAMA3: (1000.0, 0.0)}
    async with emulator_factory(speed=1, model_timings=timings, stream_idle_timeout=0.2) as emu:
        pred = await create(http, emu)
        comments, events, _ = await read_stream(http, pred["urls"]["stream"])
        assert events == []
        assert comments == [": hi", ":408: 408 Request Timeout"]


@pytest.mark.replicate_emulator(token="r8_only_this")
async def test_stream_urls_are_capability_urls(replicate_emulator: Emulator) -> None:
    """What the JavaScript client and a browser's EventSource send: no Authorization."""
    emu = replicate_emulator
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer r8_only_this"}) as http:
        pred = await create(http, emu)
    url = pred["urls"]["stream"]
    async with aiohttp.ClientSession() as anon:
        # Only Accept, as the official JavaScript client sends it.
        async with anon.get(url, headers={"Accept": "text/event-stream"}) as resp:
            assert resp.status == 200
            assert resp.headers["Access-Control-Allow-Origin"] == "*"
            text = (await resp.read()).decode()
        # A token sent anyway (even one the API would refuse) is harmless.
        _, again, _ = await read_stream(anon, url, {"Authorization": "Bearer r8_wrong"})
    assert parse_sse(text)[1][-1]["event"] == "done" and again[-1]["event"] == "done"
    # Reading it needed no token: nothing on the stream origin answered 401.
    assert all(r.status != 401 for r in emu.requests if r.origin == "stream")


async def test_stream_cors_preflight_and_errors(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    pred = await create(http, replicate_emulator)
    async with aiohttp.ClientSession() as anon:
        async with anon.options(
            pred["urls"]["stream"],
            headers={
                "Origin": "http://localhost:3000",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "cache-control,last-event-id",
            },
        ) as resp:
            assert resp.status == 204
            assert resp.headers["Access-Control-Allow-Origin"] == "*"
            assert "GET" in resp.headers["Access-Control-Allow-Methods"]
            assert resp.headers["Access-Control-Allow-Headers"] == "cache-control,last-event-id"
        # An unknown stream is a 404 a page can read (CORS on errors too).
        for path in ("/v1/predictions/nope", "/v1/files/abcd-nope", "/v1/streams/x"):
            async with anon.get(replicate_emulator.stream_url + path) as resp:
                assert resp.status == 404
                assert resp.headers["Access-Control-Allow-Origin"] == "*"


async def test_stream_url_shapes(replicate_emulator: Emulator, http: aiohttp.ClientSession) -> None:
    """Recorded shapes: text streams at /v1/predictions/{id} (predictions-stream.yaml in
    replicate/replicate-python), file-output streams at /v1/files/{prefix}-{token}."""
    emu = replicate_emulator
    pred = await create(http, emu)
    assert pred["urls"]["stream"] == f"{emu.stream_url}/v1/predictions/{pred['id']}"
    _, image, _ = await call(
        http,
        "POST",
        f"{emu.url}/predictions",
        json={"version": SDXL, "input": {"prompt": "x", "width": 16, "height": 16}},
        expect=201,
    )
    stream = image["urls"]["stream"]
    assert re.fullmatch(re.escape(emu.stream_url) + r"/v1/files/[a-z]{4}-[a-z2-7]{52}", stream)
    assert image["id"] not in stream
    async with aiohttp.ClientSession() as anon:
        _, events, _ = await read_stream(anon, stream)
    outputs = [e["data"] for e in events if e["event"] == "output"]
    assert outputs and all(o.startswith(emu.delivery_url + "/pbxt/") for o in outputs)
    # models without streaming have no stream URL
    _, body, _ = await call(
        http,
        "POST",
        f"{emu.url}/models/replicate/instant/predictions",
        json={"input": {}},
        expect=201,
    )
    assert "stream" not in body["urls"]


@pytest.mark.replicate_emulator(speed=1, token_delay=0.01)
async def test_live_stream_arrives_incrementally(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    pred = await create(http, replicate_emulator, max_tokens=40)
    chunks = 0
    async with http.get(pred["urls"]["stream"]) as resp:
        async for _ in resp.content.iter_any():
            chunks += 1
    assert chunks > 3


async def test_stream_after_data_removal(
    emulator_factory: Any, http: aiohttp.ClientSession
) -> None:
    async with emulator_factory(retention=0.05) as emu:
        pred = await create(http, emu)
        await poll(http, pred["urls"]["get"], done=lambda b: b["data_removed"])
        _, events, _ = await read_stream(http, pred["urls"]["stream"])
        assert [e["event"] for e in events] == ["done"]
        _, again, _ = await read_stream(
            http, pred["urls"]["stream"], {"Last-Event-ID": events[0]["id"]}
        )
        assert again == []

"""examples/browser_stream: what the page's EventSource does, done by a plain SSE client.

It sends no token (an EventSource cannot send headers), only ``Accept: text/event-stream``
and the page's ``Origin``; it must get CORS headers that let the page read the stream, the
tokens, and a ``done`` that ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from conformance_support import ROOT

from replicate_async.emulator import Emulator

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from examples.browser_stream.app import MODEL, serve

TIMEOUT = aiohttp.ClientTimeout(total=30)


async def read_events(resp: aiohttp.ClientResponse, limit: int = 2000) -> list[tuple[str, str]]:
    """(event, data) pairs until ``done`` (bounded), by the SSE rules an EventSource uses."""
    events: list[tuple[str, str]] = []
    name, data = "message", []
    async for raw in resp.content:
        line = raw.decode("utf-8").rstrip("\r\n")
        if line == "":
            if data:
                events.append((name, "\n".join(data)))
                if name == "done":
                    return events
            name, data = "message", []
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        if len(events) > limit:
            break
    raise AssertionError(f"the stream ended without done: {events[-5:]}")


async def exercise_page(page_url: str) -> tuple[str, list[tuple[str, str]], dict[str, Any]]:
    """Load the page, create a prediction as its form does, read the stream as its
    EventSource does. Returns (prediction id, events, the JSON the page got)."""
    origin = page_url.rstrip("/")
    async with aiohttp.ClientSession(timeout=TIMEOUT) as browser:
        async with browser.get(page_url) as resp:
            assert resp.status == 200 and resp.content_type == "text/html"
            page = await resp.text()
        assert "new EventSource(prediction.urls.stream)" in page
        for event in ("output", "error", "done"):
            assert f'source.addEventListener("{event}"' in page, event
        assert "source.close()" in page  # after done, or EventSource reconnects forever

        async with browser.post(
            page_url + "predictions",
            json={"prompt": "Tell me a story"},
            headers={"Origin": origin},
        ) as resp:
            assert resp.status == 201, await resp.text()
            created = await resp.json()
        assert set(created) == {"id", "urls"} and set(created["urls"]) == {"stream"}, created
        stream_url = created["urls"]["stream"]
        # What an EventSource sends: no Authorization, no cookies of another origin.
        headers = {"Accept": "text/event-stream", "Origin": origin, "Cache-Control": "no-cache"}
        async with browser.get(stream_url, headers=headers) as sse:
            assert sse.status == 200, (sse.status, await sse.text())
            assert sse.content_type == "text/event-stream"
            allowed = sse.headers.get("Access-Control-Allow-Origin")
            assert allowed in ("*", origin), allowed
            events = await asyncio.wait_for(read_events(sse), 30)
    return created["id"], events, created


def check_tokens(emu: Emulator, prediction_id: str, events: list[tuple[str, str]]) -> None:
    names = [name for name, _ in events]
    assert names[-1] == "done" and json.loads(events[-1][1]) == {}, events[-3:]
    assert "error" not in names, events
    tokens = [data for name, data in events if name == "output"]
    assert len(tokens) > 1, events
    job = emu.predictions[prediction_id]
    assert job.status == "succeeded"
    assert "".join(tokens) == "".join(job.output), (tokens, job.output)
    stream_requests = [r for r in emu.requests if r.origin == "stream"]
    assert stream_requests and all(
        "authorization" not in {k.lower() for k in r.headers} for r in stream_requests
    )


async def test_page_streams_tokens_without_a_token(replicate_emulator: Emulator) -> None:
    emu = replicate_emulator
    async with emu.client() as client, serve(client) as page_url:
        prediction_id, events, created = await exercise_page(page_url)
    assert emu.predictions[prediction_id].model == MODEL
    assert "r8_" not in json.dumps(created)  # the token stays on the server
    check_tokens(emu, prediction_id, events)


async def test_create_rejects_bad_input(replicate_emulator: Emulator) -> None:
    async with (
        replicate_emulator.client() as client,
        serve(client) as page_url,
        aiohttp.ClientSession(timeout=TIMEOUT) as browser,
    ):
        for body in (b"not json", b"[]", b'{"prompt": "  "}', b'{"prompt": 3}'):
            async with browser.post(page_url + "predictions", data=body) as resp:
                assert resp.status == 400, (body, resp.status)
                assert "detail" in await resp.json()
        too_long = json.dumps({"prompt": "x" * 5000}).encode()
        async with browser.post(page_url + "predictions", data=too_long) as resp:
            assert resp.status == 400
    assert replicate_emulator.stats.predictions_created == 0


@contextlib.asynccontextmanager
async def running_example(stop: signal.Signals) -> AsyncIterator[str]:
    """``python -m examples.browser_stream --local --port 0``: yields the URL it prints, then
    stops it with ``stop`` and checks that it exited cleanly."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "examples.browser_stream",
        "--local",
        "--port",
        "0",
        "--speed",
        "50",
        cwd=str(ROOT),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        url = ""
        for _ in range(10):
            line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
            if line.startswith("Open "):
                url = line.split()[1]
                break
            assert line, "the example exited before printing its URL"
        assert url.startswith("http://127.0.0.1:"), url
        yield url
    finally:
        if proc.returncode is None:
            proc.send_signal(stop)
        try:
            await asyncio.wait_for(proc.wait(), 15)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
        _, err = await proc.communicate()
    assert proc.returncode == 0, (proc.returncode, err.decode()[-2000:])


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
async def test_one_command_serves_the_page_and_stops_cleanly(stop: signal.Signals) -> None:
    async with running_example(stop) as url, aiohttp.ClientSession(timeout=TIMEOUT) as browser:
        async with browser.get(url) as resp:
            assert resp.status == 200 and "EventSource" in await resp.text()
        async with browser.post(url + "predictions", json={"prompt": "Hi"}) as resp:
            assert resp.status == 201
            created = await resp.json()
        assert created["urls"]["stream"].startswith("http://127.0.0.1:")


async def test_one_command_runs_the_example_on_the_emulator() -> None:
    """``python -m examples.browser_stream --local`` prints the URL; the page works."""
    async with running_example(signal.SIGINT) as url:
        _, events, _ = await exercise_page(url)
    tokens = [data for name, data in events if name == "output"]
    assert events[-1][0] == "done" and len(tokens) > 1, events

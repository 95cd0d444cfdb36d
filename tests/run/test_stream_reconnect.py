"""``stream()``: dropped connections resume, or finish from the prediction (PEER-DEFECT 12)."""

from __future__ import annotations

import pytest
from aiohttp import web
from run_support import (
    LLAMA3,
    REF,
    VERSION,
    ScriptedAPI,
    Twin,
    collect,
    concatenate_schema,
    dumps,
    sse,
)

from replicate_async import Client
from replicate_async._ops.stream import StreamEvent, _remainder
from replicate_async.emulator import Emulator


def text(events: list[StreamEvent]) -> str:
    return "".join(str(e) for e in events)


def stream_requests(emu: Emulator) -> list[dict[str, str]]:
    return [r.headers for r in emu.requests if r.origin == "stream"]


async def test_cut_stream_resumes_with_last_event_id__peer_defect_12(
    twin: Twin, client: Client, replicate_emulator: Emulator
) -> None:
    replicate_emulator.faults.add("stream", cut_after=5, times=1)
    events = await twin.stream(client, LLAMA3, input={"prompt": "Hi", "max_tokens": 40})
    (job,) = replicate_emulator.predictions.values()
    assert text(events) == "".join(job.output)  # nothing lost, nothing repeated
    ids = [e.id for e in events]
    assert len(ids) == len(set(ids))
    first, second = stream_requests(replicate_emulator)
    assert "Last-Event-ID" not in first
    # The cut may lose the last events written before it (the socket is aborted): the client
    # resumes after the last one it received.
    assert second["Last-Event-ID"] in ids[:5]


async def test_unresumable_stream_finishes_from_the_prediction__peer_defect_12(
    twin: Twin, client: Client, replicate_emulator: Emulator
) -> None:
    replicate_emulator.faults.add("stream", cut_after=6, times=1)
    replicate_emulator.faults.add("stream", status=404)  # every reconnection fails
    events = await twin.stream(client, LLAMA3, input={"prompt": "Hi", "max_tokens": 40})
    (job,) = replicate_emulator.predictions.values()
    outputs = [e for e in events if e.event == "output"]
    assert text(events) == "".join(job.output)
    assert [e.data for e in outputs] == job.output  # same items, each once
    assert len(stream_requests(replicate_emulator)) == 2


@pytest.mark.replicate_emulator(stream_idle_timeout=0.05, model_timings={LLAMA3: (40.0, 0.0)})
async def test_idle_timeout_comment_reconnects__peer_defect_12(
    client: Client, replicate_emulator: Emulator
) -> None:
    # Queued for 0.2 s while the server ends idle streams after 0.05 s with ":408".
    events = await collect(client.stream(LLAMA3, input={"prompt": "Hi"}))
    (job,) = replicate_emulator.predictions.values()
    assert text(events) == "".join(job.output)
    assert len(stream_requests(replicate_emulator)) >= 2


async def test_server_that_replays_from_the_start_is_not_repeated(api: ScriptedAPI) -> None:
    tokens = [f"t{i} " for i in range(8)]

    async def script(request: web.Request, resp: web.StreamResponse, index: int) -> None:
        # Ignores Last-Event-ID: every connection starts over; the first one is cut.
        events = [sse("output", t, f"9:{i}") for i, t in enumerate(tokens)]
        if index == 0:
            await resp.write(b"".join(events[:3]))
            return
        await resp.write(b"".join(events) + sse("done", "{}", "9:8"))

    api.prediction = api.make_prediction()
    api.stream_script = script
    async with api.client(sleep=no_sleep) as client:
        events = await collect(client.stream(REF, input={}))
    assert [e.data for e in events] == tokens
    assert api.seen[-1][2]["Last-Event-ID"] == "9:2"


async def test_model_without_a_stream_yields_its_final_output(twin: Twin, client: Client) -> None:
    events = await twin.stream(client, "replicate/instant", input={"text": "x"})
    assert [(e.event, e.data) for e in events] == [("output", "instant: x")]


async def test_finishing_from_the_prediction_with_other_chunking(api: ScriptedAPI) -> None:
    async def script(request: web.Request, resp: web.StreamResponse, index: int) -> None:
        if index == 0:
            await resp.write(sse("output", "Hello, wo", "1:0"))
        # later connections: nothing, then the server gives up

    api.prediction = api.make_prediction()
    api.final = api.make_prediction(status="succeeded", output=["Hello", ", ", "world", "!"])
    api.schemas[VERSION] = {"id": VERSION, "openapi_schema": concatenate_schema()}
    api.stream_script = script
    async with api.client(sleep=no_sleep) as client:
        events = await collect(client.stream(REF, input={}))
    assert [e.data for e in events] == ["Hello, wo", "rld!"]


@pytest.mark.parametrize(
    ("emitted", "output", "rest"),
    [
        ([], ["a", "b"], ["a", "b"]),
        (["a"], ["a", "b", "c"], ["b", "c"]),
        (["a", "b"], ["a", "b"], []),
        (["ab"], ["a", "bc", "d"], ["cd"]),  # different chunking: by text
        (["x"], ["a", "b"], []),  # not a prefix: nothing is invented
        (["he"], "hello", ["llo"]),
        (["hello"], "hello", []),
        ([], {"size": 3}, [dumps({"size": 3}).replace(",", ", ").replace(":", ": ")]),
        (["{}"], {"size": 3}, []),
        ([], None, []),
    ],
)
def test_remainder(emitted: list[str], output: object, rest: list[str]) -> None:
    assert [e.data for e in _remainder(emitted, output, None)] == rest


async def no_sleep(_: float) -> None:
    return None

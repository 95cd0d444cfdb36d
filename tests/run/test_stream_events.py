"""``stream()``: Replicate event semantics, through both twins."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from run_support import LLAMA3, REF, SDXL, ScriptedAPI, Twin, collect, dumps, sse, wait_until

from replicate_async import Client, ModelError, Prediction, PredictionCanceledError
from replicate_async._ops.file_output import FileOutput
from replicate_async.emulator import Emulator


def text(events: list) -> str:  # type: ignore[type-arg]
    return "".join(str(e) for e in events)


async def test_output_and_logs_events(
    twin: Twin, client: Client, replicate_emulator: Emulator
) -> None:
    events = await twin.stream(client, LLAMA3, input={"prompt": "Hi", "seed": 7})
    (job,) = replicate_emulator.predictions.values()
    assert text(events) == "".join(job.output)
    outputs = [e for e in events if e.event == "output"]
    assert [e.output for e in outputs] == job.output
    logs = [e for e in events if e.event == "logs"]
    assert logs and all(str(e) == "" and e.output is None for e in logs)
    assert all(e.id for e in events)


async def test_file_output_events(twin: Twin, client: Client, replicate_emulator: Emulator) -> None:
    events = await twin.stream(client, SDXL, input={"prompt": "cat"})
    (event,) = [e for e in events if e.event == "output"]
    assert isinstance(event.output, FileOutput) and event.output.url == event.data
    plain = await twin.stream(client, SDXL, input={"prompt": "cat"}, use_file_output=False)
    (event,) = [e for e in plain if e.event == "output"]
    assert event.output == event.data and isinstance(event.output, str)
    assert replicate_emulator.delivery_requests == []


async def test_error_event_raises_model_error_with_detail__peer_defect_10(
    twin: Twin, client: Client
) -> None:
    with pytest.raises(ModelError) as info:
        await twin.stream(client, "replicate/always-fails", input={})
    error = info.value
    assert error.error == "RuntimeError: this model always fails"  # parsed, not raw JSON
    assert error.prediction is not None and error.prediction.status == "failed"
    assert error.logs is not None and "Traceback" in error.logs


async def test_error_event_raises_before_done__peer_defect_10(api: ScriptedAPI) -> None:
    async def script(request: web.Request, resp: web.StreamResponse, index: int) -> None:
        await resp.write(sse("output", "partial", "1:0"))
        await resp.write(sse("error", dumps({"detail": "CUDA out of memory"}), "1:1"))
        await asyncio.sleep(30)  # no done: the error alone must end the stream

    api.prediction = api.make_prediction()
    api.final = api.make_prediction(status="failed", error="CUDA out of memory", logs="oom")
    api.stream_script = script
    async with api.client() as client:
        seen: list[object] = []
        with pytest.raises(ModelError) as info:
            await collect(client.stream(REF, input={}), seen)
    assert [str(e) for e in seen] == ["partial"]
    assert info.value.error == "CUDA out of memory"
    assert info.value.logs == "oom"


@pytest.mark.replicate_emulator(token_delay=2.0)
async def test_done_canceled_raises__peer_defect_11(twin: Twin, client: Client) -> None:
    # Tokens come every 2 emulated seconds; the 5 s deadline cancels it mid-stream.
    with pytest.raises(PredictionCanceledError):
        await twin.stream(client, LLAMA3, input={"prompt": "Hi"}, cancel_after=5)


@pytest.mark.parametrize(
    ("reason", "status", "error"),
    [("canceled", "canceled", PredictionCanceledError), ("error", "failed", ModelError)],
)
async def test_done_reason_is_never_a_normal_end__peer_defect_11(
    api: ScriptedAPI, reason: str, status: str, error: type[Exception]
) -> None:
    async def script(request: web.Request, resp: web.StreamResponse, index: int) -> None:
        await resp.write(sse("output", "a", "1:0") + sse("done", dumps({"reason": reason}), "1:1"))

    api.prediction = api.make_prediction()
    api.final = api.make_prediction(status=status)
    api.stream_script = script
    async with api.client() as client:
        with pytest.raises(error):
            await collect(client.stream(REF, input={}))


async def test_events_without_id_are_kept__peer_defect_8(api: ScriptedAPI) -> None:
    async def script(request: web.Request, resp: web.StreamResponse, index: int) -> None:
        await resp.write(b": hi\n\n" + sse("output", "a") + sse("output", "b", "1:1"))
        await resp.write(sse("output", "c") + sse("done", "{}"))

    api.prediction = api.make_prediction()
    api.stream_script = script
    async with api.client() as client:
        events = await collect(client.stream(REF, input={}))
    assert [(e.data, e.id) for e in events] == [("a", ""), ("b", "1:1"), ("c", "1:1")]


async def test_unknown_events_are_skipped__peer_defect_9(api: ScriptedAPI) -> None:
    async def script(request: web.Request, resp: web.StreamResponse, index: int) -> None:
        await resp.write(sse("ping", "{}", "1:0") + sse(None, "untyped", "1:1"))
        await resp.write(sse("output", "a\nb", "1:2") + sse("metrics", "{}", "1:3"))
        await resp.write(sse("done", "{}", "1:4"))

    api.prediction = api.make_prediction()
    api.stream_script = script
    async with api.client() as client:
        events = await collect(client.stream(REF, input={}))
    assert [(e.event, e.data) for e in events] == [("output", "a\nb")]


async def test_data_lines_of_many_megabytes__peer_defect_13(api: ScriptedAPI) -> None:
    big = "x" * (8 * 1024 * 1024)

    async def script(request: web.Request, resp: web.StreamResponse, index: int) -> None:
        body = sse("output", big, "1:0")
        for start in range(0, len(body), 65536):  # as a socket delivers it
            await resp.write(body[start : start + 65536])
        await resp.write(sse("done", "{}", "1:1"))

    api.prediction = api.make_prediction()
    api.stream_script = script
    async with api.client() as client:
        events = await collect(client.stream(REF, input={}))
    assert len(events) == 1 and events[0].data == big


@pytest.mark.replicate_emulator(token="r8_the_right_one")
async def test_stream_uses_the_client_it_is_called_on__peer_defect_14(
    twin: Twin, replicate_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_from_the_environment")
    monkeypatch.setenv("REPLICATE_BASE_URL", "http://127.0.0.1:9/v1")
    async with replicate_emulator.client() as client:
        events = await twin.stream(client, LLAMA3, input={"prompt": "Hi"})
    assert text(events)
    assert any(r.origin == "stream" and r.status == 200 for r in replicate_emulator.requests)


async def test_stream_host_gets_the_token_only_when_the_api_named_it(
    api: ScriptedAPI,
) -> None:
    async def script(request: web.Request, resp: web.StreamResponse, index: int) -> None:
        await resp.write(sse("output", "hi", "1:0") + sse("done", "{}", "1:1"))

    async with ScriptedAPI() as stream_host:
        stream_host.stream_script = script
        url = f"{stream_host.origin}/stream"
        # Named by the API in urls.stream: the token goes there.
        api.prediction = api.make_prediction(urls={"stream": url})
        async with api.client() as client:
            events = await collect(client.stream(REF))
            assert [str(e) for e in events] == ["hi"]
        assert "Authorization" in stream_host.seen[-1][2]
        # The same host in a prediction the API never sent: no token.
        async with api.client() as client:
            forged = Prediction.from_dict(api.make_prediction(urls={"stream": url}), client=client)
            assert [str(e) for e in await collect(forged.async_stream())] == ["hi"]
        assert "Authorization" not in stream_host.seen[-1][2]


async def test_leaving_the_loop_closes_the_connection_and_cancels(
    twin: Twin, api: ScriptedAPI
) -> None:
    async def script(request: web.Request, resp: web.StreamResponse, index: int) -> None:
        for i in range(3000):  # bounded: 30 s at most
            await resp.write(sse("output", f"t{i}", f"1:{i}"))
            await asyncio.sleep(0.01)

    api.prediction = api.make_prediction()
    api.stream_script = script
    async with api.client() as client:
        first = await twin.first_then_break(
            lambda: (client.stream if twin.mode == "async" else client.stream_sync)(REF, input={})
        )
        assert str(first) == "t0"
        await asyncio.wait_for(api.stream_closed.wait(), 5)
        await wait_until(lambda: any(p.endswith("/cancel") for _, p, _ in api.seen))


@pytest.mark.replicate_emulator(token_delay=5.0)
async def test_leaving_the_loop_early_cancels_the_prediction(
    twin: Twin, client: Client, replicate_emulator: Emulator
) -> None:
    first = await twin.first_then_break(
        lambda: (client.stream if twin.mode == "async" else client.stream_sync)(
            LLAMA3, input={"prompt": "Hi"}
        )
    )
    assert first.event == "logs"
    (job,) = replicate_emulator.predictions.values()
    await wait_until(lambda: job.status == "canceled")


@pytest.mark.replicate_emulator(token_delay=5.0)
async def test_giving_up_mid_create_still_cancels_the_prediction(
    client: Client, replicate_emulator: Emulator
) -> None:
    held = replicate_emulator.faults.add("POST /models/*", latency=0.5, times=1)
    task = asyncio.create_task(collect(client.stream(LLAMA3, input={"prompt": "Hi"})))
    await wait_until(lambda: held.hits == 1)  # the create is held on the server
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_until(lambda: bool(replicate_emulator.predictions))
    (job,) = replicate_emulator.predictions.values()
    await wait_until(lambda: job.status == "canceled")

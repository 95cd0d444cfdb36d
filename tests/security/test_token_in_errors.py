"""Nothing reachable from an error holds the API token: not its cause or context chain, its
args, its attributes, its pickle, its formatted traceback (locals included) nor the DEBUG log,
for every kind of failure: a malformed answer, a reset connection, a timeout, 4xx and 5xx,
stream errors and download errors.

The search walks the object graph from the raised exception (``gc.get_referents``, ``vars``,
tracebacks and the locals of library frames), bounded, stopping only at the objects that hold
the token by design (the client, its transport and session, the event loop) and at code,
modules and classes (whose globals reach everything, the test's own constant included)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import pickle
import traceback
import types
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from support import FakeTime, serve

import replicate_async
from replicate_async import Client, FileOutput
from replicate_async._core.config import Secret
from replicate_async._core.http_types import Request
from replicate_async._io.transport import Transport

TOKEN = "r8_graph" + "W4" * 16
LIMIT = 200_000  # objects visited at most per error
STOP = (
    Client,
    Transport,
    Secret,
    aiohttp.ClientSession,
    aiohttp.BaseConnector,
    asyncio.AbstractEventLoop,
    # A running task is the caller's own work (Python 3.12's asyncio.Timeout, kept by a
    # deadline's traceback, names it): it holds whatever the caller holds, its client included.
    asyncio.Task,
    types.ModuleType,
    type,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.CodeType,
    logging.Logger,
)
LIBRARIES = (
    os.path.dirname(replicate_async.__file__),
    os.path.dirname(aiohttp.__file__),
    os.path.dirname(asyncio.__file__),
    os.path.dirname(contextlib.__file__),
)


def token_paths(root: BaseException) -> list[str]:
    """Where the token is reachable from ``root`` (empty: nowhere)."""
    found: list[str] = []
    seen: set[int] = set()
    queue: list[tuple[Any, str]] = [(root, type(root).__name__)]
    while queue and len(seen) < LIMIT:
        obj, path = queue.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, str):
            if TOKEN in obj:
                found.append(path)
            continue
        if isinstance(obj, (bytes, bytearray, memoryview)):
            if TOKEN.encode() in bytes(obj):
                found.append(path)
            continue
        if isinstance(obj, STOP):
            continue
        children: list[tuple[Any, str]] = []
        if isinstance(obj, types.FrameType):
            if obj.f_code.co_filename.startswith(LIBRARIES):
                children = [(v, f"{path}.{k}") for k, v in obj.f_locals.items()]
        elif isinstance(obj, types.TracebackType):
            children = [(obj.tb_frame, f"{path}<{obj.tb_frame.f_code.co_name}>")]
            children.append((obj.tb_next, path + ".tb_next"))
        else:
            if isinstance(obj, BaseException):
                children += [
                    (obj.__cause__, path + ".__cause__"),
                    (obj.__context__, path + ".__context__"),
                    (obj.__traceback__, path + ".__traceback__"),
                    (obj.args, path + ".args"),
                ]
            with contextlib.suppress(TypeError):
                children += [(v, f"{path}.{k}") for k, v in vars(obj).items()]
            children += [(r, f"{path}/{type(r).__name__}") for r in gc.get_referents(obj)]
        queue.extend(c for c in children if c[0] is not None)
    assert len(seen) < LIMIT, "the walk did not finish: raise LIMIT"
    return found


def assert_token_free(error: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    assert token_paths(error) == []
    formatted = "".join(traceback.format_exception(error))
    assert TOKEN not in formatted
    with_locals = traceback.TracebackException.from_exception(error, capture_locals=True)
    assert TOKEN not in "".join(with_locals.format())
    assert TOKEN not in repr(error) + str(error)
    with contextlib.suppress(Exception):  # an error that cannot be pickled leaks nothing
        assert TOKEN.encode() not in pickle.dumps(error)
    assert TOKEN not in caplog.text


async def failure(action: Callable[[], Awaitable[Any]]) -> BaseException:
    try:
        await asyncio.wait_for(action(), 20)
    except Exception as exc:  # any error is the subject
        return exc
    raise AssertionError("expected a failure")


@contextlib.asynccontextmanager
async def raw_server(
    answer: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[str]:
    """A TCP server on loopback whose connections get ``answer``; yields its origin."""
    writers: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        with contextlib.suppress(Exception):
            await reader.readuntil(b"\r\n\r\n")
            await answer(reader, writer)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


async def malformed(_r: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n{}")
    await writer.drain()


async def garbage(_r: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"\x00\x01 not http at all\r\n\r\n")
    await writer.drain()


async def reset(_r: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.transport.abort()


async def silent(reader: asyncio.StreamReader, _w: asyncio.StreamWriter) -> None:
    await reader.read()  # until the client gives up


@pytest.fixture(autouse=True)
def debug_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(malformed, id="malformed-content-length"),
        pytest.param(garbage, id="not-http"),
        pytest.param(reset, id="connection-reset"),
    ],
)
async def test_broken_answers(answer: Any, caplog: pytest.LogCaptureFixture) -> None:
    async with raw_server(answer) as origin:
        async with Client(TOKEN, base_url=f"{origin}/v1", retry=0) as client:
            error = await failure(client.account.async_get)
    assert isinstance(error, replicate_async.TransportError)
    assert error.__cause__ is not None
    assert_token_free(error, caplog)


async def test_timeout(caplog: pytest.LogCaptureFixture) -> None:
    async with raw_server(silent) as origin:
        async with Client(TOKEN, base_url=f"{origin}/v1", retry=0, timeout=0.2) as client:
            error = await failure(client.account.async_get)
    assert isinstance(error, replicate_async.APITimeoutError)
    assert_token_free(error, caplog)


@pytest.mark.parametrize("status", [401, 404, 422, 429, 500, 503])
async def test_error_statuses(status: int, caplog: pytest.LogCaptureFixture) -> None:
    app = web.Application()

    async def answer(_r: web.Request) -> web.Response:
        return web.json_response({"detail": "no"}, status=status)

    app.router.add_route("*", "/{tail:.*}", answer)
    async with serve(app) as origin:
        async with Client(TOKEN, base_url=f"{origin}/v1", retry=0) as client:
            error = await failure(lambda: client.predictions.async_get("p1"))
    assert isinstance(error, replicate_async.ReplicateError) and error.status == status
    assert_token_free(error, caplog)


async def test_an_answer_that_is_not_json(caplog: pytest.LogCaptureFixture) -> None:
    app = web.Application()

    async def answer(_r: web.Request) -> web.Response:
        return web.Response(text='{"id": "p1", "status": "succ')

    app.router.add_route("*", "/{tail:.*}", answer)
    async with serve(app) as origin:
        async with Client(TOKEN, base_url=f"{origin}/v1", retry=0) as client:
            error = await failure(lambda: client.predictions.async_get("p1"))
    assert isinstance(error, replicate_async.InvalidResponseError)
    assert_token_free(error, caplog)


def stream_app(mode: str) -> web.Application:
    """An API whose prediction names a stream on the same origin, which then fails."""
    app = web.Application()

    async def prediction(request: web.Request) -> web.Response:
        origin = f"{request.scheme}://{request.host}"
        return web.json_response(
            {
                "id": "p1",
                "status": "processing",
                "urls": {"get": f"{origin}/v1/predictions/p1", "stream": f"{origin}/s/p1"},
            }
        )

    async def stream(request: web.Request) -> web.StreamResponse:
        if mode == "500":
            return web.json_response({"detail": "stream broke"}, status=500)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b": hi\n\nevent: output\ndata: a\n\n")
        if mode == "cut":
            assert request.transport is not None
            request.transport.abort()
        else:
            await response.write(b'event: error\ndata: {"detail": "model broke"}\n\n')
            await response.write(b"event: done\ndata: {}\n\n")
        return response

    app.router.add_get("/v1/predictions/p1", prediction)
    app.router.add_get("/s/p1", stream)
    return app


@pytest.mark.parametrize("mode", ["500", "cut", "inside"])
async def test_stream_errors(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    async with serve(stream_app(mode)) as origin:
        async with Client(TOKEN, base_url=f"{origin}/v1", retry=0) as client:
            prediction = await client.predictions.async_get("p1")
            assert prediction.urls is not None and prediction.urls.stream

            async def read_stream() -> None:
                assert prediction.urls is not None and prediction.urls.stream
                async with client._transport.stream(prediction.urls.stream) as body:
                    async for _chunk in body.chunks():
                        if mode == "inside":  # an error of the consumer, raised mid-stream
                            raise LookupError("consumer failed")

            error = await failure(read_stream)
    assert_token_free(error, caplog)


async def test_a_failed_stream_through_the_public_api(caplog: pytest.LogCaptureFixture) -> None:
    async with serve(stream_app("inside")) as origin:
        async with Client(TOKEN, base_url=f"{origin}/v1", retry=0) as client:
            prediction = await client.predictions.async_get("p1")

            async def consume() -> None:
                async for _ in prediction.async_stream():
                    pass

            error = await failure(consume)
    assert isinstance(error, replicate_async.ModelError)
    assert_token_free(error, caplog)


@pytest.mark.parametrize("answer", [reset, garbage, None])
async def test_download_errors(answer: Any, caplog: pytest.LogCaptureFixture) -> None:
    async with contextlib.AsyncExitStack() as stack:
        if answer is None:
            app = web.Application()

            async def missing(_r: web.Request) -> web.Response:
                return web.Response(status=404)

            app.router.add_get("/{tail:.*}", missing)
            origin = await stack.enter_async_context(serve(app))
        else:
            origin = await stack.enter_async_context(raw_server(answer))
        # The API is the same origin, so the token would be allowed there: downloads must
        # still never carry it, nor keep it anywhere.
        # The default retries (the failures are retried), with their backoff in no real time.
        client = await stack.enter_async_context(
            Client(TOKEN, base_url=f"{origin}/v1", sleep=FakeTime().sleep)
        )
        output = FileOutput(f"{origin}/v1/files/out.png", client)
        error = await failure(output.async_read)
        request = Request("GET", "/files/f1/download")
        api_error = await failure(lambda: client._transport.request(request))
    for each in (error, api_error):
        assert_token_free(each, caplog)


@pytest.mark.replicate_emulator(token=TOKEN)
async def test_a_run_timeout_while_a_request_is_in_flight(
    replicate_emulator: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # The deadline cancels a poll that the server holds: the cancellation passes through
    # aiohttp's frames, which hold the request being sent.
    replicate_emulator.faults.add(route="predictions.get", latency=10)
    async with replicate_emulator.client() as client:
        sdxl = "stability-ai/sdxl:7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"
        error = await failure(lambda: client.run(sdxl, {"prompt": "x"}, wait=False, timeout=0.5))
    assert isinstance(error, replicate_async.RunTimeoutError)
    assert_token_free(error, caplog)


@pytest.mark.replicate_emulator(token=TOKEN)
async def test_a_deadline_while_a_stream_is_being_opened(
    replicate_emulator: Any, caplog: pytest.LogCaptureFixture
) -> None:
    replicate_emulator.faults.add(route="stream", latency=10)  # the stream's answer is held

    async def consume(client: Client) -> None:
        async for _ in client.stream("meta/meta-llama-3-8b-instruct", {"prompt": "x"}):
            pass

    async def stream_with_deadline(client: Client) -> None:
        await asyncio.wait_for(consume(client), 0.5)  # a deadline, as asyncio.timeout sets

    async with replicate_emulator.client() as client:
        error = await failure(lambda: stream_with_deadline(client))
    assert isinstance(error, asyncio.TimeoutError)  # the built-in TimeoutError from 3.11 on
    assert_token_free(error, caplog)

"""The API token goes to a stream host only when the transport itself read that host in
``urls.stream`` of an answer from the API origin, and the host has a stream origin's shape.
A prediction from a webhook body, a pickle or a dict of your own never extends that trust:
its stream is opened without the token."""

from __future__ import annotations

import asyncio
import contextlib
import json
import pickle
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from support import serve
from yarl import URL

from replicate_async import Client, Prediction
from replicate_async._core.http_types import Request
from replicate_async._io.transport import stream_host_allowed
from replicate_async.emulator import Emulator
from replicate_async.webhooks import WebhookReceiver, sign

TOKEN = "r8_trust" + "K3" * 16
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
LLAMA = "meta/meta-llama-3-8b-instruct"
DONE = b"event: done\ndata: {}\n\n"


class Collector:
    """A foreign host: records the Authorization header of every request, answers ``done``."""

    def __init__(self) -> None:
        self.seen: list[str | None] = []
        self.json: Any = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(request.headers.get("Authorization"))
        if self.json is not None:
            return web.json_response(self.json)
        return web.Response(body=DONE, content_type="text/event-stream")


@contextlib.asynccontextmanager
async def collector() -> AsyncIterator[tuple[Collector, str]]:
    host = Collector()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", host.handle)
    async with serve(app) as origin:
        yield host, origin


def body_naming(stream_url: str, status: str = "processing") -> dict[str, Any]:
    return {
        "id": "webhookpred",
        "model": LLAMA,
        "version": "hidden",
        "status": status,
        "input": {"prompt": "hi"},
        "output": None,
        "urls": {
            "get": "https://api.replicate.com/v1/predictions/webhookpred",
            "stream": stream_url,
        },
    }


async def drain(prediction: Prediction) -> None:
    """Open the prediction's stream; what happens after the request is not the point."""

    async def consume() -> None:
        async for _ in prediction.async_stream():
            pass

    with contextlib.suppress(Exception):
        await asyncio.wait_for(consume(), 10)


@pytest.mark.replicate_emulator(token=TOKEN)
async def test_a_stream_url_named_only_in_a_webhook_body_gets_no_token(
    replicate_emulator: Emulator,
) -> None:
    async with collector() as (evil, origin), replicate_emulator.client() as client:
        # Same loopback host as the emulator: the shape alone would allow it.
        stream_url = f"{origin}/v1/streams/webhookpred"
        received: list[Prediction] = []

        async def handler(prediction: Prediction) -> None:
            received.append(prediction)

        receiver = WebhookReceiver(client, handler)  # bound: the predictions use this client
        payload = json.dumps(body_naming(stream_url)).encode()
        headers = sign(payload, replicate_emulator.webhook_secret)
        async with serve(receiver.app()) as base, aiohttp.ClientSession() as session:
            async with session.post(f"{base}/hook", data=payload, headers=headers) as resp:
                assert resp.status == 200
            await receiver.join()
        [prediction] = received
        await drain(prediction)
        assert not client._transport.may_authorize(URL(stream_url))
    assert evil.seen and evil.seen == [None] * len(evil.seen)


@pytest.mark.replicate_emulator(token=TOKEN)
async def test_predictions_built_outside_the_transport_never_extend_the_trust(
    replicate_emulator: Emulator,
) -> None:
    async with collector() as (evil, origin), replicate_emulator.client() as client:
        stream_url = f"{origin}/v1/streams/mine"
        made = Prediction.from_dict(body_naming(stream_url), client)
        through_client = client._prediction(body_naming(stream_url))
        unpickled = Prediction.from_dict(pickle.loads(pickle.dumps(made)).to_dict(), client)
        for prediction in (made, through_client, unpickled):
            await drain(prediction)
    assert len(evil.seen) >= 3 and set(evil.seen) == {None}


@pytest.mark.replicate_emulator(token=TOKEN)
async def test_the_emulator_stream_named_by_the_api_still_gets_the_token(
    replicate_emulator: Emulator,
) -> None:
    async with replicate_emulator.client() as client:
        events = [e async for e in client.stream(LLAMA, {"prompt": "hello"})]
        assert any(e.event == "output" for e in events)
        assert client._transport.may_authorize(URL(replicate_emulator.stream_url))


async def test_only_answers_of_the_api_origin_are_read_for_stream_urls() -> None:
    async with collector() as (api, api_origin), collector() as (other, other_origin):
        named = f"{other_origin}/v1/streams/x"
        other.json = {"id": "x", "urls": {"stream": named}}
        api.json = {"results": [{"id": "y", "urls": {"stream": f"{api_origin}/s/y"}}]}
        async with Client(TOKEN, base_url=f"{api_origin}/v1", retry=0) as client:
            transport = client._transport
            await transport.request(Request("GET", f"{other_origin}/v1/predictions/x"))
            assert not transport.may_authorize(URL(named))  # another origin's answer
            await transport.request(Request("GET", "/predictions"))
            assert transport.may_authorize(URL(f"{api_origin}/s/y"))  # a page of the API's


async def test_an_api_answer_naming_a_foreign_shaped_host_is_not_trusted() -> None:
    async with collector() as (api, api_origin):
        foreign = "http://127.0.0.2:9/v1/streams/z"  # another host than the API's
        api.json = {"id": "z", "urls": {"stream": foreign}}
        async with Client(TOKEN, base_url=f"{api_origin}/v1", retry=0) as client:
            await client._transport.request(Request("GET", "/predictions/z"))
            assert not client._transport.may_authorize(URL(foreign))


SHAPES = [
    ("https://api.replicate.com/v1", "https://stream.replicate.com/v1/files/abc", True),
    ("https://api.replicate.com/v1", "https://stream-b.replicate.com/v1/x", True),
    ("https://api.replicate.com/v1", "https://xyz.replicate.delivery/s/1", True),
    ("https://api.replicate.com/v1", "https://replicate.com.evil.example/s", False),
    ("https://api.replicate.com/v1", "https://evilreplicate.com/s", False),
    ("https://api.replicate.com/v1", "http://stream.replicate.com/v1/x", False),  # downgrade
    ("https://api.replicate.com/v1", "https://user:pw@stream.replicate.com/x", False),
    ("https://api.replicate.com/v1", "ftp://stream.replicate.com/x", False),
    ("https://api.replicate.com/v1", "https://attacker.example/x", False),
    ("https://api.example.com/v1", "https://xyz.replicate.delivery/s/1", False),
    ("https://api.example.com/v1", "https://stream.example.com/s", True),
    ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8001/v1/streams/p", True),
    ("http://127.0.0.1:8000/v1", "http://127.0.0.2:8001/v1/streams/p", False),
    ("http://127.0.0.1:8000/v1", "http://localhost:8001/v1/streams/p", False),
    ("http://localhost:8000/v1", "http://localhost:8001/v1/streams/p", True),
]


@pytest.mark.parametrize(("api", "stream", "allowed"), SHAPES)
def test_stream_host_shapes(api: str, stream: str, allowed: bool) -> None:
    assert stream_host_allowed(URL(api), URL(stream)) is allowed

"""Helpers for the run/stream tests (imported by name; tests/run has no package)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import support
from aiohttp import web
from support import CALL_TIMEOUT, catch_all, start_site

from replicate_async import Client, Prediction, StreamEvent

__all__ = [
    "CALL_TIMEOUT",
    "GEMMA",
    "HELLO",
    "LLAMA3",
    "REF",
    "SDXL",
    "VERSION",
    "ScriptedAPI",
    "Twin",
    "collect",
    "sse",
    "wait_until",
]

LLAMA3 = "meta/meta-llama-3-8b-instruct"
GEMMA = "0000000000000000da792c22f812976751919031bd88745e22489603e4f12a7d"
SDXL = "stability-ai/sdxl:7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"
VERSION = "c" * 64
"""The version of the scripted API's model ``acme/llm``."""
REF = f"acme/llm:{VERSION}"
HELLO = "replicate/hello-world:0000000000000000cde1a443fb5c271536f3fbcf69adf80bf7ecb441405a9e44"


class Twin(support.Twin):
    """One test body for the coroutine/async-iterator verbs and their blocking twins.

    Blocking twins run in a worker thread (``asyncio.to_thread``): the emulator serves from the
    test's loop, which a blocking call must not block. Every call is bounded.
    """

    async def run(self, client: Client, *args: Any, **kwargs: Any) -> Any:
        """``await client.run(...)`` or ``client.run_sync(...)``."""
        if self.mode == "async":
            return await asyncio.wait_for(client.run(*args, **kwargs), CALL_TIMEOUT)
        return await asyncio.wait_for(
            asyncio.to_thread(client.run_sync, *args, **kwargs), CALL_TIMEOUT
        )

    async def stream(self, client: Client, *args: Any, **kwargs: Any) -> list[StreamEvent]:
        """Every event of ``client.stream(...)`` / ``client.stream_sync(...)``."""
        if self.mode == "async":

            async def collect() -> list[StreamEvent]:
                return [e async for e in client.stream(*args, **kwargs)]

            return await asyncio.wait_for(collect(), CALL_TIMEOUT)
        return await asyncio.wait_for(
            asyncio.to_thread(lambda: list(client.stream_sync(*args, **kwargs))), CALL_TIMEOUT
        )

    async def prediction_stream(self, prediction: Prediction, **kwargs: Any) -> list[StreamEvent]:
        """Every event of ``prediction.stream()`` / ``prediction.stream_sync()``."""
        if self.mode == "async":

            async def collect() -> list[StreamEvent]:
                return [e async for e in prediction.stream(**kwargs)]

            return await asyncio.wait_for(collect(), CALL_TIMEOUT)
        return await asyncio.wait_for(
            asyncio.to_thread(lambda: list(prediction.stream_sync(**kwargs))), CALL_TIMEOUT
        )

    async def first_then_break(self, events_of: Callable[[], Any]) -> StreamEvent:
        """Take the first event and leave the loop (``break``)."""
        if self.mode == "async":

            async def first() -> StreamEvent:
                async for event in events_of():
                    return event  # type: ignore[no-any-return]
                raise AssertionError("no event")

            return await asyncio.wait_for(first(), CALL_TIMEOUT)

        def first_blocking() -> StreamEvent:
            for event in events_of():
                return event  # type: ignore[no-any-return]
            raise AssertionError("no event")

        return await asyncio.wait_for(asyncio.to_thread(first_blocking), CALL_TIMEOUT)


async def collect(events: Any, into: list[Any] | None = None) -> list[Any]:
    """Every item of an async iterator, bounded by ``CALL_TIMEOUT`` (``into`` keeps them even
    when the iteration raises)."""
    items: list[Any] = [] if into is None else into

    async def run() -> None:
        async for item in events:
            items.append(item)

    await asyncio.wait_for(run(), CALL_TIMEOUT)
    return items


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``predicate`` every 5 ms; fail after ``timeout`` seconds."""
    await support.wait_until(predicate, timeout, interval=0.005)


def sse(event: str | None, data: str, id: str | None = None) -> bytes:
    """One Server-Sent Event, as bytes."""
    lines = [f"event: {event}"] if event else []
    if id is not None:
        lines.append(f"id: {id}")
    lines += [f"data: {line}" for line in data.split("\n")]
    return ("\n".join(lines) + "\n\n").encode()


StreamScript = Callable[[web.Request, web.StreamResponse, int], Awaitable[None]]


class ScriptedAPI:
    """A tiny Replicate for cases the emulator cannot stage: a create that answers
    ``prediction`` (its ``urls`` pointing here), a GET that answers ``final`` (or
    ``prediction``), version/model lookups from ``schemas``, and a stream written by
    ``stream_script(request, response, connection_index)``.

    Records every request (method, path, headers) and, per stream connection, whether the
    server saw the client close it.
    """

    def __init__(self) -> None:
        self.url = ""
        self.origin = ""
        self.prediction: dict[str, Any] = {}
        self.final: dict[str, Any] | None = None
        self.schemas: dict[str, dict[str, Any]] = {}
        self.models: dict[str, dict[str, Any]] = {}
        self.stream_script: StreamScript | None = None
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.stream_closed = asyncio.Event()
        self._streams = 0
        self._runner: web.AppRunner | None = None

    def make_prediction(self, **fields: Any) -> dict[str, Any]:
        base = {
            "id": "p" * 26,
            "model": "acme/llm",
            "version": VERSION,
            "status": "starting",
            "input": {},
            "output": None,
            "logs": "",
            "error": None,
            "urls": {
                "get": f"{self.url}/predictions/{'p' * 26}",
                "cancel": f"{self.url}/predictions/{'p' * 26}/cancel",
                "stream": f"{self.origin}/stream",
            },
        }
        base.update(fields)
        return base

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.method, request.path, dict(request.headers)))
        path = request.path
        if path == "/stream":
            index = self._streams
            self._streams += 1
            resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await resp.prepare(request)
            try:
                if self.stream_script is not None:
                    await self.stream_script(request, resp, index)
            except (ConnectionResetError, ConnectionError):
                self.stream_closed.set()
                return resp
            return resp
        if request.method == "POST" and path.endswith("/cancel"):
            self.final = {**(self.final or self.prediction), "status": "canceled"}
            return web.json_response(self.final)
        if request.method == "POST":
            return web.json_response(self.prediction, status=201)
        if path.startswith("/v1/predictions/"):
            return web.json_response(self.final or self.prediction)
        if "/versions/" in path:
            version = path.rsplit("/", 1)[1]
            if version in self.schemas:
                return web.json_response(self.schemas[version])
            return web.json_response({"detail": "Not found", "status": 404}, status=404)
        if path.startswith("/v1/models/"):
            name = path.removeprefix("/v1/models/")
            if name in self.models:
                return web.json_response(self.models[name])
        return web.json_response({"detail": "Not found", "status": 404}, status=404)

    async def __aenter__(self) -> ScriptedAPI:
        self._runner, self.origin = await start_site(catch_all(self._handle), shutdown_timeout=0.1)
        self.url = f"{self.origin}/v1"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def client(self, **kwargs: Any) -> Client:
        return Client(api_token="r8_scripted", base_url=self.url, **kwargs)


def concatenate_schema() -> dict[str, Any]:
    """A Cog OpenAPI document whose output is a token stream to concatenate."""
    return {
        "components": {
            "schemas": {
                "Output": {
                    "type": "array",
                    "items": {"type": "string"},
                    "x-cog-array-type": "iterator",
                    "x-cog-array-display": "concatenate",
                }
            }
        }
    }


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))

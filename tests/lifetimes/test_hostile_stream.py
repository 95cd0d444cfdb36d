"""A hostile stream server: it resumes after ``Last-Event-ID`` on some reconnections and
replays from the start (or an older point) on others, drops the keep-alive pings from its
replays, and cuts connections at random points (mid-event, or a clean end without ``done``).

Whatever it does, ``stream()`` and the wait for a terminal status must see the model's exact
output, each event once; the ``Last-Event-ID`` sent must never move backwards; and the
reconnection backoff must start over after every connection that brought something new
(every connection here does), so the total sleep stays small. Seeded, bounded, loopback only.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from replicate_async import Client

VERSION = "c" * 64
REF = f"acme/llm:{VERSION}"
PID = "hostile0000000000000000000"
EPOCH = "1733"
CHUNKS = 60
CALL_TIMEOUT = 30.0


def model_events(seed: int) -> list[tuple[str, str]]:
    """The live event sequence: output chunks with pings and logs between them."""
    rng = random.Random(seed)
    events: list[tuple[str, str]] = []
    for n in range(CHUNKS):
        events.append(("output", f"tok{n} "))
        roll = rng.random()
        if roll < 0.3:
            events.append(("ping", "{}"))
        elif roll < 0.4:
            events.append(("logs", f"step {n}"))
    return events


def frame(event: str, data: str, index: int, retry: int | None = None) -> bytes:
    head = f"retry: {retry}\n" if retry is not None else ""
    return f"{head}event: {event}\nid: {EPOCH}:{index}\ndata: {data}\n\n".encode()


class HostileServer:
    """Prediction create/get and its stream, misbehaving as the module docstring says."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.events = model_events(seed)
        self.last_ids: list[str | None] = []
        self.gets = 0
        self.finished = False  # ``done`` was sent: the prediction has ended
        self.origin = ""
        self._runner: web.AppRunner | None = None

    @property
    def output(self) -> list[str]:
        return [data for kind, data in self.events if kind == "output"]

    def prediction(self, status: str) -> dict[str, Any]:
        done = status == "succeeded"
        return {
            "id": PID,
            "model": "acme/llm",
            "version": VERSION,
            "status": status,
            "input": {},
            "output": self.output if done else None,
            "logs": "",
            "error": None,
            "urls": {
                "get": f"{self.origin}/v1/predictions/{PID}",
                "cancel": f"{self.origin}/v1/predictions/{PID}/cancel",
                "stream": f"{self.origin}/stream/{PID}",
            },
        }

    async def create(self, request: web.Request) -> web.Response:
        await request.read()
        return web.json_response(self.prediction("starting"), status=201)

    async def get(self, request: web.Request) -> web.Response:
        self.gets += 1
        return web.json_response(self.prediction("succeeded" if self.finished else "processing"))

    async def stream(self, request: web.Request) -> web.StreamResponse:
        last = request.headers.get("Last-Event-ID")
        self.last_ids.append(last)
        after = int(last.split(":")[1]) + 1 if last else 0
        replay = last is not None and self.rng.random() < 0.5
        begin = self.rng.randint(0, after) if replay else after
        new_quota = self.rng.randint(1, 6)  # new events before the cut
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        retry = 5 if self.rng.random() < 0.2 else None
        sent_new = 0
        for index in range(begin, len(self.events)):
            kind, data = self.events[index]
            if replay and kind == "ping":
                continue  # replays lack the keep-alives the live stream had
            if sent_new >= new_quota:
                return await self.cut(request, response, kind, data, index)
            await response.write(frame(kind, data, index, retry))
            retry = None
            sent_new += index >= after
        self.finished = True
        await response.write(frame("done", "{}", len(self.events)))
        return response

    async def cut(
        self, request: web.Request, response: web.StreamResponse, kind: str, data: str, index: int
    ) -> web.StreamResponse:
        if self.rng.random() < 0.5:
            return response  # a clean end without ``done``
        whole = frame(kind, data, index)
        await response.write(whole[: len(whole) // 2])  # half an event, then the reset
        assert request.transport is not None
        request.transport.abort()
        raise asyncio.CancelledError

    async def __aenter__(self) -> HostileServer:
        app = web.Application()
        app.router.add_post("/v1/predictions", self.create)
        app.router.add_get(f"/v1/predictions/{PID}", self.get)
        app.router.add_get(f"/stream/{PID}", self.stream)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.origin = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    def sent_ids_never_move_back(self) -> bool:
        sent = [int(i.split(":")[1]) for i in self.last_ids if i is not None]
        return sent == sorted(sent)


class Sleeps:
    """The client's injected sleep: records every delay, sleeps none of it."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
async def sleeps() -> AsyncIterator[Sleeps]:
    yield Sleeps()


def client_for(server: HostileServer, sleeps: Sleeps) -> Client:
    return Client(api_token="r8_hostile", base_url=f"{server.origin}/v1", sleep=sleeps, retry=0)


def check_backoff(server: HostileServer, sleeps: Sleeps) -> None:
    # Every connection brought something new: every delay is the first of a fresh backoff
    # (or the server's ``retry:``), never a grown one.
    assert len(sleeps.delays) == len(server.last_ids) - 1
    assert max(sleeps.delays, default=0.0) <= 0.05
    assert sum(sleeps.delays) <= 0.05 * len(sleeps.delays) + 1e-9


@pytest.mark.parametrize("seed", range(12))
async def test_stream_output_is_exact_under_a_hostile_server(seed: int, sleeps: Sleeps) -> None:
    async with HostileServer(seed) as server, client_for(server, sleeps) as client:

        async def collect() -> list[Any]:
            return [e async for e in client.stream(REF, input={}, use_file_output=False)]

        events = await asyncio.wait_for(collect(), CALL_TIMEOUT)
    outputs = [e.data for e in events if e.event == "output"]
    assert outputs == server.output  # nothing lost, nothing repeated, in order
    logs = [e.data for e in events if e.event == "logs"]
    assert logs == [data for kind, data in server.events if kind == "logs"]
    ids = [e.id for e in events]
    assert len(ids) == len(set(ids))
    assert server.gets == 0  # the stream itself finished the job
    assert len(server.last_ids) > 3  # the server did cut it, more than once
    assert server.sent_ids_never_move_back()
    check_backoff(server, sleeps)


@pytest.mark.parametrize("seed", range(6))
async def test_waiting_for_the_end_reconnects_the_same_way(seed: int, sleeps: Sleeps) -> None:
    # ``run()`` follows a prediction to its end through the same reconnecting reader.
    async with HostileServer(seed) as server, client_for(server, sleeps) as client:
        output = await asyncio.wait_for(
            client.run(REF, input={}, wait=False, use_file_output=False), CALL_TIMEOUT
        )
    assert output == server.output
    assert server.gets == 1  # one fetch of the final state, after ``done``: no polling
    assert server.sent_ids_never_move_back()
    check_backoff(server, sleeps)


class HostileServerNoIds(HostileServer):
    """Sends events without ids, from the start on every connection (its replays without the
    pings), and ends each connection without ``done``; the prediction has ended."""

    async def stream(self, request: web.Request) -> web.StreamResponse:
        self.finished = True
        replay = bool(self.last_ids)
        self.last_ids.append(request.headers.get("Last-Event-ID"))
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for kind, data in self.events[:12]:
            if not (replay and kind == "ping"):
                await response.write(f"event: {kind}\ndata: {data}\n\n".encode())
        return response


async def test_stream_without_ids_is_finished_from_the_prediction(sleeps: Sleeps) -> None:
    # Events without ids cannot be matched after a reconnection (counting them is thrown off
    # by a replay that lacks the pings): the rest of the output comes from the finished
    # prediction, never a repeat of what was yielded, and nothing is lost.
    async with HostileServerNoIds(0) as server, client_for(server, sleeps) as client:
        assert any(kind == "ping" for kind, _ in server.events[:12])

        async def collect() -> list[Any]:
            return [e async for e in client.stream(REF, input={}, use_file_output=False)]

        events = await asyncio.wait_for(collect(), CALL_TIMEOUT)
    outputs = "".join(e.data for e in events if e.event == "output")
    assert outputs == "".join(server.output)
    assert len(server.last_ids) == 1  # no reconnection: a replay could not be matched
    assert server.gets >= 1

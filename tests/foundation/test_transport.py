"""The transport against a scripted loopback server: retries, timeouts, redaction, sessions."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from typing import Any

import pytest
from aiohttp import web

import replicate_async as ra
from replicate_async import Client, RetryPolicy

TOKEN = "r8_secret_token_value"
PRED = {"id": "p1", "status": "starting", "urls": {"get": "g", "cancel": "c"}}


class FakeSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def make(server: Any, **kw: Any) -> tuple[Client, FakeSleep]:
    """A client whose sleeps are recorded; the rate limiter is off so only the transport's
    retry decisions sleep (the limiter has tests of its own)."""
    sleep = FakeSleep()
    client = Client(TOKEN, base_url=server.url, sleep=sleep, **kw)
    client.rate_limiter = None
    return client, sleep


async def test_get_retries_503_then_succeeds(scripted: Any) -> None:
    scripted.add(503, {"detail": "busy"})
    scripted.add(502, {"detail": "gateway"})
    scripted.add(200, {"type": "user", "username": "me"})
    client, sleep = make(scripted)
    async with client:
        account = await client.account.async_get()
    assert account.username == "me" and len(sleep.delays) == 2


async def test_create_is_retried_on_429_with_retry_after__peer_defect_18(scripted: Any) -> None:
    scripted.add(429, {"detail": "throttled"}, headers={"Retry-After": "3"})
    scripted.add(201, PRED)
    client, sleep = make(scripted)
    async with client:
        p = await client.predictions.async_create("o/n", {"prompt": "x"})
    assert p.id == "p1" and sleep.delays == [3.0]


async def test_retry_after_http_date_and_cap__peer_defect_19(scripted: Any) -> None:
    future = email.utils.formatdate(time.time() + 1000, usegmt=True)
    scripted.add(429, {"detail": "t"}, headers={"Retry-After": future})
    scripted.add(200, {"username": "me"})
    client, sleep = make(scripted, retry=RetryPolicy(retry_after_max=30))
    async with client:
        await client.account.async_get()
    assert sleep.delays == [30]


async def test_create_is_not_retried_on_5xx(scripted: Any) -> None:
    scripted.add(500, {"detail": "oops"})
    client, sleep = make(scripted)
    async with client:
        with pytest.raises(ra.ServerError):
            await client.predictions.async_create("o/n", {"prompt": "x"})
    assert sleep.delays == [] and len(scripted.requests) == 1


async def test_retries_give_up_and_backoff_grows__peer_defect_20(scripted: Any) -> None:
    for _ in range(5):
        scripted.add(503, {"detail": "busy"})
    policy = RetryPolicy(max_retries=4, backoff_base=1.0, backoff_max=100)
    client, sleep = make(scripted, retry=policy)
    async with client:
        with pytest.raises(ra.ServerError) as info:
            await client.account.async_get()
    assert info.value.status == 503 and len(sleep.delays) == 4
    assert all(d <= 2**i for i, d in enumerate(sleep.delays))


async def test_connection_refused_is_retried_then_wrapped(unused_tcp_port: int) -> None:
    sleep = FakeSleep()
    async with Client(
        TOKEN, base_url=f"http://127.0.0.1:{unused_tcp_port}/v1", sleep=sleep, retry=2
    ) as client:
        with pytest.raises(ra.APIConnectionError) as info:
            await client.predictions.async_create("o/n", {"prompt": "x"})
    assert len(sleep.delays) == 2  # never sent, so even a create may retry
    assert info.value.__cause__ is not None and "could not connect" in str(info.value)
    assert TOKEN not in str(info.value)


async def test_read_timeout_is_typed(scripted: Any) -> None:
    async def slow(_r: web.Request) -> web.Response:
        # Same loop as the client: its 0.2 s timer always fires before this one.
        await asyncio.sleep(0.4)
        return web.json_response({})

    scripted.add_handler(slow)
    async with Client(TOKEN, base_url=scripted.url, timeout=0.2, retry=0) as client:
        with pytest.raises(ra.APITimeoutError) as info:
            await client.account.async_get()
    assert isinstance(info.value, TimeoutError) and info.value.__cause__ is not None


async def test_wait_gets_read_timeout_above_n__peer_defect_17(scripted: Any) -> None:
    async def held(_r: web.Request) -> web.Response:
        await asyncio.sleep(0.5)
        return web.json_response({**PRED, "status": "succeeded"}, status=201)

    scripted.add_handler(held)
    # A 0.1 s JSON timeout would cut it; sync mode reads for wait + margin instead.
    async with Client(TOKEN, base_url=scripted.url, timeout=0.1) as client:
        p = await client.predictions.async_create("o/n", {"prompt": "x"}, wait=1)
    assert p.status == "succeeded"
    assert scripted.requests[0]["headers"]["Prefer"] == "wait=1"


async def test_token_redacted_everywhere(scripted: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    scripted.add(503, {"detail": "busy"})
    scripted.add(401, {"title": "Unauthenticated", "detail": "bad token", "status": 401})
    client, _ = make(scripted)
    async with client:
        with pytest.raises(ra.AuthenticationError) as info:
            await client.account.async_get()
    assert scripted.requests[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"
    for text in (
        str(info.value),
        repr(info.value),
        repr(client),
        caplog.text,
        repr(info.value.__dict__),
    ):
        assert TOKEN not in text
    assert "retrying GET" in caplog.text


async def test_no_redirects_on_api_calls(scripted: Any) -> None:
    scripted.add(302, {}, headers={"Location": "https://evil.example/steal"})
    client, _ = make(scripted)
    async with client:
        with pytest.raises(ra.InvalidResponseError):
            await client.predictions.async_get("p1")
    assert len(scripted.requests) == 1


async def test_malformed_json_is_typed(scripted: Any) -> None:
    scripted.add(200, text="{not json")
    client, _ = make(scripted)
    async with client:
        with pytest.raises(ra.InvalidResponseError):
            await client.account.async_get()


async def test_token_not_sent_to_other_hosts(scripted: Any) -> None:
    other = type(scripted)()
    await other.start()
    try:
        other.add(200, {"results": [], "next": None})
        scripted.add(200, {"results": [PRED], "next": other.url + "/predictions?cursor=x"})
        client, _ = make(scripted)
        async with client:
            page = await client.predictions.async_list()
            items = [p async for p in page]
        assert len(items) == 1
        assert "Authorization" not in other.requests[0]["headers"]
    finally:
        await other.stop()


def test_client_survives_two_asyncio_runs__peer_defect_15(threaded_scripted: Any) -> None:
    threaded_scripted.add(200, {"username": "a"})
    threaded_scripted.add(200, {"username": "b"})
    client = Client(TOKEN, base_url=threaded_scripted.url)

    async def call() -> str | None:
        return (await client.account.async_get()).username

    assert asyncio.run(call()) == "a"
    assert asyncio.run(call()) == "b"  # a new loop gets a new session
    client.close()
    client.close()  # idempotent


def test_blocking_and_context_manager(threaded_scripted: Any) -> None:
    threaded_scripted.add(200, {"username": "a"})
    with Client(TOKEN, base_url=threaded_scripted.url) as client:
        assert client.account.get().username == "a"


async def test_closed_client_refuses(scripted: Any) -> None:
    client, _ = make(scripted)
    await client.aclose()
    await client.aclose()
    with pytest.raises(ra.ConfigurationError):
        await client.account.async_get()

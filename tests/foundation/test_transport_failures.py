"""Failures a real server cannot easily stage, scripted with aioresponses: a connection that
drops after the request went out, a body cut short, a connection never made.

Rule 6: idempotent calls retry all of these; a create retries only when the request was
never sent (a dropped connection may already have created a prediction and a bill).
"""

from __future__ import annotations

import aiohttp
import pytest
from aioresponses_compat import mocked_http

import replicate_async as ra
from replicate_async import Client

BASE = "http://api.test/v1"
PRED = {"id": "p1", "status": "starting", "urls": {"get": "g", "cancel": "c"}}


class FakeSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def make() -> tuple[Client, FakeSleep]:
    sleep = FakeSleep()
    client = Client("r8_mocked", base_url=BASE, sleep=sleep)
    client.rate_limiter = None
    return client, sleep


@pytest.mark.parametrize(
    "failure",
    [aiohttp.ServerDisconnectedError(), aiohttp.ClientPayloadError("cut short")],
    ids=["disconnected", "payload"],
)
async def test_get_is_retried_after_a_dropped_connection(failure: Exception) -> None:
    client, sleep = make()
    with mocked_http() as mock:
        mock.get(f"{BASE}/account", exception=failure)
        mock.get(f"{BASE}/account", payload={"username": "me"})
        async with client:
            assert (await client.account.async_get()).username == "me"
    assert len(sleep.delays) == 1


async def test_create_is_not_retried_after_the_request_went_out__peer_defect_18() -> None:
    client, sleep = make()
    with mocked_http() as mock:
        mock.post(f"{BASE}/predictions", exception=aiohttp.ServerDisconnectedError())
        mock.post(f"{BASE}/predictions", payload=PRED, status=201)
        async with client:
            with pytest.raises(ra.APIConnectionError) as info:
                await client.predictions.async_create("o/n:" + "a" * 64, {"x": 1})
        calls = [key for key in mock.requests if key[0] == "POST"]
        assert len(mock.requests[calls[0]]) == 1  # one attempt: a retry could bill twice
    assert sleep.delays == [] and isinstance(info.value.__cause__, aiohttp.ClientError)
    assert "lost the connection" in str(info.value)


async def test_create_is_retried_when_it_was_never_sent__peer_defect_18() -> None:
    client, sleep = make()
    refused = aiohttp.ClientConnectorError(
        aiohttp.client_reqrep.ConnectionKey("api.test", 80, False, True, None, None, None),
        OSError(111, "Connection refused"),
    )
    with mocked_http() as mock:
        mock.post(f"{BASE}/predictions", exception=refused)
        mock.post(f"{BASE}/predictions", payload=PRED, status=201)
        async with client:
            prediction = await client.predictions.async_create("o/n:" + "a" * 64, {"x": 1})
    assert prediction.id == "p1" and len(sleep.delays) == 1

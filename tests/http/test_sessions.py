"""Bring your own aiohttp session or connector: the client uses it and never closes it."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from replicate_async import Client, ConfigurationError
from replicate_async.emulator import Emulator

TOKEN = "r8_session_tests"


async def test_a_session_the_app_brings_stays_open(replicate_emulator: Emulator) -> None:
    async with aiohttp.ClientSession() as session:
        client = Client(api_token=TOKEN, base_url=replicate_emulator.url, session=session)
        output = await client.run("replicate/hello-world", input={"text": "mine"})
        assert output == "hello mine"
        assert not client._transport._sessions  # no session of its own was made
        await client.aclose()
        assert not session.closed
        async with session.get(f"{replicate_emulator.url}/models/replicate/hello-world") as resp:
            assert resp.status in (200, 401)  # still usable by the app


async def test_a_connector_the_app_brings_stays_open(replicate_emulator: Emulator) -> None:
    connector = aiohttp.TCPConnector(limit=3)
    try:
        client = Client(api_token=TOKEN, base_url=replicate_emulator.url, connector=connector)
        await client.models.async_get("replicate/hello-world")
        await client.aclose()
        assert not connector.closed
    finally:
        await connector.close()


async def test_a_session_of_another_loop_is_refused_clearly(
    replicate_emulator: Emulator,
) -> None:
    async with aiohttp.ClientSession() as session:
        client = Client(api_token=TOKEN, base_url=replicate_emulator.url, session=session)
        with pytest.raises(ConfigurationError, match="another event loop"):
            # the blocking twin, from a thread as a script would call it: it runs on the
            # bridge's loop, which does not own this session
            await asyncio.to_thread(client.models.get, "replicate/hello-world")
        await client.aclose()


def test_session_and_connector_are_exclusive() -> None:
    with pytest.raises(ConfigurationError, match="not both"):
        Client(api_token=TOKEN, session=object(), connector=object())  # type: ignore[arg-type]


async def test_a_closed_session_is_refused(replicate_emulator: Emulator) -> None:
    session = aiohttp.ClientSession()
    await session.close()
    client = Client(api_token=TOKEN, base_url=replicate_emulator.url, session=session)
    with pytest.raises(ConfigurationError, match="is closed"):
        await client.models.async_get("replicate/hello-world")

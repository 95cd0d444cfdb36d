"""Helpers shared by the emulator tests (raw HTTP, bounded waits)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiohttp
import support

AUTH = {"Authorization": "Bearer r8_test"}
SDXL = "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"
GEMMA = "0000000000000000da792c22f812976751919031bd88745e22489603e4f12a7d"
HELLO = "0000000000000000cde1a443fb5c271536f3fbcf69adf80bf7ecb441405a9e44"
LLAMA3 = "meta/meta-llama-3-8b-instruct"
TERMINAL = {"succeeded", "failed", "canceled", "aborted"}


async def call(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    expect: int | None = None,
    **kwargs: Any,
) -> tuple[int, Any, Any]:
    """One request -> (status, parsed JSON body or text or None, headers)."""
    async with session.request(method, url, **kwargs) as resp:
        raw = await resp.read()
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
        if expect is not None:
            assert resp.status == expect, (resp.status, body)
        return resp.status, body, resp.headers


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``predicate`` every 10 ms; fail after ``timeout`` seconds."""
    await support.wait_until(predicate, timeout)


async def poll(
    session: aiohttp.ClientSession,
    url: str,
    done: Callable[[dict[str, Any]], bool] | None = None,
    timeout: float = 10.0,
) -> dict[str, Any]:
    """GET ``url`` until ``done(body)`` (default: terminal status)."""
    check = done or (lambda b: b["status"] in TERMINAL)
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        _, body, _ = await call(session, "GET", url, expect=200)
        if check(body):
            return dict(body)
        assert loop.time() < end, f"timed out waiting; last body {body}"
        await asyncio.sleep(0.01)

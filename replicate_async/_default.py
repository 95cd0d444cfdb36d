"""The module-level client: ``await replicate_async.run(...)``, ``replicate_async.run_sync(...)``,
``replicate_async.predictions.create(...)`` … as in the official ``replicate`` package.

The client is made from the environment (token, ``REPLICATE_BASE_URL``) on first use, is shared
by every thread and event loop of the process, and closes its connections by itself: each event
loop's when that loop ends (``asyncio.run``), the blocking calls' at interpreter exit.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

from ._client import AwaitableStream, Client
from .types import Page

__all__ = [
    "async_paginate",
    "async_run",
    "async_search",
    "async_stream",
    "default_client",
    "paginate",
    "run",
    "run_sync",
    "search",
    "search_sync",
    "stream",
    "stream_sync",
    "use",
]

T = TypeVar("T")


_lock = threading.Lock()
_client: Client | None = None


def default_client() -> Client:
    """The module-level client, made from the environment on first use (and again after it
    was closed)."""
    global _client
    client = _client
    if client is None or client._transport.closed:
        with _lock:
            client = _client
            if client is None or client._transport.closed:
                client = _client = Client()
    return client


async def run(ref: Any = None, input: Any = None, **options: Any) -> Any:
    """``await replicate_async.run(...)``: :meth:`Client.run` on the module-level client."""
    return await default_client().run(ref, input, **options)


async_run = run


def run_sync(ref: Any = None, input: Any = None, **options: Any) -> Any:
    """``replicate_async.run_sync(...)``: :meth:`Client.run_sync` on the module-level client."""
    return default_client().run_sync(ref, input, **options)


def stream(ref: Any = None, input: Any = None, **options: Any) -> AsyncIterator[Any]:
    """``async for event in replicate_async.stream(...)`` on the module-level client."""
    return default_client().stream(ref, input, **options)


def async_stream(ref: Any = None, input: Any = None, **options: Any) -> AwaitableStream:
    """The official name: ``async for event in [await] replicate_async.async_stream(...)``."""
    return default_client().async_stream(ref, input, **options)


def stream_sync(ref: Any = None, input: Any = None, **options: Any) -> Iterator[Any]:
    """``for event in replicate_async.stream_sync(...)`` on the module-level client."""
    return default_client().stream_sync(ref, input, **options)


async def search(query: str, *, limit: int | None = None) -> Any:
    """``await replicate_async.search(...)``: :meth:`Client.search` on the module-level client."""
    return await default_client().search(query, limit=limit)


async_search = search


def search_sync(query: str, *, limit: int | None = None) -> Any:
    """:meth:`Client.search_sync` on the module-level client."""
    return default_client().search_sync(query, limit=limit)


def use(ref: Any = None, **options: Any) -> Any:
    """:meth:`Client.use` on the module-level client: a model as a typed, checked function."""
    return default_client().use(ref, **options)


def paginate(list_method: Callable[[], Page[T]]) -> Iterator[Page[T]]:
    """Every page of a list, one at a time (the official ``replicate.paginate``)::

    for page in replicate_async.paginate(client.predictions.list):
        ...
    """
    page: Page[T] | None = list_method()
    seen: set[str] = set()
    while page is not None:
        yield page
        if not page.next or page.next in seen:
            return
        seen.add(page.next)
        page = page.next_page()


async def async_paginate(list_method: Callable[[], Awaitable[Page[T]]]) -> AsyncIterator[Page[T]]:
    """Every page of a list (``async for page in async_paginate(client.models.async_list)``)."""
    page: Page[T] | None = await list_method()
    seen: set[str] = set()
    while page is not None:
        yield page
        if not page.next or page.next in seen:
            return
        seen.add(page.next)
        page = await page.async_next_page()

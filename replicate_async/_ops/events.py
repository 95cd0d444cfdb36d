"""A prediction's event stream across reconnections: every event once, in order, none lost.

The one reconnect implementation, shared by ``stream()`` (``_ops.stream``) and the wait for a
terminal status (``_ops.wait``). ``EventSource.batches()`` yields, per chunk read, the events
not yielded before; it returns when the stream cannot go on (the caller then finishes from
the prediction itself), and the caller stops reading at ``done``.

* **Replays are skipped by event id, not by count.** A reconnection sends ``Last-Event-ID``;
  the server may resume after it, or answer from the start or an older point. Every id
  already yielded is remembered (ids are opaque, ordered by arrival), so a replayed event is
  skipped even when the replay lacks events seen live (a ``ping``) or has new ones. An event
  without an id of its own (the id in force is the previous event's) goes with the event
  before it: yielded after a new event, skipped after a replayed one.
* **The id sent never moves backwards**: it is the id of the newest event yielded, not the
  decoder's last id (which a replay moves back).
* **A replay that cannot be matched** — a reconnection of a stream whose events carry no ids,
  or whose first event carries none — ends the iteration: the prediction finishes the job.
* **Backoff** (through the client's ``sleep``) grows while connections bring nothing new and
  starts over after one that did; ``RECONNECTS`` consecutive connections without progress end
  the iteration. A ``retry:`` field sets the delay the server asks for (capped).
"""

from __future__ import annotations

import logging
import operator
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from .._core.backoff import Backoff
from .._core.errors import ReplicateError, ServerError, TransportError
from .._core.sse import ServerSentEvent, SSEDecoder

__all__ = ["FEED_SIZE", "MAX_RETRY_DELAY", "RECONNECTS", "EventSource", "Opener"]

log = logging.getLogger("replicate_async")

RECONNECTS = 5
"""Consecutive connections that bring nothing new before the prediction finishes the job."""
MAX_RETRY_DELAY = 5.0
"""Cap on the reconnection delay (the server's ``retry:`` included), in seconds."""
FEED_SIZE = 8192
"""Bytes handed to the decoder at a time (see ``_feed``)."""


class Opener(Protocol):
    """What the source needs of the transport: open a stream (``Transport.stream``)."""

    def stream(
        self, url: str, *, headers: dict[str, str] | None = None
    ) -> AbstractAsyncContextManager[Any]: ...


class EventSource:
    """The events of ``url`` across reconnections (see the module docstring)."""

    __slots__ = (
        "_first",
        "_fresh",
        "_opener",
        "_prev",
        "_seen",
        "_sleep",
        "_yielded",
        "event_type",
        "name",
        "resume_id",
        "retry",
        "unmatched",
        "url",
    )

    def __init__(
        self,
        opener: Opener,
        url: str,
        sleep: Callable[[float], Awaitable[None]],
        *,
        name: str = "",
        event_type: type[ServerSentEvent] = ServerSentEvent,
    ) -> None:
        self._opener = opener
        self.url = url
        self._sleep = sleep
        self.name = name
        self.event_type = event_type
        self._seen: set[str] = set()
        self._prev = ""  # the id in force on this connection
        self._fresh = True  # the last event with an id of its own was new
        #: The id of the newest event yielded: sent as ``Last-Event-ID`` (never moves back).
        self.resume_id = ""
        #: The reconnection time the server asked for (ms), or None.
        self.retry: int | None = None
        #: The iteration ended because a replay could not be matched.
        self.unmatched = False
        self._yielded = False  # any event yielded yet
        self._first = True  # reading the first connection

    async def batches(self) -> AsyncGenerator[list[ServerSentEvent], None]:
        """Per chunk, the events not yielded before (an empty chunk yields nothing)."""
        backoff = _backoff()
        idle = 0
        first = True
        while True:
            if not first and not self.resume_id and self._yielded:
                self.unmatched = True  # no ids: a replay could not be matched
                return
            progress = False
            try:
                async with self._opener.stream(self.url, headers=self._headers()) as body:
                    chunks = body.chunks()
                    reader = self._read(chunks, first)
                    try:
                        async for batch in reader:
                            progress = True
                            yield batch
                    finally:
                        await reader.aclose()
                        await chunks.aclose()
            except (TransportError, ReplicateError) as exc:
                log.debug("stream of %s broke: %s", self.name, exc)
                if not _resumable(exc):
                    return  # 401/404 …: this stream cannot be resumed
            if self.unmatched:
                return
            first = False
            # Backoff starts over after a connection that brought something new.
            idle, backoff = (0, _backoff()) if progress else (idle + 1, backoff)
            if idle >= RECONNECTS:
                return
            await self._sleep(self._delay(backoff))

    def _headers(self) -> dict[str, str] | None:
        return {"Last-Event-ID": self.resume_id} if self.resume_id else None

    def _delay(self, backoff: Backoff) -> float:
        retry = self.retry
        return min(retry / 1000, MAX_RETRY_DELAY) if retry is not None else backoff.next()

    async def _read(
        self, chunks: AsyncIterator[bytes], first: bool
    ) -> AsyncGenerator[list[ServerSentEvent], None]:
        decoder = SSEDecoder(retry=self.retry, event_type=self.event_type)
        self._first = first
        self._prev = ""
        # On a reconnection, only an event with a new id is known to be new.
        self._fresh = first or not self._yielded
        try:
            async for chunk in chunks:
                for piece in _slices(chunk):
                    batch = self._accept(decoder.feed(piece))
                    if batch:
                        self._yielded = True
                        yield batch
                    if self.unmatched:
                        return
        finally:
            self.retry = decoder.retry

    def _accept(self, events: list[ServerSentEvent]) -> list[ServerSentEvent]:
        """The events not yielded before (the hot path: one set lookup per event)."""
        if self._first:
            # Nothing can be a replay on the first connection: remember the ids (in C) and
            # hand the decoder's own list on.
            if events:
                self._seen.update(map(_ID, events))
                last = events[-1].id
                self._prev = last
                if last:
                    self.resume_id = last
            return events
        seen = self._seen
        prev = self._prev
        fresh = self._fresh
        resume = self.resume_id
        out: list[ServerSentEvent] = []
        for sse in events:
            ident = sse.id
            if ident != prev and ident:
                prev = ident
                if ident in seen:
                    fresh = False
                    continue
                seen.add(ident)
                resume = ident
                fresh = True
            elif not fresh:
                if not prev:
                    self.unmatched = True  # a reconnection's first event has no id
                    break
                continue  # it goes with the replayed event before it
            out.append(sse)
        self._prev = prev
        self._fresh = fresh
        self.resume_id = resume
        return out


_ID = operator.attrgetter("id")


def _resumable(exc: TransportError | ReplicateError) -> bool:
    """Whether a failed connection may be tried again: network errors, 5xx and 429."""
    return not isinstance(exc, ReplicateError) or isinstance(exc, ServerError) or exc.status == 429


def _backoff() -> Backoff:
    return Backoff.from_env(ceiling=MAX_RETRY_DELAY)


def _slices(chunk: bytes) -> list[bytes] | tuple[bytes]:
    """``chunk`` in pieces of at most ``FEED_SIZE`` bytes.

    A large read (a fast stream catching up) would otherwise build thousands of events at once,
    all alive until the consumer has seen them; in slices, few exist at a time and the garbage
    collector stays idle (about 15% of the per-event cost when streaming 100,000 events).
    """
    if len(chunk) <= FEED_SIZE:
        return (chunk,)
    return [chunk[start : start + FEED_SIZE] for start in range(0, len(chunk), FEED_SIZE)]

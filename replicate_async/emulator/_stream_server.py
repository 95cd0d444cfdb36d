"""Server side of ``urls.stream``: Server-Sent Events from the stream origin.

Opens with ``: hi``; sends ``output``/``logs``/``error``/``done`` events with ids
``<unix>:<n>``; honours ``Last-Event-ID``; ends with ``:408: 408 Request Timeout`` after
``stream_idle_timeout`` seconds with nothing to send. Pending events are written in one
batch per wake-up.
"""

from __future__ import annotations

from aiohttp import web

from ._core import CORE
from ._jobs import Job, SseEvent
from ._problems import not_found

__all__ = ["encode_event", "stream_handler"]


def encode_event(event: SseEvent) -> str:
    seq, unix, name, data = event
    lines = data.split("\n")
    body = "".join(f"data: {line}\n" for line in lines)
    return f"event: {name}\nid: {unix}:{seq}\n{body}\n"


def _last_seq(value: str | None) -> int:
    if not value:
        return -1
    _, _, seq = value.strip().rpartition(":")
    try:
        return int(seq)
    except ValueError:
        return -1


async def stream_handler(request: web.Request, cut_after: int | None = None) -> web.StreamResponse:
    core = request.app[CORE]
    job = core.store.streams.get(request.path)
    if job is None:
        raise not_found()
    resp = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "Connection": "keep-alive",
            "X-Accel-Buffering": "no",
            "Access-Control-Allow-Origin": "*",  # browsers read urls.stream with EventSource
            "Access-Control-Expose-Headers": "Content-Type, Cache-Control",
        }
    )
    await resp.prepare(request)
    core.store.stats.stream_connections += 1
    last = _last_seq(request.headers.get("Last-Event-ID"))
    try:
        await _send_events(request, resp, job, last, cut_after)
    except ConnectionResetError:
        # The client left (a `break` out of its loop): nothing to send it any more.
        core.store.stats.stream_disconnects += 1
    return resp


async def _send_events(
    request: web.Request, resp: web.StreamResponse, job: Job, last: int, cut_after: int | None
) -> None:
    core = request.app[CORE]
    await resp.write(b": hi\n\n")
    sent = 0
    idle = core.options.stream_idle_timeout
    while True:
        pending = job.events_after(last)
        if pending:
            if cut_after is not None and sent + len(pending) >= cut_after:
                pending = pending[: max(0, cut_after - sent)]
                if pending:
                    await resp.write("".join(encode_event(e) for e in pending).encode())
                # An abrupt cut: no terminating chunk, the client must reconnect.
                transport = request.transport
                if transport is not None:
                    transport.abort()
                return
            await resp.write("".join(encode_event(e) for e in pending).encode())
            sent += len(pending)
            last = pending[-1][0]
            if pending[-1][2] == "done":
                break
            continue
        if core.closing or job.terminal:  # nothing more will ever come
            break
        if not await job.changed.wait(idle, core.clock):
            await resp.write(b":408: 408 Request Timeout\n\n")
            break
    await resp.write_eof()

"""Benchmark: SSEDecoder cost per event against a naive ``buf.split(b"\\n")`` parser.

The stream is what Replicate sends for an LLM: ``: hi``, then ~100,000 small ``output`` events
with ids like ``1690212292:17``, then ``done``. The decoder is fed 64 KiB chunks (as a socket
delivers them); the naive parser gets the whole buffer at once, handles LF only, never looks at
BOMs, CRs, chunk boundaries or ``retry``, and builds the same ``ServerSentEvent`` objects. A
second naive variant builds plain tuples, the cheapest thing a hand-written loop could return.

Run: ``.venv/bin/python benchmarks/bench_sse.py [--events N]``. Prints µs/event for both and
the ratio, and writes ``benchmarks/results/sse.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import platform_info, save

CHUNK = 64 * 1024
TOKENS = [
    " the",
    " quick",
    " brown",
    " fox",
    " jumps",
    " over",
    " lazy",
    " dog",
    ".",
    "\u00e9t\u00e9",
]


def make_stream(n_events: int) -> bytes:
    """A Replicate-style SSE body with ``n_events`` output events (plus a comment and done)."""
    parts = [b": hi\n\n"]
    for i in range(n_events):
        token = TOKENS[i % len(TOKENS)]
        parts.append(f"event: output\nid: 1690212292:{i}\ndata: {token}\n\n".encode())
    parts.append(f"event: done\nid: 1690212292:{n_events}\ndata: {{}}\n\n".encode())
    return b"".join(parts)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the figures and save them as JSON."""
    from replicate_async._core.sse import ServerSentEvent, SSEDecoder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="10,000 events, 3 rounds")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.repeat = min(args.events, 10_000), min(args.repeat, 3)

    buf = make_stream(args.events)
    chunks = [buf[i : i + CHUNK] for i in range(0, len(buf), CHUNK)]
    expected = int(args.events) + 1

    def decoder() -> int:
        dec = SSEDecoder()
        n = 0
        for chunk in chunks:
            n += len(dec.feed(chunk))
        n += len(dec.close())
        return n

    def naive_loop(make: Callable[[str, str, str], Any]) -> Callable[[], int]:
        def run() -> int:
            events = []
            event = ""
            data: list[str] = []
            last_id = ""
            for line in buf.split(b"\n"):
                if not line:
                    if data:
                        events.append(make(event or "message", "\n".join(data), last_id))
                    event = ""
                    data = []
                    continue
                field, _, value = line.decode().partition(":")
                if value.startswith(" "):
                    value = value[1:]
                if field == "data":
                    data.append(value)
                elif field == "event":
                    event = value
                elif field == "id":
                    last_id = value
            return len(events)

        return run

    naive = naive_loop(lambda e, d, i: ServerSentEvent(e, d, i, None))
    naive_tuples = naive_loop(lambda e, d, i: (e, d, i))

    def best(fn: Callable[[], int]) -> float:
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            n = fn()
            times.append(time.perf_counter() - t0)
            if n != expected:
                raise SystemExit(f"{fn.__name__}: {n} events, expected {expected}")
        return min(times) / expected * 1e6

    dec_us = best(decoder)
    naive_us = best(naive)
    tuple_us = best(naive_tuples)
    result = {
        "events": expected,
        "bytes": len(buf),
        "chunk_size": CHUNK,
        "decoder_us_per_event": round(dec_us, 4),
        "naive_us_per_event": round(naive_us, 4),
        "ratio": round(dec_us / naive_us, 3),
        "naive_tuples_us_per_event": round(tuple_us, 4),
        "ratio_vs_naive_tuples": round(dec_us / tuple_us, 3),
        **platform_info(),
    }
    print(
        f"events:                 {expected} ({len(buf) / 1e6:.1f} MB, {CHUNK // 1024} KiB chunks)"
    )
    print(f"SSEDecoder:             {dec_us:.3f} µs/event")
    print(f"naive split loop:       {naive_us:.3f} µs/event   ratio {dec_us / naive_us:.2f}x")
    print(f"naive loop, tuples:     {tuple_us:.3f} µs/event   ratio {dec_us / tuple_us:.2f}x")
    print(f"saved {save('sse', result)}")
    return result


if __name__ == "__main__":
    main()

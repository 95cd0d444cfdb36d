"""``python -m replicate_async.emulator [--host H] [--port P] [--token T] [--seed N]
[--no-rate-limit] [--speed X] [--tls]``: serve a local Replicate until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence

from ._server import serve_forever

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m replicate_async.emulator",
        description="Serve a local, offline emulation of the Replicate HTTP API.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback)")
    parser.add_argument(
        "--port",
        type=int,
        default=8787,
        help="API port; stream and delivery use port+1 and port+2 (0: random ports)",
    )
    parser.add_argument("--token", default=None, help="accept only this API token")
    parser.add_argument("--seed", type=int, default=None, help="make ids and outputs repeatable")
    parser.add_argument(
        "--no-rate-limit", action="store_true", help="turn off the 429 token buckets"
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="run predictions X times faster (default 1)"
    )
    parser.add_argument(
        "--sync-quirk",
        action="store_true",
        help="Prefer: wait answers text models early too: 'processing' with the full output",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with a local CA (prints its file; needs trustme)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Ctrl-C stops the server even when started with SIGINT ignored (a background job).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            serve_forever(
                args.host,
                args.port,
                token=args.token,
                seed=args.seed,
                rate_limit=not args.no_rate_limit,
                speed=args.speed,
                sync_quirk=args.sync_quirk,
                tls=args.tls,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

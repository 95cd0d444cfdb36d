"""Helpers for the batch tests (imported by name; tests/batch has no package)."""

from __future__ import annotations

import asyncio
from typing import Any

from support import wait_until

from replicate_async import Client
from replicate_async.batch import BatchResult
from replicate_async.emulator import Emulator

__all__ = ["TERMINAL", "Collect", "all_terminal", "statuses", "wait_until"]

TERMINAL = {"succeeded", "failed", "canceled", "aborted"}


class Collect:
    """Runs a batch to the end through the coroutine API or its blocking twin."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    async def __call__(self, client: Client, *args: Any, **kwargs: Any) -> list[BatchResult]:
        if self.mode == "async":
            return [result async for result in client.batch(*args, **kwargs)]
        # The blocking twin runs in a thread: this loop must keep serving the emulator.
        return await asyncio.to_thread(lambda: list(client.batch_sync(*args, **kwargs)))


def statuses(emu: Emulator) -> list[str]:
    """The status of every prediction the emulator holds, in creation order."""
    return [job.status for job in emu.predictions.values()]


def all_terminal(emu: Emulator) -> bool:
    return all(status in TERMINAL for status in statuses(emu))

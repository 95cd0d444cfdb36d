"""State of one prediction or training, its JSON form and its SSE event log."""

from __future__ import annotations

import asyncio
from typing import Any

from ._clock import Clock, RealClock, TimerHandle
from ._util import Notifier, dumps

__all__ = ["TERMINAL", "Job", "SseEvent"]

TERMINAL = frozenset({"succeeded", "failed", "canceled", "aborted"})

SseEvent = tuple[int, int, str, str]
"""(sequence number, unix time, event name, data)."""


class Job:
    """A prediction or training as the emulator tracks it.

    Public attributes are meant for test introspection (``emu.predictions[id].status``);
    mutate only through the engine.
    """

    def __init__(
        self,
        *,
        kind: str,
        id: str,
        model: str,
        version: str,
        input: dict[str, Any],
        run_input: dict[str, Any],
        created_at: float,
        created_at_str: str,
        urls: dict[str, str],
        seq: int,
        deployment: str | None = None,
        webhook: str | None = None,
        webhook_events_filter: tuple[str, ...] | None = None,
        created_at_ns: int | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.clock: Clock = clock if clock is not None else RealClock()
        self.kind = kind
        self.id = id
        self.model = model
        self.version = version
        self.input = input
        self.run_input = run_input
        self.created_at = created_at
        self.created_at_str = created_at_str
        # The exact creation time; list filters compare against it, not the printed value.
        self.created_at_ns = round(created_at * 1e9) if created_at_ns is None else created_at_ns
        self.urls = urls
        self.seq = seq
        self.deployment = deployment
        self.webhook = webhook
        self.webhook_events_filter = webhook_events_filter
        self.source = "api"
        self.status = "starting"
        self.output: Any = None
        self.error: str | None = None
        self.started_at: float | None = None
        self.started_at_str: str | None = None
        self.completed_at: float | None = None
        self.completed_at_str: str | None = None
        self.deadline_str: str | None = None
        self.metrics: dict[str, Any] = {}
        self.data_removed = False
        self.events: list[SseEvent] = []
        self.changed = Notifier()  # any new event (SSE readers)
        self.finished = Notifier()  # terminal, or output complete in sync-quirk mode
        self.quirk_snapshot: dict[str, Any] | None = None
        self.sync_waiters = 0  # ``Prefer: wait`` creates holding for this job
        self.task: asyncio.Task[None] | None = None
        self.timers: list[TimerHandle] = []
        self.file_paths: list[str] = []
        self.first_token_at: float | None = None
        self.extra: dict[str, Any] = {}
        self._logs: list[str] = []
        self._logs_text: str | None = ""

    # -- reading -------------------------------------------------------------------------
    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def logs(self) -> str:
        text = self._logs_text
        if text is None:
            text = self._logs_text = "".join(self._logs)
        return text

    def to_json(self) -> dict[str, Any]:
        """The API representation at this moment (a fresh dict, safe to keep)."""
        output = self.output
        if isinstance(output, list):
            output = list(output)
        training = self.kind == "training"
        body: dict[str, Any] = {
            "id": self.id,
            "model": self.model,
            "version": self.version,
            "input": self.input,
            "logs": self.logs,
            "output": output,
            "data_removed": self.data_removed,
            "error": self.error,
            "status": self.status,
            "created_at": self.created_at_str,
        }
        if training:
            # Real trainings carry no data_removed (trainings-get/-cancel recordings) and
            # send "output": null and "completed_at": null while those are unset.
            del body["data_removed"]
        if self.started_at_str is not None:
            body["started_at"] = self.started_at_str
        if self.completed_at_str is not None or training:
            body["completed_at"] = self.completed_at_str
        body["urls"] = dict(self.urls)
        body["metrics"] = dict(self.metrics)
        body["source"] = self.source
        if self.deadline_str is not None:
            body["deadline"] = self.deadline_str
        if self.deployment is not None:
            body["deployment"] = self.deployment
        if self.webhook is not None:
            body["webhook"] = self.webhook
            body["webhook_events_filter"] = list(
                self.webhook_events_filter or ("start", "output", "logs", "completed")
            )
        return body

    def events_after(self, seq: int) -> list[SseEvent]:
        events = self.events
        if seq < 0:
            return list(events)
        if events and events[-1][0] == len(events) - 1:  # dense: index == sequence number
            return events[seq + 1 :]
        return [e for e in events if e[0] > seq]  # trimmed by data removal

    # -- writing (used by the engine) ---------------------------------------------------
    def add_log(self, text: str) -> None:
        self._logs.append(text)
        self._logs_text = None

    def clear_logs(self) -> None:
        self._logs = []
        self._logs_text = ""

    def add_event(self, event: str, data: str) -> None:
        self.events.append((len(self.events), int(self.clock.time()), event, data))

    def add_json_event(self, event: str, data: dict[str, Any]) -> None:
        self.add_event(event, dumps(data))

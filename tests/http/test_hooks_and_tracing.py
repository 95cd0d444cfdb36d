"""Request/response hooks and OpenTelemetry spans: what they see, and what they never see."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from replicate_async import Client, ConfigurationError, ModelError, RequestEvent, ResponseEvent
from replicate_async._io import telemetry
from replicate_async.emulator import Emulator

TOKEN = "r8_hooks_tests_token"
SECRET_INPUT = "input-that-must-not-leak"


async def test_sync_and_async_hooks_see_each_exchange(replicate_emulator: Emulator) -> None:
    seen: list[Any] = []

    async def on_response(event: ResponseEvent) -> None:
        await asyncio.sleep(0)
        seen.append(event)

    def broken(_event: object) -> None:
        raise RuntimeError("a hook bug")

    client = Client(
        api_token=TOKEN,
        base_url=replicate_emulator.url,
        on_request=seen.append,
        on_response=on_response,
        event_hooks={"request": [broken], "response": [broken]},  # logged, never fatal
    )
    async with client:
        await client.run("replicate/hello-world", input={"text": SECRET_INPUT})
    requests = [e for e in seen if isinstance(e, RequestEvent)]
    responses = [e for e in seen if isinstance(e, ResponseEvent)]
    assert requests and len(responses) == len(requests)
    create = next(e for e in responses if e.method == "POST")
    assert create.status == 201 and create.elapsed >= 0
    assert create.url.startswith(replicate_emulator.url)
    dumped = repr(seen)
    assert TOKEN not in dumped and SECRET_INPUT not in dumped
    with pytest.raises(AttributeError):
        create.status = 500  # type: ignore[misc]


def test_event_hooks_keys_are_checked() -> None:
    with pytest.raises(ConfigurationError, match="event_hooks"):
        Client(api_token=TOKEN, event_hooks={"requests": [print]})
    with pytest.raises(ConfigurationError, match="callables"):
        Client(api_token=TOKEN, on_request=["not callable"])  # type: ignore[list-item]


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(telemetry, "tracer", lambda: provider.get_tracer("replicate_async"))
    return exporter


async def test_spans_for_runs_and_api_calls(
    replicate_emulator: Emulator, spans: InMemorySpanExporter
) -> None:
    async with Client(api_token=TOKEN, base_url=replicate_emulator.url) as client:
        await client.run("replicate/hello-world", input={"text": SECRET_INPUT})
    finished = spans.get_finished_spans()
    run = next(s for s in finished if s.name == "replicate.run")
    attributes = dict(run.attributes or {})
    assert attributes["replicate.prediction.status"] == "succeeded"
    assert attributes["replicate.model"] == "replicate/hello-world"
    assert str(attributes["replicate.prediction.id"])
    assert "replicate.predict_time" in attributes
    calls = [s for s in finished if s.name == "replicate.request"]
    assert calls and all(s.parent is not None for s in calls)
    assert {s.parent.span_id for s in calls if s.parent} == {run.context.span_id}
    everything = repr([(s.name, dict(s.attributes or {})) for s in finished])
    assert TOKEN not in everything and SECRET_INPUT not in everything


async def test_a_failed_run_is_recorded_as_failed(
    replicate_emulator: Emulator, spans: InMemorySpanExporter
) -> None:
    async with Client(api_token=TOKEN, base_url=replicate_emulator.url) as client:
        with pytest.raises(ModelError):
            await client.run("replicate/always-fails", input={})
    run = next(s for s in spans.get_finished_spans() if s.name == "replicate.run")
    assert dict(run.attributes or {})["replicate.prediction.status"] == "failed"
    assert not run.status.is_ok


async def test_the_server_request_id_reaches_hooks_and_retries_are_counted(scripted: Any) -> None:
    scripted.add(status=503, body={"detail": "busy"}, headers={"Retry-After": "0"})
    scripted.add(body={"username": "a", "type": "user"}, headers={"X-Request-Id": "req_123"})
    seen: list[ResponseEvent] = []

    async def no_sleep(_delay: float) -> None:
        return None

    async with Client(
        api_token=TOKEN, base_url=scripted.url, on_response=seen.append, sleep=no_sleep
    ) as client:
        await client.account.async_get()
    assert [(e.status, e.attempt, e.request_id) for e in seen] == [
        (503, 1, None),
        (200, 2, "req_123"),
    ]

"""``webhook=`` / ``webhook_events_filter=`` on creates: bad values fail before any request.

Every bad value is tried on every create verb that takes a webhook, through both twins, and the
emulator's request log proves nothing was sent. The good values are sent exactly as given.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from webhook_support import LLAMA3, Twin

from replicate_async import Client, ConfigurationError
from replicate_async.emulator import Emulator

TRAINER = "replicate/fast-flux-trainer"


Create = Callable[[Twin, Client, dict[str, Any]], Awaitable[Any]]


async def _prediction(twin: Twin, client: Client, hook: dict[str, Any]) -> Any:
    return await twin(client.predictions.async_create, model=LLAMA3, input={"prompt": "Hi"}, **hook)


async def _version_prediction(twin: Twin, client: Client, hook: dict[str, Any]) -> Any:
    return await twin(
        client.predictions.async_create, "replicate/hello-world", {"text": "Al"}, **hook
    )


async def _model_prediction(twin: Twin, client: Client, hook: dict[str, Any]) -> Any:
    return await twin(client.models.predictions.async_create, LLAMA3, {"prompt": "Hi"}, **hook)


async def _deployment_prediction(twin: Twin, client: Client, hook: dict[str, Any]) -> Any:
    return await twin(client.deployments.predictions.async_create, "emulator/dep", {}, **hook)


async def _training(twin: Twin, client: Client, hook: dict[str, Any]) -> Any:
    return await twin(
        client.trainings.async_create,
        f"{TRAINER}:{'0' * 64}",
        destination="emulator/tuned",
        input={"input_images": "data:,x"},
        **hook,
    )


CREATES: dict[str, Create] = {
    "predictions.create(model=)": _prediction,
    "predictions.create(version=)": _version_prediction,
    "models.predictions.create": _model_prediction,
    "deployments.predictions.create": _deployment_prediction,
    "trainings.create": _training,
}

BAD = [
    pytest.param({"webhook": "http://example.com/hook"}, "https", id="plain-http-remote"),
    pytest.param({"webhook": "http://10.0.0.7/hook"}, "https", id="plain-http-private-ip"),
    pytest.param({"webhook": "http://0.0.0.0:8000/hook"}, "https", id="plain-http-any-address"),
    pytest.param({"webhook": "ftp://example.com/hook"}, "https", id="ftp"),
    pytest.param({"webhook": "/hook"}, "absolute", id="relative"),
    pytest.param({"webhook": "example.com/hook"}, "absolute", id="no-scheme"),
    pytest.param({"webhook": "https://"}, "absolute", id="no-host"),
    pytest.param({"webhook": " https://example.com/hook"}, "absolute", id="whitespace"),
    pytest.param({"webhook": "https://exa mple.com/hook"}, "absolute", id="space-in-host"),
    pytest.param({"webhook": "http://::1/hook"}, "not a valid URL", id="unbracketed-ipv6"),
    pytest.param({"webhook": b"https://example.com/h"}, "absolute", id="bytes-url"),
    pytest.param(
        {"webhook": "https://example.com/h", "webhook_events_filter": ["done"]},
        "'done'",
        id="unknown-event",
    ),
    pytest.param(
        {"webhook": "https://example.com/h", "webhook_events_filter": ["Completed"]},
        "'Completed'",
        id="event-case",
    ),
    pytest.param(
        {"webhook": "https://example.com/h", "webhook_events_filter": "completed"},
        "must be a list",
        id="filter-as-string",
    ),
    pytest.param(
        {"webhook": "https://example.com/h", "webhook_events_filter": []},
        "empty",
        id="empty-filter",
    ),
    pytest.param({"webhook_events_filter": ["completed"]}, "without a webhook", id="no-url"),
]


@pytest.mark.parametrize("create", list(CREATES.values()), ids=list(CREATES))
@pytest.mark.parametrize(("hook", "message"), BAD)
async def test_bad_webhook_options_fail_before_any_request(
    replicate_emulator: Emulator,
    client: Client,
    twin: Twin,
    create: Create,
    hook: dict[str, Any],
    message: str,
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        await create(twin, client, hook)
    assert replicate_emulator.requests == []


GOOD = [
    pytest.param("https://my.app/hook?token=abc", None, list, id="https"),
    pytest.param("http://127.0.0.1:9/hook", ["start", "completed"], tuple, id="loopback-ipv4"),
    pytest.param("http://localhost:9/hook", ["output", "logs", "output"], list, id="localhost"),
    pytest.param("http://[::1]:9/hook", ["completed"], set, id="loopback-ipv6"),
    pytest.param("https://my.app/h", ["logs", "completed"], iter, id="generator-filter"),
]


@pytest.mark.parametrize(("url", "events", "container"), GOOD)
async def test_good_webhook_options_are_sent_as_given(
    replicate_emulator: Emulator,
    client: Client,
    twin: Twin,
    url: str,
    events: list[str] | None,
    container: Callable[[list[str]], Any],
) -> None:
    hook: dict[str, Any] = {"webhook": url}
    if events is not None:
        hook["webhook_events_filter"] = container(events)
    prediction = await _prediction(twin, client, hook)
    assert prediction.webhook == url
    job = replicate_emulator.predictions[prediction.id]
    expected = None if events is None else list(dict.fromkeys(events))
    sent = job.webhook_events_filter
    assert (job.webhook, None if sent is None else list(sent)) == (url, expected)
    if expected is not None:
        assert prediction.webhook_events_filter == expected


async def test_training_webhook_is_sent(
    replicate_emulator: Emulator, client: Client, twin: Twin
) -> None:
    trainer = await client.models.async_get(TRAINER)
    assert trainer.latest_version is not None
    await client.models.async_create("emulator", "tuned", visibility="private", hardware="cpu")
    training = await twin(
        client.trainings.async_create,
        TRAINER,
        trainer.latest_version.id,
        destination="emulator/tuned",
        input={"input_images": "data:,x"},
        webhook="https://my.app/trained",
        webhook_events_filter=["completed"],
    )
    job = replicate_emulator.trainings[training.id]
    assert job.webhook == "https://my.app/trained"
    assert list(job.webhook_events_filter or ()) == ["completed"]

"""Pure request builders: Prefer/Cancel-After headers, webhooks, create targets and bodies."""

from __future__ import annotations

from datetime import timedelta

import pytest

from replicate_async import ConfigurationError, InvalidReferenceError
from replicate_async._core.request import (
    cancel_after_header,
    format_duration,
    prefer_header,
    validate_webhook,
)
from replicate_async.resources.predictions import build_create_request, create_target

HEX = "a" * 64


@pytest.mark.parametrize(
    ("wait", "header", "seconds"),
    [
        (None, {}, None),
        (False, {}, None),
        (True, {"Prefer": "wait"}, 60.0),
        (5, {"Prefer": "wait=5"}, 5.0),
        (60, {"Prefer": "wait=60"}, 60.0),
    ],
)
def test_prefer_header(wait: object, header: dict[str, str], seconds: float | None) -> None:
    assert prefer_header(wait) == (header, seconds)  # type: ignore[arg-type]


@pytest.mark.parametrize("wait", [0, 61, -1, "5"])
def test_prefer_header_rejects(wait: object) -> None:
    with pytest.raises(ConfigurationError):
        prefer_header(wait)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "header"),
    [
        (30, "30s"),
        ("45s", "45s"),
        ("5m", "5m"),
        ("1h30m", "1h30m"),
        (5400, "1h30m"),
        (timedelta(minutes=2), "2m"),
        ("90", "1m30s"),
        (7.5, "7.5s"),
    ],
)
def test_cancel_after(value: object, header: str) -> None:
    assert cancel_after_header(value) == {"Cancel-After": header}  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [4, "4s", "soon", "", "5x", True])
def test_cancel_after_rejects(value: object) -> None:
    with pytest.raises(ConfigurationError):
        cancel_after_header(value)  # type: ignore[arg-type]


def test_format_duration() -> None:
    assert format_duration(3600) == "1h" and format_duration(0) == "0s"


@pytest.mark.parametrize(
    "url",
    ["https://my.app/hook", "http://127.0.0.1:8080/hook", "http://localhost/h", "http://[::1]:9/h"],
)
def test_webhook_accepts(url: str) -> None:
    validate_webhook(url, ["start", "completed"])


@pytest.mark.parametrize(
    ("url", "events"),
    [
        ("http://my.app/hook", None),
        ("/hook", None),
        ("my.app/hook", None),
        ("https://my.app/h", ["done"]),
        ("https://my.app/h", "completed"),
        (None, ["completed"]),
    ],
)
def test_webhook_rejects(url: str | None, events: list[str] | None) -> None:
    with pytest.raises(ConfigurationError):
        validate_webhook(url, events)


def test_create_targets() -> None:
    assert create_target("owner/name", None) == ("/predictions", {"version": "owner/name"})
    assert create_target(HEX, None) == ("/predictions", {"version": HEX})
    assert create_target(f"o/n:{HEX}", None) == ("/predictions", {"version": f"o/n:{HEX}"})
    assert create_target(None, "meta/llama") == ("/models/meta/llama/predictions", {})
    assert create_target(None, f"o/n:{HEX}") == ("/predictions", {"version": f"o/n:{HEX}"})
    assert create_target(None, None, "me/dep") == ("/deployments/me/dep/predictions", {})


def test_create_target_errors() -> None:
    with pytest.raises(ConfigurationError):
        create_target(None, None)
    with pytest.raises(ConfigurationError):
        create_target(HEX, "o/n")
    with pytest.raises(InvalidReferenceError):
        create_target("not a ref", None)


def test_create_body_matches_spec() -> None:
    request = build_create_request(
        "/predictions",
        {"version": HEX},
        {"prompt": "hi"},
        webhook="https://x.y/h",
        webhook_events_filter=["completed", "completed"],
        wait=5,
        cancel_after="1m",
    )
    assert request.json == {
        "version": HEX,
        "input": {"prompt": "hi"},
        "webhook": "https://x.y/h",
        "webhook_events_filter": ["completed"],
    }
    assert request.headers == {"Prefer": "wait=5", "Cancel-After": "1m"}
    assert request.wait == 5.0 and not request.is_idempotent and request.rate_class == "create"


def test_create_input_must_be_mapping() -> None:
    with pytest.raises(ConfigurationError):
        build_create_request("/predictions", {}, ["prompt"])  # type: ignore[arg-type]

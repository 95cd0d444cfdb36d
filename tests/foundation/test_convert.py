"""Data classes: unknown fields kept, lenient statuses, timestamps with 0-9 digits."""

from __future__ import annotations

from datetime import timezone

import pytest

from replicate_async import Model, Page, Prediction
from replicate_async._core.convert import parse_timestamp
from replicate_async.types import is_terminal


@pytest.mark.parametrize(
    ("text", "micro"),
    [
        ("2023-11-27T13:35:45.99397566Z", 993975),
        ("2024-10-04T18:17:09.101Z", 101000),
        ("2024-04-18T17:21:55Z", 0),
        ("2024-04-18T17:21:55.123456789+00:00", 123456),
        ("2024-04-18T17:21:55.1-01:30", 100000),
    ],
)
def test_timestamps(text: str, micro: int) -> None:
    parsed = parse_timestamp(text)
    assert parsed.microsecond == micro and parsed.tzinfo is not None
    assert parsed.astimezone(timezone.utc).year in (2023, 2024)


def test_bad_timestamp() -> None:
    with pytest.raises(ValueError):
        parse_timestamp("yesterday")


def test_unknown_fields_are_kept__peer_defect_29() -> None:
    data = {
        "id": "abc",
        "status": "aborted",
        "model": "m/n",
        "version": "hidden",
        "input": {},
        "output": None,
        "error": None,
        "data_removed": False,
        "webhook_completed": "2024-01-01Z",
        "created_at": "2024-04-18T17:21:55.99397566Z",
        "urls": {"get": "g", "cancel": "c", "stream": "s", "new_url": "n"},
        "brand_new": {"x": 1},
    }
    p = Prediction.from_dict(data)
    assert p.extra == {"webhook_completed": "2024-01-01Z", "brand_new": {"x": 1}}
    assert p["brand_new"] == {"x": 1}
    assert p.urls is not None and p.urls.extra == {"new_url": "n"}
    out = p.to_dict()
    assert out["brand_new"] == {"x": 1} and out["urls"]["new_url"] == "n"
    assert "_client" not in out and "extra" not in out


def test_status_is_a_plain_string__peer_defect_4() -> None:
    assert Prediction.from_dict({"id": "x", "status": "quantum"}).status == "quantum"
    for status in ("succeeded", "failed", "canceled", "aborted"):
        assert is_terminal(status)
        assert Prediction.from_dict({"id": "x", "status": status}).terminal
    assert not is_terminal("processing") and not is_terminal("starting")


def test_model_keeps_latest_version() -> None:
    m = Model.from_dict(
        {
            "owner": "o",
            "name": "n",
            "is_official": True,
            "latest_version": {"id": "v", "openapi_schema": {"a": 1}, "new": 2},
        }
    )
    assert m.id == "o/n" and m.extra == {"is_official": True}
    assert m.latest_version is not None and m.latest_version.extra == {"new": 2}


def test_repr_hides_client() -> None:
    p = Prediction.from_dict({"id": "x", "status": "starting"})
    assert "client" not in repr(p)


def test_page_len() -> None:
    page: Page[int] = Page(results=[1, 2])
    assert len(page) == 2 and list(page) == [1, 2]

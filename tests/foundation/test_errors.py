"""Status → exception mapping and what errors carry (pure)."""

from __future__ import annotations

import json

import pytest

import replicate_async as ra
from replicate_async._core.errors import error_from_response


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, ra.BadRequestError),
        (401, ra.AuthenticationError),
        (402, ra.PaymentRequiredError),
        (403, ra.PermissionDeniedError),
        (404, ra.NotFoundError),
        (409, ra.ConflictError),
        (413, ra.PayloadTooLargeError),
        (422, ra.UnprocessableEntityError),
        (429, ra.RateLimitError),
        (500, ra.ServerError),
        (502, ra.ServerError),
        (503, ra.ServerError),
        (418, ra.ReplicateError),
    ],
)
def test_status_mapping(status: int, cls: type[ra.ReplicateError]) -> None:
    error = error_from_response(status, {}, b'{"detail": "nope"}')
    assert type(error) is cls and isinstance(error, ra.ReplicateAsyncError)
    assert error.status == status and error.detail == "nope"


def test_problem_details_and_invalid_fields__peer_defect_21() -> None:
    body = {
        "type": "https://replicate.com/docs/errors",
        "title": "Input validation failed",
        "status": 422,
        "detail": "- input.prompt: prompt is required",
        "instance": "/x",
        "invalid_fields": [
            {"type": "required", "field": "input.prompt", "description": "prompt is required"},
            {"type": "number_lte", "field": "input.top_p", "description": "must be <= 1"},
        ],
    }
    headers = {"X-Request-Id": "req_1", "ratelimit-remaining": "7", "ratelimit-reset": "2.5"}
    error = error_from_response(
        422,
        headers,
        json.dumps(body).encode(),
        method="POST",
        url="https://api.replicate.com/v1/predictions",
    )
    assert isinstance(error, ra.UnprocessableEntityError)
    assert error.title == "Input validation failed" and error.type and error.instance == "/x"
    assert [f["field"] for f in error.invalid_fields] == ["input.prompt", "input.top_p"]
    assert error.request_id == "req_1"
    assert error.ratelimit_remaining == 7 and error.ratelimit_reset == 2.5
    text = str(error)
    assert text.startswith("422 Input validation failed: - input.prompt")
    assert "input.top_p: must be <= 1" in text and "req_1" in text and "POST" in text
    assert error.args and error.args[0] == text


def test_non_json_body_still_reads_well() -> None:
    error = error_from_response(502, {}, b"<html>Bad Gateway</html>")
    assert str(error).startswith("502 Bad Gateway: <html>")
    assert error.args


def test_rate_limit_carries_retry_after() -> None:
    error = error_from_response(429, {}, b'{"detail":"throttled","status":429}', retry_after=3.0)
    assert isinstance(error, ra.RateLimitError) and error.retry_after == 3.0


def test_prediction_errors_carry_prediction() -> None:
    p = ra.Prediction.from_dict({"id": "p1", "status": "failed", "error": "boom", "logs": "l"})
    error = ra.ModelError("prediction p1 failed: boom", p)
    assert error.prediction is p and error.prediction_id == "p1" and error.logs == "l"
    assert error.error == "boom" and str(error) and error.args
    timeout = ra.RunTimeoutError("timed out", prediction_id="p1", canceled=True)
    assert isinstance(timeout, TimeoutError) and timeout.prediction_id == "p1"

"""``client.predictions`` against the emulator, in both twins: create (every way to name what to
run), get, list with filters across pages, cancel, and the documented error cases."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from resource_support import Twin, api_requests

import replicate_async as ra
from replicate_async import Client
from replicate_async.emulator import Emulator

LLAMA = "meta/meta-llama-3-8b-instruct"
HELLO = "replicate/hello-world"
HELLO_VERSION = "0000000000000000cde1a443fb5c271536f3fbcf69adf80bf7ecb441405a9e44"


@pytest.mark.parametrize(
    ("how", "ref", "reported"),
    [
        ("version", f"{HELLO}:{HELLO_VERSION}", HELLO_VERSION),
        ("version", HELLO_VERSION, HELLO_VERSION),
        ("model", f"{HELLO}:{HELLO_VERSION}", HELLO_VERSION),
        ("model", LLAMA, None),
        ("version", LLAMA, None),
    ],
)
async def test_create_get_wait(
    twin: Twin, client: Client, how: str, ref: str, reported: str | None
) -> None:
    text_input = {"prompt": "Hi", "max_tokens": 4} if "llama" in ref else {"text": "Ada"}
    prediction = await twin(client.predictions.async_create, input=text_input, **{how: ref})
    assert isinstance(prediction, ra.Prediction) and prediction.id
    assert prediction.status in ("starting", "processing", "succeeded")
    if reported is not None:
        assert prediction.version == reported
    fetched = await twin(client.predictions.async_get, prediction.id)
    assert fetched.id == prediction.id and fetched.input == text_input
    assert await twin(prediction.async_wait, timeout=10) is prediction
    assert prediction.status == "succeeded" and prediction.completed_at is not None
    if "hello" in ref:
        assert prediction.output == "hello Ada"


async def test_create_with_wait_webhook_and_deadline_headers(
    twin: Twin, client: Client, replicate_emulator: Emulator
) -> None:
    prediction = await twin(
        client.predictions.async_create,
        HELLO_VERSION,
        {"text": "Bo"},
        wait=10,
        cancel_after="5m",
        webhook="http://127.0.0.1:9/hook",
        webhook_events_filter=["completed"],
    )
    assert prediction.webhook == "http://127.0.0.1:9/hook"
    assert prediction.webhook_events_filter == ["completed"]
    assert prediction.deadline is not None
    (sent,) = api_requests(replicate_emulator, "predictions.create")
    assert sent.headers["Prefer"] == "wait=10" and sent.headers["Cancel-After"] == "5m"


@pytest.mark.replicate_emulator(model_timings={HELLO: (1000.0, 1000.0)})
async def test_cancel_running_then_finished_is_unchanged(twin: Twin, client: Client) -> None:
    prediction = await twin(client.predictions.async_create, HELLO_VERSION, {"text": "x"})
    canceled = await twin(client.predictions.async_cancel, prediction.id)
    assert canceled.id == prediction.id and canceled.status == "canceled"
    again = await twin(client.predictions.async_cancel, prediction.id)
    assert again.status == "canceled" and again.completed_at == canceled.completed_at
    assert await twin(prediction.async_reload) is prediction and prediction.status == "canceled"


@pytest.mark.replicate_emulator(model_timings={HELLO: (1000.0, 1000.0)})
async def test_bound_cancel_updates_in_place(twin: Twin, client: Client) -> None:
    prediction = await twin(client.predictions.async_create, HELLO_VERSION, {"text": "x"})
    assert await twin(prediction.async_cancel) is prediction
    assert prediction.status == "canceled" and prediction.terminal


@pytest.mark.replicate_emulator(page_size=2)
async def test_list_filters_survive_across_pages(
    twin: Twin, client: Client, replicate_emulator: Emulator
) -> None:
    # The API prints created_at with 0-9 fractional digits, so filter bounds stay 10 s clear of
    # the predictions: the window holds all of them, the bounds outside it none.
    start = datetime.now(timezone.utc) - timedelta(seconds=10)
    made = [
        (await client.predictions.async_create(HELLO_VERSION, {"text": str(i)})).id
        for i in range(5)
    ]
    end = datetime.now(timezone.utc) + timedelta(seconds=10)
    everything = [p.id for p in await twin.items(await twin(client.predictions.async_list))]
    assert everything == list(reversed(made))

    seen = len(api_requests(replicate_emulator, "predictions.list"))
    window = await twin(
        client.predictions.async_list,
        created_after=start,
        created_before=end.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    )
    assert len(window) == 2 and window.next is not None
    assert [p.id for p in await twin.items(window)] == everything
    raw = [r.query for r in api_requests(replicate_emulator, "predictions.list")][seen:]
    later = [parse_qs(q) for q in raw]
    assert len(later) == 3 and "cursor" not in later[0] and all("cursor" in q for q in later[1:])
    assert all(q["created_after"] == later[0]["created_after"] for q in later)
    assert all(q["created_before"] == later[0]["created_before"] for q in later)
    assert unquote(urlsplit(window.next).query) == raw[1]  # followed verbatim (log is decoded)

    assert await twin.items(await twin(client.predictions.async_list, created_after=end)) == []
    assert await twin.items(await twin(client.predictions.async_list, created_before=start)) == []
    web_only = await twin(client.predictions.async_list, source="web")
    assert await twin.items(web_only) == []  # every prediction here came from the API


async def test_unknown_version_is_422(twin: Twin, client: Client) -> None:
    with pytest.raises(ra.UnprocessableEntityError) as info:
        await twin(client.predictions.async_create, "f" * 64, {"text": "x"})
    error = info.value
    assert error.status == 422 and error.title == "Invalid version or not permitted"
    assert "does not exist" in str(error) and error.args


async def test_invalid_input_lists_invalid_fields(twin: Twin, client: Client) -> None:
    with pytest.raises(ra.UnprocessableEntityError) as info:
        await twin(client.predictions.async_create, HELLO_VERSION, {"txt": "typo"})
    fields = {f["field"]: f["type"] for f in info.value.invalid_fields}
    assert fields.get("input.text") == "required"
    assert "- input.text:" in (info.value.detail or "")


async def test_get_unknown_is_not_found(twin: Twin, client: Client) -> None:
    with pytest.raises(ra.NotFoundError):
        await twin(client.predictions.async_get, "a" * 26)
    with pytest.raises(ra.ConfigurationError):  # never sent: not an id
        await twin(client.predictions.async_get, "../account")


@pytest.mark.replicate_emulator(token="r8_the_right_token")
async def test_wrong_token_is_401_and_never_shown(twin: Twin, replicate_emulator: Emulator) -> None:
    async with Client("r8_a_wrong_token", base_url=replicate_emulator.url) as wrong:
        with pytest.raises(ra.AuthenticationError) as info:
            await twin(wrong.predictions.async_create, HELLO_VERSION, {"text": "x"})
    error = info.value
    assert error.status == 401
    shown = f"{error} {error!r} {error.args}"
    assert "r8_a_wrong_token" not in shown and "authentication token" in shown
    async with replicate_emulator.client() as right:
        assert (await twin(right.account.async_get)).username == "emulator"

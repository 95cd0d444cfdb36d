"""Errors that say how to fix them: a model name with a typo, an API root without ``/v1``, a
server that is not the Replicate API (the token messages are in ``test_config``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st
from support import CliInvoker, catch_all, start_site

from replicate_async import Client, NotFoundError, ReplicateError
from replicate_async._core.errors import error_from_response, with_hint
from replicate_async._core.hints import close_model_names, is_problem_body
from replicate_async._ops import hints as ops_hints
from replicate_async.emulator import Emulator

LLAMA = "meta/meta-llama-3-8b-instruct"
TYPO = "meta/meta-lama-3-8b-instruct"
BOUND = 30.0


async def test_a_model_typo_says_not_found_and_suggests_the_close_name(client: Client) -> None:
    """It said "404 Not Found: The requested resource could not be found."."""
    with pytest.raises(NotFoundError) as info:
        await asyncio.wait_for(client.run(TYPO, input={"prompt": "hi"}), BOUND)
    message = str(info.value)
    assert message.startswith(f"The model {TYPO} was not found")
    assert f"Did you mean {LLAMA}?" in message
    assert info.value.hint is not None and LLAMA in info.value.hint
    assert info.value.status == 404 and "could not be found" in message  # the API's words too


async def test_the_blocking_twin_and_stream_say_it_too(replicate_emulator: Emulator) -> None:
    async with replicate_emulator.client() as client:
        with pytest.raises(NotFoundError, match=f"Did you mean {LLAMA}"):
            await asyncio.wait_for(
                asyncio.to_thread(client.run_sync, TYPO, {"prompt": "hi"}), BOUND
            )
        with pytest.raises(NotFoundError, match=f"Did you mean {LLAMA}"):
            async for _ in client.stream(TYPO, {"prompt": "hi"}):
                pass


async def test_models_the_client_has_seen_are_suggested_without_a_search(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    await asyncio.wait_for(client.run(LLAMA, input={"prompt": "hi", "max_tokens": 2}), BOUND)

    async def no_search(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("searched although a known name was close")

    monkeypatch.setattr(client, "async_search", no_search)
    with pytest.raises(NotFoundError, match=f"Did you mean {LLAMA}"):
        await asyncio.wait_for(client.run(TYPO, input={"prompt": "hi"}), BOUND)


@pytest.mark.parametrize("failure", ["raises", "hangs"])
async def test_a_failing_or_hanging_search_never_spoils_the_error(
    client: Client, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        if failure == "hangs":
            await asyncio.Event().wait()
        raise RuntimeError("search is down")

    monkeypatch.setattr(client, "async_search", broken)
    monkeypatch.setattr(ops_hints, "SUGGEST_TIMEOUT", 0.2)
    with pytest.raises(NotFoundError) as info:
        await asyncio.wait_for(client.run("meta/no-such-model-at-all", input={}), BOUND)
    assert str(info.value).startswith("The model meta/no-such-model-at-all was not found")
    assert "Did you mean" not in str(info.value)


async def test_an_unknown_version_of_a_known_model_is_not_called_a_missing_model(
    client: Client,
) -> None:
    with pytest.raises(ReplicateError) as info:  # the API answers 422 for a version
        await asyncio.wait_for(client.run(f"{LLAMA}:{'0' * 64}", input={"prompt": "x"}), BOUND)
    assert "was not found (check the owner" not in str(info.value)


async def test_an_api_root_without_v1_says_so(replicate_emulator: Emulator) -> None:
    """``REPLICATE_BASE_URL=http://127.0.0.1:PORT`` (no ``/v1``) gave the same bare 404."""
    root = replicate_emulator.url.removesuffix("/v1")
    async with Client("r8_x", base_url=root) as client:
        with pytest.raises(NotFoundError) as info:
            await asyncio.wait_for(client.run(LLAMA, input={"prompt": "hi"}), BOUND)
        assert f"The API root {root} has no /v1" in str(info.value)
        assert f"{root}/v1" in (info.value.hint or "")
        assert "Did you mean" not in str(info.value)
        with pytest.raises(NotFoundError, match="has no /v1"):  # any call, not only run
            await asyncio.wait_for(client.models.async_get(LLAMA), BOUND)


@pytest.fixture
async def not_the_api() -> AsyncIterator[str]:
    """A server that answers every path with a web server's plain-text 404."""

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=404, text="404: Not Found")

    runner, origin = await start_site(catch_all(handler))
    try:
        yield origin
    finally:
        await runner.cleanup()


async def test_a_404_that_is_not_the_apis_says_the_root_may_be_wrong(not_the_api: str) -> None:
    async with Client("r8_x", base_url=not_the_api + "/v1") as client:
        with pytest.raises(NotFoundError) as info:
            await asyncio.wait_for(client.models.async_get(LLAMA), BOUND)
    assert "is not a Replicate API error" in str(info.value)


def test_a_404_elsewhere_gets_no_root_hint() -> None:
    """A file download (another origin) or a problem document under /v1 is left alone."""
    plain = error_from_response(
        404, {}, b"nope", method="GET", url="http://cdn/x.png", api_root="http://a/v1"
    )
    problem = error_from_response(
        404,
        {},
        b'{"detail": "Not found.", "status": 404}',
        method="GET",
        url="http://a/v1/models/x/y",
        api_root="http://a/v1",
    )
    assert plain.hint is None and problem.hint is None


def test_the_cli_shows_the_suggestion(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_cli")
    monkeypatch.setenv("REPLICATE_BASE_URL", emu.url)
    result = CliInvoker()("run", TYPO, "-i", "prompt=hi")
    assert result.exit_code != 0
    text = " ".join(result.output.split())
    assert f"The model {TYPO} was not found" in text and f"Did you mean {LLAMA}?" in text


def test_with_hint_keeps_every_field() -> None:
    exc = error_from_response(
        404, {"X-Request-Id": "req1"}, b'{"detail": "gone"}', method="GET", url="http://a/v1/x"
    )
    hinted = with_hint(exc, "Try this.")
    assert type(hinted) is NotFoundError and hinted is not exc
    assert hinted.request_id == "req1" and hinted.detail == "gone" and hinted.status == 404
    assert str(hinted) == f"Try this.\n  {exc}" and hinted.args == (str(hinted),)
    assert exc.hint is None and "Try this." not in str(exc)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(
    model=st.text(max_size=40),
    known=st.lists(st.one_of(st.text(max_size=40), st.just(LLAMA)), max_size=30),
)
def test_close_model_names_is_total_and_picks_from_what_it_knows(
    model: str, known: list[str]
) -> None:
    got = close_model_names(model, known)
    assert len(got) <= 3 and len(set(got)) == len(got)
    assert all(name in known and name.lower() != model.lower() for name in got)


def test_close_model_names_ranks_typos_and_other_owners() -> None:
    known = [
        "meta/meta-llama-3-70b-instruct",
        LLAMA,
        "stability-ai/sdxl",
        "me/meta-lama-3-8b-instruct",
    ]
    got = close_model_names(TYPO, known)
    assert got[0] in (LLAMA, "me/meta-lama-3-8b-instruct") and LLAMA in got
    assert "stability-ai/sdxl" not in got
    assert close_model_names("nobody/zzzz", known) == []
    assert is_problem_body({"detail": "x"}) and not is_problem_body("404: Not Found")

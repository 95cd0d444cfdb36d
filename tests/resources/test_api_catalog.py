"""``client.collections``, ``client.hardware``, ``client.search`` and
``client.webhooks.default_secret`` against the emulator, in both twins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from resource_support import Twin, api_requests

import replicate_async as ra
from replicate_async import Client, webhooks
from replicate_async._core.http_types import Request
from replicate_async.emulator import Emulator
from replicate_async.resources.search import search_request

LLAMA = "meta/meta-llama-3-8b-instruct"


@pytest.mark.replicate_emulator(page_size=1)
async def test_collections_list_every_page(twin: Twin, client: Client) -> None:
    page = await twin(client.collections.async_list)
    assert len(page) == 1 and page.next is not None
    slugs = [c.slug for c in await twin.items(page)]
    assert slugs == ["language-models", "text-to-image", "official", "trainable-language-models"]


async def test_collections_get_with_models(twin: Twin, client: Client) -> None:
    collection = await twin(client.collections.async_get, "language-models")
    assert isinstance(collection, ra.Collection) and collection.name == "Language models"
    assert collection.models is not None and all(isinstance(m, ra.Model) for m in collection.models)
    assert LLAMA in [m.id for m in collection.models]
    assert "full_description" in collection.extra  # a field the class does not name is kept
    again = await twin(client.collections.async_get, collection)
    assert again.slug == collection.slug
    with pytest.raises(ra.NotFoundError):
        await twin(client.collections.async_get, "no-such-collection")
    with pytest.raises(ra.ConfigurationError):
        await twin(client.collections.async_get, "a/b")


async def test_hardware_list_is_a_plain_list(twin: Twin, client: Client) -> None:
    hardware = await twin(client.hardware.async_list)
    assert isinstance(hardware, list) and all(isinstance(h, ra.Hardware) for h in hardware)
    assert {"cpu", "gpu-t4"} <= {h.sku for h in hardware}
    assert all(h.name for h in hardware)


async def test_search_models_collections_and_pages(
    twin: Twin, client: Client, replicate_emulator: Emulator
) -> None:
    results = await twin(client.async_search, "language", limit=1)
    assert isinstance(results, ra.SearchResults) and results.query == "language"
    assert len(results.models) == 1
    hit = results.models[0]
    assert isinstance(hit.model, ra.Model) and hit.metadata.score is not None
    assert hit.metadata.tags and hit.metadata.generated_description
    assert [c.slug for c in results.collections] == ["language-models"]
    assert LLAMA in results.collections[0].models  # search collections list model refs
    (sent,) = api_requests(replicate_emulator, "search")
    assert sent.query == "query=language&limit=1"

    docs = await twin(client.async_search, "webhooks")
    assert [p.name for p in docs.pages] == ["Webhooks"] and docs.pages[0].href


async def test_search_checks_its_arguments_before_sending(
    twin: Twin, client: Client, replicate_emulator: Emulator
) -> None:
    for bad in (0, 51, True):
        with pytest.raises(ra.ConfigurationError, match="limit"):
            await twin(client.async_search, "x", limit=bad)
    with pytest.raises(ra.ConfigurationError, match="empty"):
        await twin(client.async_search, " ")
    assert replicate_emulator.requests == []


@pytest.mark.replicate_emulator(token="r8_only_this_one")
async def test_search_needs_no_token(
    twin: Twin, replicate_emulator: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("REPLICATE_API_TOKEN", "REPLICATE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    async with Client(base_url=replicate_emulator.url) as anonymous:
        results = await twin(anonymous.async_search, "llama")
        assert LLAMA in [hit.model.id for hit in results.models]
        (sent,) = replicate_emulator.requests
        assert "Authorization" not in sent.headers
        with pytest.raises(ra.ConfigurationError, match="REPLICATE_API_TOKEN"):
            await twin(anonymous.account.async_get)  # every other call still needs one


async def test_search_sends_no_token_even_when_one_is_set(
    client: Client, replicate_emulator: Emulator
) -> None:
    await client.async_search("llama")
    await client.account.async_get()
    search, account = replicate_emulator.requests
    assert "Authorization" not in search.headers and "Authorization" in account.headers


def test_auth_flag_on_requests() -> None:
    assert Request("GET", "/x").auth is True
    request = search_request("cats", 5)
    assert (request.method, request.url, request.auth) == ("GET", "/search", False)
    assert request.params == {"query": "cats", "limit": "5"}


async def test_webhook_default_secret_is_fetched_once(
    twin: Twin, client: Client, replicate_emulator: Emulator
) -> None:
    secret = await twin(client.webhooks.default_secret.async_get)
    assert isinstance(secret, ra.WebhookSecret)
    assert secret.key == replicate_emulator.webhook_secret and secret.key.startswith("whsec_")
    assert secret.key not in repr(secret)
    assert await twin(client.webhooks.default_secret.async_get) is secret  # cached
    assert len(api_requests(replicate_emulator, "webhooks.default.secret.get")) == 1
    fresh = await twin(client.webhooks.default_secret.async_get, refresh=True)
    assert fresh.key == secret.key
    assert len(api_requests(replicate_emulator, "webhooks.default.secret.get")) == 2

    body = json.dumps({"id": "p1", "status": "succeeded"})
    headers = webhooks.sign(body, secret.key)
    assert webhooks.verify(headers, body, secret.key).status == "succeeded"

"""``client.account`` and ``client.models`` (+ versions, predictions) against the emulator, in
both twins."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from resource_support import Twin, api_requests

import replicate_async as ra
from replicate_async import Client
from replicate_async.emulator import Emulator

LLAMA = "meta/meta-llama-3-8b-instruct"
HELLO = "replicate/hello-world"
HELLO_VERSION = "0000000000000000cde1a443fb5c271536f3fbcf69adf80bf7ecb441405a9e44"
HELLO_VERSION_OLD = "0000000000000000b67bd330526532a2c38286724803ddbbea2833fef099e6a5"


async def test_account_get(twin: Twin, client: Client) -> None:
    account = await twin(client.account.async_get)
    assert isinstance(account, ra.Account)
    assert (account.type, account.username) == ("user", "emulator")
    assert account.extra["avatar_url"].startswith("https://")  # an unknown field is kept


async def test_models_get_by_ref_and_by_parts(twin: Twin, client: Client) -> None:
    model = await twin(client.models.async_get, LLAMA)
    assert isinstance(model, ra.Model) and model.id == LLAMA
    assert model.latest_version is not None and model.latest_version.openapi_schema
    same = await twin(client.models.async_get, "meta", "meta-llama-3-8b-instruct")
    assert same.id == model.id and same.description == model.description


async def test_models_get_unknown_is_not_found(twin: Twin, client: Client) -> None:
    with pytest.raises(ra.NotFoundError) as info:
        await twin(client.models.async_get, "nobody/nothing")
    assert info.value.status == 404 and "could not be found" in str(info.value)


async def test_models_list_iterates_every_page_following_next_verbatim(
    twin: Twin, client: Client, replicate_emulator: Emulator
) -> None:
    replicate_emulator.options.page_size = 1000
    everything = [m.id for m in (await twin(client.models.async_list)).results]
    replicate_emulator.options.page_size = 2
    first = await twin(client.models.async_list)
    assert len(first) == 2 and first.next is not None and first.previous is None
    ids = [m.id for m in await twin.items(first)]
    assert ids == everything and len(ids) > 4
    queries = [r.query for r in api_requests(replicate_emulator, "models.list")]
    assert urlsplit(first.next).query in queries  # the cursor URL, unchanged
    second = await twin(first.async_next_page)
    assert second is not None and [m.id for m in second.results] == everything[2:4]


@pytest.mark.replicate_emulator(page_size=1)
async def test_models_search_all_pages(twin: Twin, client: Client) -> None:
    page = await twin(client.models.async_search, "llama")
    found = [m.id for m in await twin.items(page)]
    assert set(found) == {LLAMA, "meta/llama-2-7b-chat", "meta/llama-guard-3-8b"}
    assert len(found) == len(set(found))  # one page each, none repeated
    with pytest.raises(ra.ConfigurationError):
        await twin(client.models.async_search, "  ")


async def test_models_create_update_delete(twin: Twin, client: Client) -> None:
    created = await twin(
        client.models.async_create,
        "emulator",
        "my-model",
        visibility="private",
        hardware="cpu",
        description="first",
    )
    assert (created.id, created.visibility, created.description) == (
        "emulator/my-model",
        "private",
        "first",
    )
    updated = await twin(
        client.models.async_update, "emulator/my-model", description="second", readme="# Hi"
    )
    assert updated.description == "second"
    assert (await twin(client.models.async_get, "emulator/my-model")).description == "second"
    assert await twin(client.models.async_readme, "emulator/my-model") == "# Hi"
    assert await twin(client.models.async_delete, "emulator/my-model") is None
    with pytest.raises(ra.NotFoundError):
        await twin(client.models.async_get, "emulator/my-model")


async def test_models_create_name_taken_is_conflict(twin: Twin, client: Client) -> None:
    await twin(client.models.async_create, "emulator", "taken", visibility="public", hardware="cpu")
    with pytest.raises(ra.ConflictError) as info:
        await twin(
            client.models.async_create, "emulator", "taken", visibility="public", hardware="cpu"
        )
    assert info.value.status == 409 and "emulator/taken" in str(info.value)


async def test_models_create_invalid_fields(twin: Twin, client: Client) -> None:
    with pytest.raises(ra.UnprocessableEntityError) as info:
        await twin(
            client.models.async_create, "emulator", "m", visibility="public", hardware="gpu-x"
        )
    assert [f["field"] for f in info.value.invalid_fields] == ["hardware"]
    with pytest.raises(ra.ConfigurationError):  # checked before sending
        await twin(client.models.async_create, "emulator", "m", visibility="secret", hardware="cpu")
    with pytest.raises(ra.ConfigurationError):
        await twin(client.models.async_update, "emulator/m")


@pytest.mark.replicate_emulator(page_size=1)
async def test_models_readme_and_examples(twin: Twin, client: Client) -> None:
    readme = await twin(client.models.async_readme, HELLO)
    assert isinstance(readme, str) and HELLO in readme
    page = await twin(client.models.async_examples, HELLO)
    assert len(page) == 1 and page.next is not None
    examples = await twin.items(page)
    assert len(examples) == 2 and all(isinstance(p, ra.Prediction) for p in examples)
    assert {p.model for p in examples} == {HELLO}


@pytest.mark.replicate_emulator(page_size=1)
async def test_versions_list_all_pages_and_get(twin: Twin, client: Client) -> None:
    page = await twin(client.models.versions.async_list, HELLO)
    assert len(page) == 1
    ids = [v.id for v in await twin.items(page)]
    assert ids == [HELLO_VERSION, HELLO_VERSION_OLD]
    version = await twin(client.models.versions.async_get, HELLO, HELLO_VERSION_OLD)
    assert isinstance(version, ra.Version) and version.cog_version == "0.3.0"
    assert version.openapi_schema and "components" in version.openapi_schema
    with pytest.raises(ra.NotFoundError):
        await twin(client.models.versions.async_get, HELLO, "0" * 64)


async def test_versions_delete_of_another_owner_is_forbidden(twin: Twin, client: Client) -> None:
    with pytest.raises(ra.PermissionDeniedError):
        await twin(client.models.versions.async_delete, HELLO, HELLO_VERSION_OLD)


async def test_models_predictions_create_official_model(twin: Twin, client: Client) -> None:
    prediction = await twin(
        client.models.predictions.async_create, LLAMA, {"prompt": "Hi", "max_tokens": 8}, wait=10
    )
    assert isinstance(prediction, ra.Prediction) and prediction.model == LLAMA
    await twin(prediction.async_wait, timeout=10)
    assert prediction.status == "succeeded" and prediction.output

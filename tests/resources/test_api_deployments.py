"""``client.deployments`` (+ ``.predictions``) against the emulator, in both twins."""

from __future__ import annotations

import pytest
from resource_support import Twin, api_requests

import replicate_async as ra
from replicate_async import Client
from replicate_async.emulator import Emulator

SDXL = "stability-ai/sdxl"
SDXL_VERSION = "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"
HELLO = "replicate/hello-world"
HELLO_VERSION = "0000000000000000cde1a443fb5c271536f3fbcf69adf80bf7ecb441405a9e44"


async def _create(twin: Twin, client: Client, name: str = "my-app", **kw: object) -> ra.Deployment:
    options: dict[str, object] = {
        "model": HELLO,
        "version": HELLO_VERSION,
        "hardware": "cpu",
        "min_instances": 0,
        "max_instances": 1,
        **kw,
    }
    return await twin(client.deployments.async_create, name=name, **options)


async def test_create_get_update_delete(twin: Twin, client: Client) -> None:
    created = await _create(twin, client, model=SDXL, version=f"{SDXL}:{SDXL_VERSION}")
    assert isinstance(created, ra.Deployment) and created.id == "emulator/my-app"
    release = created.current_release
    assert release is not None and release.number == 1
    assert (release.model, release.version) == (SDXL, SDXL_VERSION)
    assert release.configuration is not None and release.configuration.hardware == "cpu"

    fetched = await twin(client.deployments.async_get, "emulator/my-app")
    assert fetched.current_release == release

    updated = await twin(
        client.deployments.async_update, fetched, hardware="gpu-t4", max_instances=3
    )
    new = updated.current_release
    assert new is not None and new.number == 2 and new.configuration is not None
    assert (new.configuration.hardware, new.configuration.max_instances) == ("gpu-t4", 3)
    assert new.configuration.min_instances == 0  # fields not given are not changed

    assert await twin(client.deployments.async_delete, "emulator/my-app") is None
    with pytest.raises(ra.NotFoundError):
        await twin(client.deployments.async_get, "emulator/my-app")


@pytest.mark.replicate_emulator(page_size=2)
async def test_list_every_page(twin: Twin, client: Client) -> None:
    for name in ("one", "two", "three"):
        await _create(twin, client, name)
    page = await twin(client.deployments.async_list)
    assert len(page) == 2 and page.next is not None
    names = [d.name for d in await twin.items(page)]
    assert sorted(names) == ["one", "three", "two"]


async def test_name_taken_is_conflict(twin: Twin, client: Client) -> None:
    await _create(twin, client)
    with pytest.raises(ra.ConflictError) as info:
        await _create(twin, client)
    assert info.value.status == 409


async def test_unknown_version_is_422_with_invalid_fields(twin: Twin, client: Client) -> None:
    with pytest.raises(ra.UnprocessableEntityError) as info:
        await _create(twin, client, version="0" * 64)
    assert [f["field"] for f in info.value.invalid_fields] == ["version"]


@pytest.mark.parametrize(
    "bad",
    [
        {"min_instances": 6},
        {"min_instances": -1},
        {"max_instances": 21},
        {"max_instances": True},
        {"min_instances": 1.5},
    ],
)
async def test_instance_ranges_checked_before_sending(
    twin: Twin, client: Client, replicate_emulator: Emulator, bad: dict[str, object]
) -> None:
    with pytest.raises(ra.ConfigurationError, match="instances must be an integer"):
        await _create(twin, client, **bad)
    with pytest.raises(ra.ConfigurationError, match="instances must be an integer"):
        await twin(client.deployments.async_update, "emulator/x", **bad)
    assert replicate_emulator.requests == []


async def test_update_needs_a_field_and_refs_are_checked(
    twin: Twin, client: Client, replicate_emulator: Emulator
) -> None:
    with pytest.raises(ra.ConfigurationError, match="at least one"):
        await twin(client.deployments.async_update, "emulator/my-app")
    with pytest.raises(ra.InvalidReferenceError):
        await twin(client.deployments.async_get, "emulator/my-app:abc")
    with pytest.raises(ra.ConfigurationError):
        await _create(twin, client, "owner/name")
    assert replicate_emulator.requests == []


async def test_predictions_create_on_a_deployment(
    twin: Twin, client: Client, replicate_emulator: Emulator
) -> None:
    deployment = await _create(twin, client)
    prediction = await twin(
        client.deployments.predictions.async_create,
        "emulator/my-app",
        {"text": "Dee"},
        wait=10,
        cancel_after=60,
    )
    assert isinstance(prediction, ra.Prediction) and prediction.deployment == "emulator/my-app"
    await twin(prediction.async_wait, timeout=10)
    assert prediction.output == "hello Dee"
    by_object = await twin(client.deployments.predictions.async_create, deployment, {"text": "Eve"})
    assert by_object.deployment == "emulator/my-app"
    sent = api_requests(replicate_emulator, "deployments.predictions.create")
    assert [r.path for r in sent] == ["/v1/deployments/emulator/my-app/predictions"] * 2
    assert sent[0].headers["Prefer"] == "wait=10" and sent[0].headers["Cancel-After"] == "1m"


async def test_predictions_create_on_a_missing_deployment_is_404(
    twin: Twin, client: Client
) -> None:
    with pytest.raises(ra.NotFoundError):
        await twin(client.deployments.predictions.async_create, "emulator/nope", {"text": "x"})

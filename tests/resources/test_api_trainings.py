"""``client.trainings`` and bound ``Training`` methods against the emulator, in both twins."""

from __future__ import annotations

import inspect

import pytest
from resource_support import Twin, api_requests

import replicate_async as ra
from replicate_async import Client
from replicate_async.emulator import Emulator
from replicate_async.resources.trainings import training_target

TRAINER = "replicate/fast-flux-trainer"
IMAGES = {"input_images": "https://example.com/images.zip"}


async def _trainer_version(client: Client) -> str:
    model = await client.models.async_get(TRAINER)
    assert model.latest_version is not None
    return model.latest_version.id


async def _destination(client: Client, name: str = "my-flux") -> str:
    await client.models.async_create("emulator", name, visibility="private", hardware="gpu-t4")
    return f"emulator/{name}"


def test_twins_have_identical_signatures__peer_defect_27() -> None:
    trainings = ra.Client("r8_x").trainings
    for name in ("create", "get", "list", "cancel"):
        blocking, coroutine = getattr(trainings, name), getattr(trainings, f"async_{name}")
        assert inspect.signature(blocking) == inspect.signature(coroutine), name
        assert blocking.__doc__ == coroutine.__doc__
        assert inspect.iscoroutinefunction(coroutine) and not inspect.iscoroutinefunction(blocking)


def test_training_target_forms() -> None:
    v = "a" * 64
    assert training_target(f"{TRAINER}:{v}", None) == ("replicate", "fast-flux-trainer", v)
    assert training_target(TRAINER, v) == ("replicate", "fast-flux-trainer", v)
    with pytest.raises(ra.ConfigurationError, match="version"):
        training_target(TRAINER, None)


@pytest.mark.parametrize("form", ["joined", "separate", "keywords"])
async def test_create_wait_and_the_new_version(
    twin: Twin, client: Client, replicate_emulator: Emulator, form: str
) -> None:
    version = await _trainer_version(client)
    destination = await _destination(client)
    options = {"destination": destination, "input": IMAGES}
    if form == "joined":
        training = await twin(client.trainings.async_create, f"{TRAINER}:{version}", **options)
    elif form == "separate":
        training = await twin(client.trainings.async_create, TRAINER, version, **options)
    else:
        training = await twin(
            client.trainings.async_create, model=TRAINER, version=version, **options
        )
    assert isinstance(training, ra.Training) and training.status == "starting"
    assert (training.model, training.version) == (TRAINER, version)
    (sent,) = api_requests(replicate_emulator, "trainings.create")
    assert sent.path == f"/v1/models/{TRAINER}/versions/{version}/trainings"

    assert await twin(training.async_wait, timeout=10) is training
    assert training.status == "succeeded" and training.new_version is not None
    model_ref, _, new_id = training.new_version.partition(":")
    assert model_ref == destination and len(new_id) == 64
    # The destination model gained the version.
    gained = await twin(client.models.versions.async_get, destination, new_id)
    assert gained.id == new_id
    latest = (await twin(client.models.async_get, destination)).latest_version
    assert latest is not None and latest.id == new_id
    # ... and it can be deleted again (202, no body).
    assert await twin(client.models.versions.async_delete, destination, new_id) is None
    with pytest.raises(ra.NotFoundError):
        await twin(client.models.versions.async_get, destination, new_id)


async def test_create_with_webhook_and_a_file_input(twin: Twin, client: Client) -> None:
    version = await _trainer_version(client)
    training = await twin(
        client.trainings.async_create,
        f"{TRAINER}:{version}",
        destination=await _destination(client),
        input={"input_images": b"PK\x05\x06" + bytes(18)},  # an empty zip archive
        webhook="http://127.0.0.1:9/hook",
        webhook_events_filter=["completed"],
        file_encoding="data_uri",
    )
    assert training.webhook == "http://127.0.0.1:9/hook"
    assert training.webhook_events_filter == ["completed"]
    assert training.input is not None and training.input["input_images"].startswith("data:")
    await twin(training.async_wait, timeout=10)
    assert training.status == "succeeded"


async def test_missing_destination_is_not_found(twin: Twin, client: Client) -> None:
    version = await _trainer_version(client)
    with pytest.raises(ra.NotFoundError) as info:
        await twin(
            client.trainings.async_create,
            f"{TRAINER}:{version}",
            destination="emulator/does-not-exist",
            input=IMAGES,
        )
    assert info.value.status == 404 and "emulator/does-not-exist" in str(info.value)


async def test_invalid_training_input_lists_invalid_fields(twin: Twin, client: Client) -> None:
    version = await _trainer_version(client)
    with pytest.raises(ra.UnprocessableEntityError) as info:
        await twin(
            client.trainings.async_create,
            f"{TRAINER}:{version}",
            destination=await _destination(client),
            input={"training_steps": 1},
        )
    fields = {f["field"]: f["type"] for f in info.value.invalid_fields}
    assert fields.get("input.input_images") == "required"
    assert fields.get("input.training_steps") == "number_gte"


async def test_unknown_version_is_not_found(twin: Twin, client: Client) -> None:
    with pytest.raises(ra.NotFoundError):
        await twin(
            client.trainings.async_create,
            TRAINER,
            "0" * 64,
            destination=await _destination(client),
            input=IMAGES,
        )


@pytest.mark.replicate_emulator(page_size=2, model_timings={TRAINER: (1000.0, 1000.0)})
async def test_get_list_every_page_and_cancel(twin: Twin, client: Client) -> None:
    version = await _trainer_version(client)
    destination = await _destination(client)
    made = [
        await client.trainings.async_create(
            f"{TRAINER}:{version}", destination=destination, input=IMAGES
        )
        for _ in range(3)
    ]
    page = await twin(client.trainings.async_list)
    assert len(page) == 2 and page.next is not None
    assert [t.id for t in await twin.items(page)] == [t.id for t in reversed(made)]

    fetched = await twin(client.trainings.async_get, made[0].id)
    assert fetched.id == made[0].id and fetched.status in ("starting", "processing")
    canceled = await twin(client.trainings.async_cancel, made[0].id)
    assert canceled.status == "canceled"
    assert await twin(made[1].async_cancel) is made[1] and made[1].status == "canceled"
    assert await twin(made[0].async_reload) is made[0] and made[0].status == "canceled"
    with pytest.raises(ra.NotFoundError):
        await twin(client.trainings.async_get, "a" * 26)

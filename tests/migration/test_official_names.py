"""The official client's names and shapes, and ``on_progress``, against the emulator."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import replicate_async
from replicate_async import (
    Client,
    ModelError,
    Prediction,
    Progress,
    async_paginate,
    paginate,
)
from replicate_async.emulator import Emulator

SDXL = "stability-ai/sdxl"
SMALL = {"prompt": "a fox", "width": 64, "height": 64, "num_inference_steps": 10}


async def test_on_progress_reports_creation_changes_and_the_end(client: Client) -> None:
    reports: list[Prediction] = []

    async def on_progress(prediction: Prediction) -> None:
        await asyncio.sleep(0)
        reports.append(prediction)

    output = await client.run(SDXL, input=SMALL, wait=False, on_progress=on_progress)
    assert output and reports
    first, last = reports[0], reports[-1]
    assert first.id and not first.terminal  # the id is known at once
    assert all(r.id == first.id for r in reports)
    assert last.status == "succeeded" and last.metrics and "predict_time" in last.metrics
    changes = [(r.status, r.logs) for r in reports[:-1]]
    assert len(changes) == len(set(changes))  # only changes are reported
    assert any(r.progress is not None for r in reports[1:])  # tqdm lines were parsed


def test_on_progress_with_run_sync_and_a_failure(replicate_emulator_sync: Emulator) -> None:
    reports: list[str] = []
    with replicate_emulator_sync.client() as client:
        with pytest.raises(ModelError):
            client.run_sync(
                "replicate/always-fails", input={}, on_progress=lambda p: reports.append(p.status)
            )
        assert reports[0] in ("starting", "processing") and reports[-1] == "failed"

        def broken(_p: Prediction) -> None:
            raise RuntimeError("progress bug")

        # a callback that raises is logged, never breaks the run
        assert client.run_sync("replicate/hello-world", {"text": "x"}, on_progress=broken)


async def test_start_returns_at_once_and_runs_non_official_models(client: Client) -> None:
    prediction = await client.start("replicate/hello-world", {"text": "started"})
    assert prediction.id and prediction.status in ("starting", "processing")
    assert await prediction.async_result() == "hello started"


async def test_async_names(client: Client) -> None:
    assert await client.async_run("replicate/hello-world", input={"text": "a"}) == "hello a"
    plain = [str(e) async for e in client.async_stream("replicate/hello-world", {"text": "b"})]
    awaited = [
        str(e) async for e in await client.async_stream("replicate/hello-world", {"text": "b"})
    ]
    assert "".join(plain) == "".join(awaited) == "hello b"
    account = await client.accounts.async_current()
    assert account.username


async def test_urls_as_a_mapping_and_output_iterator(client: Client) -> None:
    prediction = await client.predictions.async_create(
        (await client.models.async_get(SDXL)).latest_version.id,  # type: ignore[union-attr]
        input={**SMALL, "num_outputs": 2},
    )
    urls = prediction.urls
    assert urls is not None
    assert urls["stream"] == urls.stream and "get" in urls and dict(urls)["cancel"] == urls.cancel
    with pytest.raises(KeyError):
        urls["nothing"]
    items = [item async for item in prediction.async_output_iterator()]
    assert len(items) == 2 and all(str(i).startswith("http") for i in items)
    assert prediction.status == "succeeded"


async def test_output_iterator_raises_for_a_failed_prediction(client: Client) -> None:
    model = await client.models.async_get("replicate/always-fails")
    prediction = await client.predictions.async_create(model.latest_version.id, input={})  # type: ignore[union-attr]
    with pytest.raises(ModelError):
        async for _ in prediction.async_output_iterator():
            pass


@pytest.mark.replicate_emulator(page_size=2)
async def test_paginate_yields_every_page_once(client: Client) -> None:
    for text in "abcde":
        await client.run("replicate/hello-world", input={"text": text})
    pages = [page async for page in async_paginate(client.predictions.async_list)]
    assert [len(p) for p in pages] == [2, 2, 1]

    def blocking_pages() -> list[Any]:
        return list(paginate(client.predictions.list))

    assert [len(p) for p in await asyncio.to_thread(blocking_pages)] == [2, 2, 1]


@pytest.mark.parametrize(
    ("logs", "expected"),
    [
        (" 45%|████      | 45/100 [00:02<00:03, 20.1it/s]", Progress(0.45, 45, 100)),
        ("Using seed: 1\n  0%|          | 0/28\n100%|██████████| 28/28", Progress(1.0, 28, 28)),
        ("10%|█| 1/10\r 20%|██| 2/10\nnot a bar", Progress(0.2, 2, 10)),  # redrawn with \r
        ("loading 45% done", None),
        ("", None),
    ],
)
def test_progress_is_parsed_like_the_official_client(logs: str, expected: Progress | None) -> None:
    assert Progress.parse(logs) == expected
    prediction = Prediction(id="p", logs=logs)
    assert prediction.progress == expected


@settings(max_examples=200, derandomize=True)
@given(st.text(max_size=300))
def test_progress_never_crashes_on_arbitrary_logs(logs: str) -> None:
    progress = Progress.parse(logs)
    assert progress is None or (progress.current >= 0 and progress.total >= 0)


def test_module_exposes_the_namespaces_lazily() -> None:
    assert "predictions" not in vars(replicate_async)
    with pytest.raises(AttributeError):
        replicate_async.no_such_thing  # noqa: B018


async def test_on_created_is_called_once_and_makes_no_request(
    client: Client, replicate_emulator: Emulator
) -> None:
    created: list[Prediction] = []

    def broken(_p: Prediction) -> None:
        raise RuntimeError("a callback bug")

    assert await client.run("replicate/hello-world", {"text": "x"}, on_created=created.append)
    assert len(created) == 1 and created[0].id
    gets = [r for r in replicate_emulator.requests if r.method == "GET"]
    assert not any(created[0].id in r.path for r in gets)  # sync mode: nothing polled
    assert await client.run("replicate/hello-world", {"text": "y"}, on_created=broken)


async def test_batch_items_adopt_existing_predictions(client: Client) -> None:
    started = await client.start("replicate/hello-world", {"text": "adopted"})
    items = [
        replicate_async.BatchItem(5, {"text": "new"}),
        replicate_async.BatchItem(8, {"text": "ignored"}, adopt=started.id),
    ]
    events: list[tuple[str, int]] = []
    results = [
        r
        async for r in client.batch(
            "replicate/hello-world",
            items,
            ordered=True,
            on_start=lambda item, _: events.append(("start", item.index)),
            on_created=lambda item, p: events.append(("created", item.index)),
        )
    ]
    assert [(r.index, r.output) for r in results] == [(5, "hello new"), (8, "hello adopted")]
    assert results[1].prediction_id == started.id
    assert ("start", 5) in events and ("created", 5) in events
    assert ("start", 8) not in events  # adopted: nothing created

"""Predictions over real HTTP: create (3 endpoints), lifecycle, sync mode, deadlines, cancel,
data removal, auth and error bodies (listing is in ``test_emulator_listing``)."""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import urlparse

import aiohttp
import pytest
from emu_helpers import AUTH, GEMMA, HELLO, LLAMA3, SDXL, call, poll

from replicate_async.emulator import Emulator, VirtualClock

ID = re.compile(r"^[a-z2-7]{26}$")
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")


async def test_create_official_model_lifecycle(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emu = replicate_emulator
    status, body, headers = await call(
        http,
        "POST",
        f"{emu.url}/models/{LLAMA3}/predictions",
        json={"input": {"prompt": "Hi", "seed": 3}},
    )
    assert status == 201
    assert ID.match(body["id"])
    assert body["status"] == "starting"
    assert body["model"] == LLAMA3
    assert body["version"].startswith("dp-")
    assert body["metrics"] == {} and body["output"] is None and body["logs"] == ""
    assert TS.match(body["created_at"])
    assert headers["Location"] == body["urls"]["get"] == f"{emu.url}/predictions/{body['id']}"
    assert body["urls"]["cancel"] == body["urls"]["get"] + "/cancel"
    stream = urlparse(body["urls"]["stream"])
    assert stream.port != urlparse(emu.url).port
    assert body["urls"]["stream"].startswith(emu.stream_url)
    assert "ratelimit-remaining" in headers and "ratelimit-reset" in headers

    seen = {body["status"]}
    final = await poll(
        http,
        body["urls"]["get"],
        done=lambda b: seen.add(b["status"]) or b["status"] == "succeeded",
    )
    assert "processing" in seen or "starting" in seen
    assert isinstance(final["output"], list) and "".join(final["output"])
    assert TS.match(final["started_at"]) and TS.match(final["completed_at"])
    metrics = final["metrics"]
    for key in (
        "predict_time",
        "total_time",
        "input_token_count",
        "output_token_count",
        "time_to_first_token",
        "tokens_per_second",
    ):
        assert key in metrics
    assert metrics["output_token_count"] == len(final["output"])
    assert "Random seed used: `3`" in final["logs"]


async def test_same_seed_same_text(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    outputs = []
    for _ in range(2):
        _, body, _ = await call(
            http,
            "POST",
            f"{replicate_emulator.url}/models/{LLAMA3}/predictions",
            json={"input": {"prompt": "Same", "seed": 42, "max_tokens": 30}},
            headers={"Prefer": "wait"},
            expect=201,
        )
        assert body["status"] == "succeeded"
        outputs.append("".join(body["output"]))
    assert outputs[0] == outputs[1]
    assert len(body["output"]) <= 30


async def test_three_version_forms_and_errors(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    url = f"{replicate_emulator.url}/predictions"
    for version in (f"stability-ai/sdxl:{SDXL}", SDXL, "meta/meta-llama-3-8b-instruct"):
        _, body, _ = await call(
            http, "POST", url, json={"version": version, "input": {"prompt": "x"}}, expect=201
        )
        assert body["model"] in ("stability-ai/sdxl", LLAMA3)
    for bad in ("stability-ai/sdxl", f"replicate/hello-world:{SDXL}", "0" * 64, "nope/nope"):
        _, body, headers = await call(
            http, "POST", url, json={"version": bad, "input": {"prompt": "x"}}, expect=422
        )
        assert body == {
            "title": "Invalid version or not permitted",
            "detail": "The specified version does not exist (or perhaps you don't have "
            "permission to use it?)",
            "status": 422,
        }
        assert headers["Content-Type"].startswith("application/problem+json")


async def test_models_endpoint_only_for_official(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    base = replicate_emulator.url
    _, body, _ = await call(
        http,
        "POST",
        f"{base}/models/google-deepmind/gemma-7b-it/predictions",
        json={"input": {"prompt": "x"}},
        expect=422,
    )
    assert body["title"] == "Invalid version or not permitted"
    await call(
        http, "POST", f"{base}/models/nobody/nothing/predictions", json={"input": {}}, expect=404
    )
    _, body, _ = await call(
        http, "POST", f"{base}/predictions", json={"version": GEMMA, "input": {}}, expect=201
    )
    assert body["version"] == GEMMA and "stream" in body["urls"]


async def test_request_body_rules(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    url = f"{replicate_emulator.url}/predictions"
    _, body, _ = await call(
        http,
        "POST",
        url,
        json={"version": HELLO, "input": {"text": "a"}, "extra": 1},
        expect=422,
    )
    assert body["invalid_fields"][0]["type"] == "additional_property_not_allowed"
    assert "- (root): Additional property extra is not allowed" in body["detail"]
    _, body, _ = await call(http, "POST", url, json={"version": HELLO}, expect=422)
    assert body["invalid_fields"][0]["type"] == "required"
    _status, body, headers = await call(http, "POST", url, data=b"{nope", expect=400)
    assert headers["Content-Type"].startswith("application/problem+json")
    assert body["status"] == 400
    _, body, _ = await call(
        http,
        "POST",
        url,
        json={"version": HELLO, "input": {"text": "a"}, "webhook_events_filter": ["bogus"]},
        expect=422,
    )
    assert body["invalid_fields"][0]["type"] == "enum"
    # accepted fields
    await call(
        http,
        "POST",
        url,
        json={
            "version": HELLO,
            "input": {"text": "a"},
            "stream": True,
            "webhook": "http://127.0.0.1:9/hook",
            "webhook_events_filter": ["completed"],
        },
        expect=201,
    )


async def test_unknown_route_and_auth(replicate_emulator: Emulator) -> None:
    url = replicate_emulator.url
    async with aiohttp.ClientSession() as anon:
        _, body, headers = await call(anon, "GET", f"{url}/account", expect=401)
        assert body == {
            "title": "Unauthenticated",
            "detail": "You did not pass a valid authentication token",
            "status": 401,
        }
        assert headers["Content-Type"].startswith("application/problem+json")
        await call(anon, "GET", f"{url}/search?query=llama", expect=200)
        await call(anon, "GET", f"{url}/account", headers={"Authorization": "Token t"}, expect=200)
        await call(anon, "GET", f"{url}/account", headers={"Authorization": "Bearer "}, expect=401)
        _, body, _ = await call(anon, "GET", f"{url}/no/such/thing", headers=AUTH, expect=404)
        assert body["detail"] == "The requested resource could not be found."


@pytest.mark.replicate_emulator(token="r8_right")
async def test_configured_token(replicate_emulator: Emulator) -> None:
    url = replicate_emulator.url
    async with aiohttp.ClientSession() as s:
        await call(s, "GET", f"{url}/account", headers=AUTH, expect=401)
        ok = {"Authorization": "Bearer r8_right"}
        await call(s, "GET", f"{url}/account", headers=ok, expect=200)
    assert replicate_emulator.token == "r8_right"
    assert all("r8_right" not in str(r.headers) for r in replicate_emulator.requests)


async def test_prefer_wait(replicate_emulator: Emulator, http: aiohttp.ClientSession) -> None:
    url = f"{replicate_emulator.url}/predictions"
    _, body, headers = await call(
        http,
        "POST",
        url,
        json={"version": HELLO, "input": {"text": "Alice"}},
        headers={"Prefer": "wait=5"},
        expect=201,
    )
    assert headers["Preference-Applied"] == "wait=5"
    assert body["status"] == "succeeded" and body["output"] == "hello Alice"
    _, _, headers = await call(
        http, "POST", url, json={"version": HELLO, "input": {"text": "A"}}, expect=201
    )
    assert "Preference-Applied" not in headers
    await call(
        http,
        "POST",
        url,
        json={"version": HELLO, "input": {"text": "A"}},
        headers={"Prefer": "wait=61"},
        expect=400,
    )


@pytest.mark.replicate_emulator(model_timings={"replicate/hello-world": (200.0, 0.0)})
async def test_prefer_wait_runs_out(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    # 200 s of queue at speed 200 = 1 s; a 1 s wait returns the unfinished prediction
    _, body, headers = await call(
        http,
        "POST",
        f"{replicate_emulator.url}/predictions",
        json={"version": HELLO, "input": {"text": "A"}},
        headers={"Prefer": "wait=1"},
        expect=201,
    )
    assert headers["Preference-Applied"] == "wait=1"
    assert body["status"] in ("starting", "processing")


# The keys of the recorded sync-mode answers (test_predictions_create_blocking[*].yaml,
# SDXL 7762fd07…; test_models_predictions_create_blocking[True-10].yaml, Llama 3).
SYNC_KEYS = [
    "id", "model", "version", "input", "logs", "output", "data_removed", "error", "status",
    "created_at", "urls",
]  # fmt: skip


SDXL_SMALL = {"version": SDXL, "input": {"prompt": "x", "width": 16, "height": 8}}


async def sync_create(
    http: aiohttp.ClientSession, emu: Emulator, body: dict[str, Any], prefer: str = "wait"
) -> tuple[dict[str, Any], Any]:
    """A ``Prefer`` create: its body and headers."""
    _, answer, headers = await call(
        http, "POST", f"{emu.url}/predictions", json=body, headers={"Prefer": prefer}, expect=201
    )
    return answer, headers


@pytest.mark.parametrize("prefer", ["wait", "wait=10"])
async def test_sync_mode_file_outputs_answer_as_recorded(
    replicate_emulator: Emulator, http: aiohttp.ClientSession, prefer: str
) -> None:
    # Recorded: 201, Preference-Applied echoed, status processing, the complete output as
    # data:image/png;base64 URIs, logs "", no metrics/started_at/completed_at, and a file stream.
    emu = replicate_emulator
    body, headers = await sync_create(http, emu, SDXL_SMALL, prefer)
    assert headers["Preference-Applied"] == prefer
    assert list(body) == SYNC_KEYS
    assert body["status"] == "processing" and body["logs"] == "" and body["error"] is None
    assert body["data_removed"] is False
    [uri] = body["output"]
    assert uri.startswith("data:image/png;base64,")
    assert body["urls"]["stream"].startswith(f"{emu.stream_url}/v1/files/")
    # A later GET is the stored prediction: delivery URLs holding the same bytes.
    final = await poll(http, body["urls"]["get"])
    assert final["status"] == "succeeded" and "metrics" in final
    [url] = final["output"]
    assert url.startswith(emu.delivery_url + "/pbxt/")
    async with http.get(url) as resp:
        assert "data:image/png;base64," + base64.b64encode(await resp.read()).decode() == uri


@pytest.mark.parametrize("waiting", [True, False])
async def test_a_waiting_creates_files_exist_before_the_prediction_completes(
    replicate_emulator: Emulator,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
    waiting: bool,
) -> None:
    """A model writes its files, then ends: the image a sync-mode answer inlines is made
    before ``completed_at`` is stamped, not after (which delayed every such answer by the
    time to draw it). Without a waiting create, nothing is drawn until it is downloaded."""
    emu = replicate_emulator
    engine = emu._core.engine
    drawn_at_finish: list[bool] = []
    finish = engine._finish

    def checking_finish(job: Any, status: str) -> None:
        delivery = emu._core.store.delivery
        drawn_at_finish.extend(delivery[path].data is not None for path in job.file_paths)
        finish(job, status)

    monkeypatch.setattr(engine, "_finish", checking_finish)
    if waiting:
        body, _ = await sync_create(http, emu, SDXL_SMALL)
        assert body["output"][0].startswith("data:image/png;base64,")
        assert drawn_at_finish == [True]
    else:
        _, created, _ = await call(
            http, "POST", f"{emu.url}/predictions", json=SDXL_SMALL, expect=201
        )
        final = await poll(http, created["urls"]["get"])
        assert final["status"] == "succeeded"
        assert drawn_at_finish == [False]


async def test_sync_urls_waits_for_the_end_and_answers_urls(
    emulator_factory: Any, http: aiohttp.ClientSession
) -> None:
    async with emulator_factory(sync_urls=True) as emu:
        body, _ = await sync_create(http, emu, SDXL_SMALL)
        assert body["status"] == "succeeded" and body["metrics"]["predict_time"] > 0
        assert body["output"][0].startswith(emu.delivery_url + "/pbxt/")


async def test_sync_mode_text_outputs_wait_for_the_end_unless_sync_quirk(
    emulator_factory: Any, http: aiohttp.ClientSession
) -> None:
    for quirk in (False, True):
        async with emulator_factory(sync_quirk=quirk) as emu:
            body, _ = await sync_create(http, emu, {"version": HELLO, "input": {"text": "Alice"}})
            assert body["output"] == "hello Alice"
            if quirk:
                assert body["status"] == "processing" and list(body) == SYNC_KEYS
            else:
                assert body["status"] == "succeeded" and "completed_at" in body


@pytest.mark.parametrize("header", ["4", "4s", "0m", "abc", "1x"])
async def test_cancel_after_invalid(
    replicate_emulator: Emulator, http: aiohttp.ClientSession, header: str
) -> None:
    await call(
        http,
        "POST",
        f"{replicate_emulator.url}/predictions",
        json={"version": HELLO, "input": {"text": "a"}},
        headers={"Cancel-After": header},
        expect=422,
    )


async def test_cancel_after_deadlines(emulator_factory: Any, http: aiohttp.ClientSession) -> None:
    # speed 100: a 5 s deadline passes after 50 ms of real time
    timings = {"replicate/hello-world": (60.0, 0.0), "stability-ai/sdxl": (0.0, 60.0)}
    async with emulator_factory(speed=100, model_timings=timings) as emu:
        _, queued, _ = await call(
            http,
            "POST",
            f"{emu.url}/predictions",
            json={"version": HELLO, "input": {"text": "a"}},
            headers={"Cancel-After": "5s"},
            expect=201,
        )
        assert TS.match(queued["deadline"])
        _, running, _ = await call(
            http,
            "POST",
            f"{emu.url}/predictions",
            json={"version": SDXL, "input": {"prompt": "a"}},
            headers={"Cancel-After": "6"},
            expect=201,
        )
        aborted = await poll(http, queued["urls"]["get"])
        canceled = await poll(http, running["urls"]["get"])
        assert aborted["status"] == "aborted" and "started_at" not in aborted
        assert canceled["status"] == "canceled" and "started_at" in canceled


async def test_cancel(emulator_factory: Any, http: aiohttp.ClientSession) -> None:
    async with emulator_factory(speed=1) as emu:
        _, body, _ = await call(
            http,
            "POST",
            f"{emu.url}/predictions",
            json={"version": SDXL, "input": {"prompt": "a"}},
            expect=201,
        )
        _, canceled, _ = await call(http, "POST", body["urls"]["cancel"], expect=200)
        assert canceled["status"] == "canceled" and TS.match(canceled["completed_at"])
        _, again, _ = await call(http, "POST", body["urls"]["cancel"], expect=200)
        assert again == canceled
        await call(http, "POST", f"{emu.url}/predictions/nope/cancel", expect=404)
        await call(http, "GET", f"{emu.url}/predictions/nope", expect=404)
        # a finished prediction is returned unchanged
        _, done, _ = await call(
            http,
            "POST",
            f"{emu.url}/models/replicate/instant/predictions",
            json={"input": {"text": "x"}},
            expect=201,
        )
        assert done["status"] == "succeeded"
        _, after, _ = await call(http, "POST", done["urls"]["cancel"], expect=200)
        assert after == done


async def test_logs_grow_step_by_step(emulator_factory: Any, http: aiohttp.ClientSession) -> None:
    # Virtual time: each step of the run is read once, however slow the machine is.
    clock = VirtualClock()
    async with emulator_factory(clock=clock) as emu:
        _, body, _ = await call(
            http,
            "POST",
            f"{emu.url}/predictions",
            json={"version": SDXL, "input": {"prompt": "a", "width": 8, "height": 8}},
            expect=201,
        )
        lengths = []
        for _ in range(100):
            _, now, _ = await call(http, "GET", body["urls"]["get"], expect=200)
            lengths.append(len(now["logs"]))
            due = clock.next_deadline()
            if now["status"] == "succeeded" or due is None:
                break
            await clock.advance(due)
        assert now["status"] == "succeeded"
        assert len(set(lengths)) >= 10 and lengths == sorted(lengths)  # ten progress ticks


async def test_a_failing_model_fails_with_its_traceback(
    emulator_factory: Any, http: aiohttp.ClientSession
) -> None:
    async with emulator_factory() as emu:
        _, fails, _ = await call(
            http,
            "POST",
            f"{emu.url}/predictions",
            json={"version": "replicate/always-fails:" + SDXL},
            expect=422,
        )
        model = emu._core.catalog.models["replicate/always-fails"]
        assert model.latest is not None
        _, fails, _ = await call(
            http,
            "POST",
            f"{emu.url}/predictions",
            json={"version": model.latest.id, "input": {}},
            headers={"Prefer": "wait"},
            expect=201,
        )
        assert fails["status"] == "failed"
        assert "always fails" in fails["error"] and "Traceback" in fails["logs"]


async def test_data_removed_after_retention(
    emulator_factory: Any, http: aiohttp.ClientSession
) -> None:
    async with emulator_factory(retention=0.3, sync_urls=True) as emu:
        _, body, _ = await call(
            http,
            "POST",
            f"{emu.url}/predictions",
            json={"version": SDXL, "input": {"prompt": "a", "width": 8, "height": 8}},
            headers={"Prefer": "wait"},
            expect=201,
        )
        file_url = body["output"][0]
        async with aiohttp.ClientSession() as anon:
            await call(anon, "GET", file_url, expect=200)
            final = await poll(http, body["urls"]["get"], done=lambda b: b["data_removed"])
            assert final["output"] is None and final["input"] == {} and final["logs"] == ""
            assert final["status"] == "succeeded"
            await call(anon, "GET", file_url, expect=404)


async def test_defaults_applied_and_input_echoed(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    _, body, _ = await call(
        http,
        "POST",
        f"{replicate_emulator.url}/models/{LLAMA3}/predictions",
        json={"input": {"prompt": "Hi"}},
        expect=201,
    )
    assert body["input"] == {"prompt": "Hi"}
    run_input = replicate_emulator.predictions[body["id"]].run_input
    assert run_input["max_tokens"] == 512 and run_input["temperature"] == 0.7
    assert run_input["system_prompt"] == "You are a helpful assistant"

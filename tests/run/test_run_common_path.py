"""The common ``run()`` path stays cheap, and its shortcuts build what the slow path builds.

Counts, not times: a run of a model that answers in its create makes one task of the client's
own (the create, which a cancelled caller must not cut off) and no ``asyncio.shield``; the
prediction built by ``Prediction.from_dict``'s direct path equals the converter's, field by
field, extras included, and anything else goes to the converter.
"""

from __future__ import annotations

import asyncio
import copy
import pickle
from collections.abc import Coroutine, Generator
from pathlib import Path
from typing import Any

import pytest

import replicate_async
from replicate_async import Client, InvalidResponseError, Prediction, PredictionURLs
from replicate_async._core.convert import structure
from replicate_async.types import _prediction_fast

PACKAGE = Path(replicate_async.__file__).parent
EMULATOR = PACKAGE / "emulator"


def _ours(coro: Any) -> bool:
    """Whether a task's coroutine is the client's own (not the emulator's, not aiohttp's)."""
    code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
    if code is None:
        return False
    path = Path(code.co_filename)
    return PACKAGE in path.parents and EMULATOR not in path.parents


class _TaskCounter:
    def __init__(self) -> None:
        self.ours: list[str] = []

    def __call__(
        self,
        loop: asyncio.AbstractEventLoop,
        coro: Coroutine[Any, Any, Any] | Generator[Any, None, Any],
        **kwargs: Any,
    ) -> asyncio.Task[Any]:
        if _ours(coro):
            self.ours.append(getattr(coro, "__qualname__", repr(coro)))
        return asyncio.Task(coro, loop=loop, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("cancel_on_exit", "tasks"), [(True, 1), (False, 0)])
async def test_a_run_answered_in_its_create_makes_one_task_and_no_shield(
    client: Client, monkeypatch: pytest.MonkeyPatch, cancel_on_exit: bool, tasks: int
) -> None:
    shields: list[object] = []
    real_shield = asyncio.shield

    def counting_shield(arg: Any) -> Any:
        shields.append(arg)
        return real_shield(arg)

    monkeypatch.setattr(asyncio, "shield", counting_shield)
    kwargs = {"cancel_on_exit": cancel_on_exit}
    # warm up: the version's schema, the session, the model's latest version
    assert await client.run("replicate/hello-world", input={"text": "w"}, **kwargs) == "hello w"
    shields.clear()  # the warm-up's model lookup is shared by concurrent runs (shielded)
    loop = asyncio.get_running_loop()
    counter = _TaskCounter()
    previous = loop.get_task_factory()
    loop.set_task_factory(counter)  # type: ignore[arg-type]
    try:
        for i in range(5):
            output = await client.run("replicate/hello-world", input={"text": f"{i}"}, **kwargs)
            assert output == f"hello {i}"
    finally:
        loop.set_task_factory(previous)
    assert len(counter.ours) == 5 * tasks, counter.ours
    assert shields == []


# -- Prediction.from_dict: the direct path and the converter agree ---------------------------------
FULL: dict[str, Any] = {
    "id": "ufawqhfynnddngldkgtslldrkq",
    "model": "replicate/hello-world",
    "version": "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa",
    "input": {"text": "Alice"},
    "logs": "",
    "output": "hello Alice",
    "data_removed": False,
    "error": None,
    "status": "succeeded",
    "created_at": "2022-04-26T22:13:06.224088Z",
    "started_at": "2022-04-26T22:13:06.232088Z",
    "completed_at": "2022-04-26T22:13:06.62433Z",
    "deadline": "2022-04-27T22:13:06.224088+01:00",
    "metrics": {"predict_time": 0.39},
    "source": "api",
    "webhook": "https://example.com/hook",
    "webhook_events_filter": ["completed"],
    "deployment": None,
    "urls": {
        "get": "https://api.replicate.com/v1/predictions/ufawqhfynnddngldkgtslldrkq",
        "cancel": "https://api.replicate.com/v1/predictions/ufawqhfynnddngldkgtslldrkq/cancel",
        "stream": "https://stream.replicate.com/v1/files/abc",
        "web": None,
        "extra_url": "https://example.com",
    },
    "webhook_completed": None,
    "etag": "x",
    "extra": {"nested": 1},
}

SHAPES: list[dict[str, Any]] = [
    FULL,
    {"id": "a"},
    {"id": "a", "status": "starting", "urls": {}},
    {"id": "a", "urls": None, "created_at": None, "output": ["a", 1, None], "error": {"x": 1}},
    {"id": "a", "created_at": "2024-10-04 18:17:09", "completed_at": "2024-10-04T18:17:09.1Z"},
    {"id": "a", "completed_at": "2023-11-27T13:35:45.99397566Z"},
]
CONVERTED: list[dict[str, Any]] = [  # the direct path declines these; the converter converts
    {"id": 5, "status": "succeeded"},
    {"id": "a", "status": None},
    {"id": "a", "version": 3},
    {"id": "a", "data_removed": None},
    {"id": "a", "data_removed": 1},
    {"id": "a", "webhook_events_filter": ("completed",)},
    {"id": "a", "webhook_events_filter": ["completed", 1]},
    {"id": "a", "urls": {"get": 5}},
    {"id": "a", "_client": None},
]
INVALID: list[Any] = [  # the converter says what is wrong
    {},
    {"status": "succeeded"},
    {"id": "a", "created_at": "yesterday"},
    {"id": "a", "created_at": 5},
    {"id": "a", "urls": "https://x"},
    {"id": "a", "input": ["x"]},
]


def _same(a: Prediction, b: Prediction) -> None:
    assert a == b
    assert repr(a) == repr(b)
    assert a.extra == b.extra and a.to_dict() == b.to_dict()
    if a.urls is not None or b.urls is not None:
        assert isinstance(a.urls, PredictionURLs) and isinstance(b.urls, PredictionURLs)
        assert a.urls.extra == b.urls.extra and dict(a.urls) == dict(b.urls)
    for name in ("created_at", "started_at", "completed_at", "deadline"):
        assert getattr(a, name) == getattr(b, name)
        assert type(getattr(a, name)) is type(getattr(b, name))


@pytest.mark.parametrize("data", SHAPES, ids=range(len(SHAPES)))
def test_direct_path_builds_what_the_converter_builds(data: dict[str, Any]) -> None:
    fast = _prediction_fast(copy.deepcopy(data))
    assert fast is not None  # these are the shapes it is for
    _same(fast, structure(Prediction, copy.deepcopy(data)))
    built = Prediction.from_dict(copy.deepcopy(data))
    _same(built, fast)
    _same(pickle.loads(pickle.dumps(built)), built)
    _same(copy.deepcopy(built), built)


@pytest.mark.parametrize("data", CONVERTED, ids=range(len(CONVERTED)))
def test_other_shapes_go_to_the_converter(data: dict[str, Any]) -> None:
    assert _prediction_fast(copy.deepcopy(data)) is None
    _same(Prediction.from_dict(copy.deepcopy(data)), structure(Prediction, copy.deepcopy(data)))


@pytest.mark.parametrize("data", INVALID, ids=range(len(INVALID)))
def test_invalid_shapes_raise_what_the_converter_raises(data: Any) -> None:
    assert _prediction_fast(copy.deepcopy(data)) is None
    with pytest.raises(InvalidResponseError) as direct:
        Prediction.from_dict(copy.deepcopy(data))
    with pytest.raises(InvalidResponseError) as converted:
        structure(Prediction, copy.deepcopy(data))
    assert str(direct.value) == str(converted.value)


def test_the_direct_path_binds_the_client_and_keeps_unknown_fields() -> None:
    marker = object()
    built = Prediction.from_dict(FULL, client=marker)  # type: ignore[arg-type]
    assert built._client is marker
    assert built.extra == {"webhook_completed": None, "etag": "x", "extra": {"nested": 1}}
    assert built["etag"] == "x" and built.to_dict()["extra"] == {"nested": 1}
    assert built.urls is not None and built.urls.extra == {"extra_url": "https://example.com"}
    assert "web" not in built.urls and built.urls["stream"].startswith("https://stream.")


def test_spans_cost_nothing_until_a_tracer_provider_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    trace = pytest.importorskip("opentelemetry.trace")
    from opentelemetry.sdk.trace import TracerProvider

    from replicate_async._io import telemetry

    monkeypatch.setattr(trace, "_TRACER_PROVIDER", None)  # what trace.set_tracer_provider sets
    assert telemetry.tracer() is None  # OpenTelemetry's default: spans would go nowhere
    with telemetry.run_span("run", "a/b") as span:
        assert span._span is None
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", TracerProvider())
    assert telemetry.tracer() is not None  # set later: followed
    with telemetry.run_span("run", "a/b") as span:
        assert span._span is not None


def test_the_environment_s_proxies_are_read_at_the_first_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from yarl import URL

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    client = Client(api_token="r8_test", base_url="https://api.example.test/v1")
    api = URL("https://api.example.test/v1/predictions")
    assert client._transport.proxy_for(api) == URL("http://127.0.0.1:3128")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9999")  # later changes: not seen
    assert client._transport.proxy_for(api) == URL("http://127.0.0.1:3128")
    other = Client(api_token="r8_test", base_url="https://api.example.test/v1")
    assert other._transport.proxy_for(api) == URL("http://127.0.0.1:9999")  # a new client: seen
    derived = client.with_options(timeout=5)  # copies share what their client read
    assert derived._transport.proxy_for(api) == URL("http://127.0.0.1:3128")


# -- what a run builds once instead of per run -----------------------------------------------------
def test_default_run_options_are_one_shared_object_and_others_are_built() -> None:
    from replicate_async._ops.run import RunOptions

    assert RunOptions.of() is RunOptions.of()
    assert RunOptions.of() == RunOptions()
    one = RunOptions.of(wait=1)  # equal to True as a number, not as an option
    assert one is not RunOptions.of() and one.wait == 1 and one.sync_wait() == 1
    assert RunOptions.of(validate=True).validate is True
    with pytest.raises(replicate_async.ConfigurationError):
        RunOptions.of(file_encoding="zip")  # checked as before


def test_a_sync_mode_create_reads_for_its_wait_plus_the_margin_with_one_shared_timeout() -> None:
    from replicate_async._core.http_types import Request

    client = Client(api_token="r8_test", base_url="https://api.example.test/v1", timeout=7)
    transport = client._transport
    create = Request("POST", "/predictions", json={}, wait=5.0)
    timeout = transport._timeout(create)
    assert timeout.total is None and timeout.sock_read == 5.0 + transport.timeouts.wait_margin
    assert timeout.sock_connect == transport.timeouts.connect
    assert transport._timeout(Request("POST", "/predictions", json={}, wait=5.0)) is timeout
    plain = transport._timeout(Request("GET", "/account"))
    assert plain.total == 7 and plain.sock_read is None
    derived = client.with_options(timeout=3)._transport
    assert derived._timeout(Request("GET", "/account")).total == 3  # per client, not shared

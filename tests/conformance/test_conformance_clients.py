"""The official Python clients, unchanged, against the emulator: Replicate's documented user
scenarios, each in a subprocess (``replicate`` 1.x and 2.x cannot share an environment), and
every API response they saw validated against the published OpenAPI document.

The clients are installed by ``make conformance-clients`` (part of ``make test``). Without
them these tests skip, except under CI, where a missing client is a failure.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import pickle
from dataclasses import dataclass
from typing import Any

import pytest
from conformance_support import (
    CLIENTS,
    TOKEN,
    Exchange,
    Result,
    Scenario,
    client_installed,
    operation_for,
    run_all,
    shape_problems,
    spec_problems,
)

SLOW_HELLO = {"model_timings": {"replicate/hello-world": (3000.0, 6000.0)}}


@dataclass
class Case:
    """A scenario, marks for running it, and marks for validating what it saw."""

    scenario: Scenario
    marks: tuple[Any, ...] = ()
    spec_marks: tuple[Any, ...] = ()


def case(
    client: str, name: str, *marks: Any, spec_marks: tuple[Any, ...] = (), **options: Any
) -> Case:
    return Case(Scenario(client, name, options), marks, spec_marks)


CASES = [
    case("v1", "run_text"),
    case("v1", "run_image", tls=True),
    case("v1", "stream"),
    case("v1", "predictions", **SLOW_HELLO),
    case("v1", "file_outputs", tls=True),
    case("v1", "file_urls"),
    case("v1", "models"),
    case("v1", "files"),
    case("v1", "deployments"),
    case("v1", "trainings"),
    case("v1", "webhooks"),
    case("v1", "errors", token=TOKEN),
    case("v2", "run_text"),
    case("v2", "run_image", tls=True),
    case("v2", "stream"),
    case("v2", "predictions", **SLOW_HELLO),
    case("v2", "file_outputs", tls=True),
    case("v2", "file_urls"),
    case("v2", "models"),
    case("v2", "files"),
    case("v2", "deployments"),
    case("v2", "trainings"),
    case("v2", "webhooks"),
    case("v2", "errors", token=TOKEN),
]
SCENARIOS = [pytest.param(c.scenario, id=c.scenario.id, marks=c.marks) for c in CASES]
SPEC_SCENARIOS = [pytest.param(c.scenario, id=c.scenario.id, marks=c.spec_marks) for c in CASES]


SHAPE_CASES = [
    pytest.param(client, kind, id=f"{client}-{kind}")
    for client in CLIENTS
    for kind in ("files", "trainings", "models")
]


def _selected(session: pytest.Session) -> list[Scenario]:
    found: dict[str, Scenario] = {}
    for item in session.items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else {}
        value = params.get("scenario")
        if isinstance(value, Scenario):
            found[value.id] = value
        if params.get("kind") in ("files", "trainings", "models"):
            # A shape check reads what every scenario of its client saw.
            found.update(
                {
                    c.scenario.id: c.scenario
                    for c in CASES
                    if c.scenario.client == params.get("client")
                }
            )
    return list(found.values())


@pytest.fixture(scope="session")
def conformance_results(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Result]:
    """Run every selected scenario once, a few at a time, and keep the results.

    Under pytest-xdist every worker collects the same tests, so the first worker that needs
    the results makes them (holding a lock) and leaves them where the others find them: the
    scenarios run once per test run, not once per worker.
    """
    selected = [s for s in _selected(request.session) if client_installed(s.client)]
    if not hasattr(request.config, "workerinput"):
        return asyncio.run(run_all(selected))
    shared = tmp_path_factory.getbasetemp().parent  # one folder for all the workers
    saved = shared / "conformance-results.pickle"
    with open(shared / "conformance-results.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if saved.exists():
            results: dict[str, Result] = pickle.loads(saved.read_bytes())
        else:
            results = asyncio.run(run_all(selected))
            saved.write_bytes(pickle.dumps(results))
    return results


def _result(results: dict[str, Result], scenario: Scenario) -> Result:
    if not client_installed(scenario.client):
        version = CLIENTS[scenario.client]
        message = f"replicate=={version} is not installed: run `make conformance-clients`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return results[scenario.id]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario(conformance_results: dict[str, Result], scenario: Scenario) -> None:
    result = _result(conformance_results, scenario)
    assert result.returncode == 0, result.describe()
    assert "OK" in result.stdout.splitlines()[-1], result.describe()


@pytest.mark.parametrize("scenario", SPEC_SCENARIOS)
def test_responses_match_spec(conformance_results: dict[str, Result], scenario: Scenario) -> None:
    result = _result(conformance_results, scenario)
    json_bodies = [e for e in result.exchanges if e.body and "json" in e.content_type]
    assert json_bodies, "the scenario made no API request with a JSON answer"
    problems = [p for e in result.exchanges for p in spec_problems(e)]
    assert not problems, "\n".join(problems[:40])


@pytest.mark.parametrize(("client", "kind"), SHAPE_CASES)
def test_field_shapes_match_recorded_traffic(
    conformance_results: dict[str, Result], client: str, kind: str
) -> None:
    """Fields the spec leaves open, shaped as real responses shape them (files' md5 checksum,
    trainings' null ``output``/``completed_at``, models' ``weights_url``)."""
    exchanges = [
        e
        for c in CASES
        if c.scenario.client == client
        for e in _result(conformance_results, c.scenario).exchanges
    ]
    seen, problems = shape_problems(kind, exchanges)
    assert seen, f"the {client} scenarios saw no {kind}"
    assert not problems, "\n".join(problems[:20])


# -- the checker itself --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("GET", "/v1/models/a/b/versions", "/models/{model_owner}/{model_name}/versions"),
        ("GET", "/v1/models/a/b", "/models/{model_owner}/{model_name}"),
        ("QUERY", "/v1/models", "/models"),
        ("POST", "/v1/predictions/abc/cancel", "/predictions/{prediction_id}/cancel"),
        ("GET", "/v1/collections/text-to-image", "/collections/{collection_slug}"),
        ("DELETE", "/v1/files/abc", "/files/{file_id}"),
    ],
)
def test_requests_map_to_spec_operations(method: str, path: str, template: str) -> None:
    assert operation_for(method, path) == (method, template)


def test_unknown_operations_are_reported() -> None:
    assert operation_for("GET", "/v1/nope") is None
    assert operation_for("PATCH", "/v1/predictions") is None
    problems = spec_problems(Exchange("GET", "/v1/nope", 200, "application/json", b"{}"))
    assert problems and "no such operation" in problems[0]


def test_bodies_that_break_the_schema_are_reported() -> None:
    bad = json.dumps({"id": 42, "status": "starting"}).encode()
    problems = spec_problems(Exchange("GET", "/v1/predictions/abc", 200, "application/json", bad))
    assert any("id" in p for p in problems), problems
    assert any("required" in p for p in problems), problems
    # A success status the spec does not declare, and a body where the spec has none.
    assert spec_problems(Exchange("GET", "/v1/account", 299, "application/json", b"{}"))
    assert spec_problems(Exchange("DELETE", "/v1/files/abc", 204, "application/json", b"{}"))
    assert not spec_problems(Exchange("DELETE", "/v1/files/abc", 204, "", b""))
    good = {"type": "user", "username": "someone", "name": "Some One"}
    account = Exchange("GET", "/v1/account", 200, "application/json", json.dumps(good).encode())
    assert not spec_problems(account)


def test_shape_checks_accept_the_recorded_shapes() -> None:
    def exchange(method: str, path: str, body: Any) -> Exchange:
        return Exchange(method, path, 200, "application/json", json.dumps(body).encode())

    file = {"id": "f", "checksums": {"sha256": "a" * 64, "md5": "b" * 32}}
    training = {"id": "t", "status": "starting", "output": None, "completed_at": None}
    done = {"id": "t", "status": "succeeded", "output": {"version": "v"}, "completed_at": "x"}
    model = {"owner": "o", "name": "n", "weights_url": None}
    assert shape_problems("files", [exchange("GET", "/v1/files", {"results": [file]})]) == (
        1,
        [],
    )
    trainings = [
        exchange("GET", "/v1/trainings/t", training),
        exchange("GET", "/v1/trainings", {"results": [done]}),
    ]
    assert shape_problems("trainings", trainings) == (2, [])
    assert shape_problems(
        "models", [exchange("GET", "/v1/collections/c", {"models": [model]})]
    ) == (1, [])
    early = dict(training, completed_at="2024-01-01T00:00:00Z")
    seen, problems = shape_problems("trainings", [exchange("GET", "/v1/trainings/t", early)])
    assert seen == 1 and problems and "unfinished" in problems[0]
    no_md5 = {"id": "f", "checksums": {"sha256": "a" * 64}}
    assert shape_problems("files", [exchange("GET", "/v1/files/f", no_md5)])[1]

"""The official Python clients, unchanged, against the emulator: Replicate's documented user
scenarios, each in a subprocess (``replicate`` 1.x and 2.x cannot share an environment), and
every API response they saw validated against the published OpenAPI document.

The clients are installed by ``make conformance-clients`` (part of ``make test``). Without
them these tests skip, except under CI, where a missing client is a failure.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Any

import pytest
from conformance_support import (
    CLIENTS,
    Result,
    Scenario,
    client_installed,
    run_all,
    spec_problems,
)

SLOW_HELLO = {"model_timings": {"replicate/hello-world": (3000.0, 6000.0)}}


def defect(n: int, what: str) -> Any:
    """A scenario that fails only because of a known emulator defect (being fixed)."""
    return pytest.mark.xfail(strict=True, reason=f"emulator defect {n}: {what}")


TLS = defect(2, "no HTTPS mode (Emulator(tls=True), emu.ca_file)")


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
    case("v1", "run_image", TLS, spec_marks=(TLS,), tls=True),
    case("v1", "stream"),
    case("v1", "predictions", **SLOW_HELLO),
    case("v1", "file_outputs", TLS, spec_marks=(TLS,), tls=True),
    case("v1", "models"),
    case("v1", "files"),
    case("v1", "deployments"),
    case("v1", "trainings"),
    case("v1", "webhooks"),
    case("v2", "run_text"),
    case("v2", "run_image", TLS, spec_marks=(TLS,), tls=True),
    case("v2", "stream"),
    case("v2", "predictions", **SLOW_HELLO),
    case("v2", "file_outputs", TLS, spec_marks=(TLS,), tls=True),
    case("v2", "models"),
    case("v2", "files"),
    case("v2", "deployments"),
    case("v2", "trainings"),
    case("v2", "webhooks"),
]
SCENARIOS = [pytest.param(c.scenario, id=c.scenario.id, marks=c.marks) for c in CASES]
SPEC_SCENARIOS = [pytest.param(c.scenario, id=c.scenario.id, marks=c.spec_marks) for c in CASES]


def _selected(session: pytest.Session) -> list[Scenario]:
    found: dict[str, Scenario] = {}
    for item in session.items:
        callspec = getattr(item, "callspec", None)
        value = callspec.params.get("scenario") if callspec is not None else None
        if isinstance(value, Scenario):
            found[value.id] = value
    return list(found.values())


@pytest.fixture(scope="session")
def conformance_results(request: pytest.FixtureRequest) -> dict[str, Result]:
    """Run every selected scenario once, a few at a time, and keep the results."""
    selected = [s for s in _selected(request.session) if client_installed(s.client)]
    return asyncio.run(run_all(selected))


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

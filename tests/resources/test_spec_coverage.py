"""Every operation of Replicate's OpenAPI document has a client method, in both twins.

The table maps each ``operationId`` of ``replicate_async/emulator/openapi.json`` to where it
lives on a :class:`Client` (a dotted namespace path, ``""`` for the client itself) and the
method name. The tests fail when the spec gains an operation the table lacks (or the table
names one the spec does not have), when a method or its ``async_`` twin is missing, or when the
twins differ (signature, docstring, or a blocking twin not made from its coroutine with
``blocking(...)``, PEER-DEFECTS 27).
"""

from __future__ import annotations

import inspect
import json
from importlib import resources
from typing import Any

import pytest

from replicate_async import Client

OPERATIONS: dict[str, tuple[str, str]] = {
    "account.get": ("account", "get"),
    "collections.list": ("collections", "list"),
    "collections.get": ("collections", "get"),
    "deployments.list": ("deployments", "list"),
    "deployments.create": ("deployments", "create"),
    "deployments.get": ("deployments", "get"),
    "deployments.update": ("deployments", "update"),
    "deployments.delete": ("deployments", "delete"),
    "deployments.predictions.create": ("deployments.predictions", "create"),
    "files.list": ("files", "list"),
    "files.create": ("files", "create"),
    "files.get": ("files", "get"),
    "files.delete": ("files", "delete"),
    "files.download": ("files", "download"),
    "hardware.list": ("hardware", "list"),
    "models.list": ("models", "list"),
    "models.create": ("models", "create"),
    "models.search": ("models", "search"),
    "models.get": ("models", "get"),
    "models.update": ("models", "update"),
    "models.delete": ("models", "delete"),
    "models.examples.list": ("models", "examples"),
    "models.predictions.create": ("models.predictions", "create"),
    "models.readme.get": ("models", "readme"),
    "models.versions.list": ("models.versions", "list"),
    "models.versions.get": ("models.versions", "get"),
    "models.versions.delete": ("models.versions", "delete"),
    "trainings.create": ("trainings", "create"),
    "trainings.list": ("trainings", "list"),
    "trainings.get": ("trainings", "get"),
    "trainings.cancel": ("trainings", "cancel"),
    "predictions.list": ("predictions", "list"),
    "predictions.create": ("predictions", "create"),
    "predictions.get": ("predictions", "get"),
    "predictions.cancel": ("predictions", "cancel"),
    "search": ("", "search"),
    "webhooks.default.secret.get": ("webhooks.default_secret", "get"),
}

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace", "query"}


def spec_operation_ids() -> list[str]:
    text = resources.files("replicate_async.emulator").joinpath("openapi.json").read_text()
    spec = json.loads(text)
    return [
        op["operationId"]
        for item in spec["paths"].values()
        for method, op in item.items()
        if method.lower() in HTTP_METHODS
    ]


def test_the_table_covers_exactly_the_spec() -> None:
    ids = spec_operation_ids()
    assert len(ids) == len(set(ids)) == 37
    assert sorted(set(ids) - set(OPERATIONS)) == [], "operations with no client method"
    assert sorted(set(OPERATIONS) - set(ids)) == [], "table entries the spec does not have"


def _namespace(client: Client, path: str) -> Any:
    target: Any = client
    for part in filter(None, path.split(".")):
        assert hasattr(target, part), f"client.{path} is missing ({part!r})"
        target = getattr(target, part)
    return target


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_operation_has_both_twins__peer_defect_27(operation: str) -> None:
    path, name = OPERATIONS[operation]
    client = Client("r8_not_used")  # nothing is sent: no session is ever opened
    namespace = _namespace(client, path)
    where = f"client.{path + '.' if path else ''}"
    # The naming rule: the client's own verbs are coroutines with a `_sync` twin; namespace
    # methods block, with an `async_` twin.
    coroutine_name, blocking_name = (name, f"{name}_sync") if not path else (f"async_{name}", name)
    for member in (coroutine_name, blocking_name):
        assert hasattr(namespace, member), f"{operation}: {where}{member} is missing"
    coroutine = getattr(type(namespace), coroutine_name)
    blocking = getattr(type(namespace), blocking_name)
    assert inspect.iscoroutinefunction(coroutine), f"{where}{coroutine_name} is not a coroutine"
    assert not inspect.iscoroutinefunction(blocking), f"{where}{blocking_name} is not blocking"
    # One source of truth: the blocking twin is `blocking(async_x)` (ARCHITECTURE rule 3).
    assert getattr(blocking, "__wrapped__", None) is coroutine, f"{where}{blocking_name} hand-made"
    assert inspect.signature(blocking) == inspect.signature(coroutine)
    assert blocking.__doc__ and blocking.__doc__ == coroutine.__doc__

"""Inputs checked against the version's schema before a create (``use()``, ``run(validate=True)``).

The schema of what a run targets is found the way the run itself finds its version, and
compiled once per version (versions never change) into an ``InputValidator`` shared by every
run of that version on the client; concurrent runs share one fetch. A bad input raises the
``UnprocessableEntityError`` the API would answer (``invalid_fields``), before any request
creates or uploads anything. When the schema cannot be fetched (a network error, a version
id without its model name, a model without a usable latest version) the run goes on
unchecked: the API still checks it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .._core.errors import ReplicateAsyncError, ReplicateError, ServerError
from .._core.input_schema import InputValidator, invalid_input_error, is_local_file
from .._core.refs import parse_ref
from ..types import Deployment, File, Model, Version
from .file_output import FileOutput
from .schemas import LATEST_TTL

if TYPE_CHECKING:
    from .context import OpsClient
    from .target import Target

__all__ = ["Loaded", "check_target_input", "load_target", "validators"]

log = logging.getLogger("replicate_async")

_MAX_VERSIONS = 256


@runtime_checkable
class _HasDeployments(Protocol):
    @property
    def deployments(self) -> Any: ...


def is_sent_as_file(value: object) -> bool:
    """Values the client sends as a URL: local files, earlier outputs, uploaded files."""
    return isinstance(value, FileOutput | File) or is_local_file(value)


class Loaded:
    """The schema of one version of what a run targets: version, model and validator."""

    __slots__ = ("model", "validator", "version")

    def __init__(self, version: Version, model: str | None) -> None:
        self.version = version
        self.model = model
        schema = version.openapi_schema
        self.validator = InputValidator.from_openapi(schema if isinstance(schema, dict) else {})


class _Validators:
    """Per client: loaded versions by id, deployments' versions, in-flight fetches."""

    def __init__(self) -> None:
        self.versions: dict[str, Loaded] = {}
        self.deployments: dict[str, tuple[float, str, str]] = {}
        self.pending: dict[tuple[asyncio.AbstractEventLoop, str], asyncio.Task[Loaded | None]] = {}

    def keep(self, loaded: Loaded) -> Loaded:
        if len(self.versions) >= _MAX_VERSIONS:
            self.versions.clear()
        if loaded.version.id:
            self.versions[loaded.version.id] = loaded
        return loaded


_BY_CLIENT: weakref.WeakKeyDictionary[object, _Validators] = weakref.WeakKeyDictionary()


def validators(client: OpsClient) -> _Validators:
    """The client's validator cache (kept beside its schema cache, dropped with it)."""
    found = _BY_CLIENT.get(client._schemas)
    if found is None:
        found = _BY_CLIENT[client._schemas] = _Validators()
    return found


async def load_target(client: OpsClient, target: Target) -> Loaded | None:
    """The version (with its schema) a run of ``target`` would use now; None when unknown.

    API errors propagate (``use(...).load()`` reports them); see ``check_target_input`` for
    the forgiving form."""
    cache = validators(client)
    hint = target.hint
    if isinstance(hint, Model):
        hint = hint.latest_version
    if isinstance(hint, Version) and isinstance(hint.openapi_schema, dict):
        known = cache.versions.get(hint.id)
        return known or cache.keep(Loaded(hint, target.model))
    create = target.create
    if "deployment" in create:
        found = await _deployment_version(client, cache, str(create["deployment"]))
        if found is None:
            return None
        model, version_id = found
        return await _version(client, cache, model, version_id)
    if "version" in create:
        ref = parse_ref(str(create["version"]))
        if ref.version is None or ref.owner is None:
            return None  # a bare version id: no endpoint serves its schema before a run
        return await _version(client, cache, f"{ref.owner}/{ref.name}", ref.version)
    if "model" in create and target.model is not None:
        found_model = await client._schemas.lookup_model(target.model)
        latest = found_model.latest_version
        if latest is None or not isinstance(latest.openapi_schema, dict):
            return None
        known = cache.versions.get(latest.id) if latest.id else None
        return known or cache.keep(Loaded(latest, target.model))
    return None


async def _deployment_version(
    client: OpsClient, cache: _Validators, name: str
) -> tuple[str, str] | None:
    entry = cache.deployments.get(name)
    if entry is not None and time.monotonic() - entry[0] <= LATEST_TTL:
        return entry[1], entry[2]
    if not isinstance(client, _HasDeployments):
        return None
    deployment: Deployment = await client.deployments.async_get(name)
    release = deployment.current_release
    if release is None or not release.model or not release.version:
        return None
    if len(cache.deployments) >= _MAX_VERSIONS:
        cache.deployments.clear()
    cache.deployments[name] = (time.monotonic(), release.model, release.version)
    return release.model, release.version


async def _version(
    client: OpsClient, cache: _Validators, model: str, version_id: str
) -> Loaded | None:
    known = cache.versions.get(version_id)
    if known is not None:
        return known
    loop = asyncio.get_running_loop()
    key = (loop, version_id)
    task = cache.pending.get(key)
    if task is None:
        task = loop.create_task(_fetch_version(client, cache, model, version_id))
        cache.pending[key] = task
        task.add_done_callback(lambda _: cache.pending.pop(key, None))
    return await asyncio.shield(task)


async def _fetch_version(
    client: OpsClient, cache: _Validators, model: str, version_id: str
) -> Loaded | None:
    version = await client.models.versions.async_get(model, version_id)
    if not isinstance(version.openapi_schema, dict):
        return None
    return cache.keep(Loaded(version, model))


async def check_target_input(
    client: OpsClient, target: Target, input: Mapping[str, Any], *, strict: bool = True
) -> None:
    """Raise the API's ``UnprocessableEntityError`` for an input the version refuses.

    A schema that cannot be fetched lets the input through unchecked (logged); so does a
    404 or 403 (the create reports it, with the API's own words)."""
    try:
        loaded = await load_target(client, target)
    except ReplicateAsyncError as exc:
        # A refusal (404, 403 …) is the create's to report; a failure to reach the API is news.
        refused = isinstance(exc, ReplicateError) and not isinstance(exc, ServerError)
        level = logging.DEBUG if refused else logging.WARNING
        log.log(level, "input of %s not checked: no schema (%s)", target.shown, exc)
        return
    if loaded is None:
        return
    problems = loaded.validator.check_local(input, strict=strict, is_file=is_sent_as_file)
    if problems:
        raise invalid_input_error(problems, target.shown or (loaded.model or ""))

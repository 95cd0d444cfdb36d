"""Output specs of model versions, fetched once per version and kept on the client.

``run()`` and ``stream()`` shape output by the version's schema (``_output.OutputSpec``). Version
schemas never change, so each is fetched once per client, and concurrent runs of the same
version share a single request (a fan-out of 2,000 runs makes one schema request, not 2,000).

Which schema belongs to a prediction (API-FACTS, "Model versions and output shapes"):

* a prediction of ``owner/name:<version>``, a bare version id or a deployment reports its
  version id and model: ``GET /models/{owner}/{name}/versions/{id}``;
* official models report an opaque version (``dp-…``) or ``hidden``; their schema is the model's
  ``latest_version`` (``GET /models/{owner}/{name}``). Opaque ids that the versions endpoint
  does not know fall back to it too; ``hidden`` is cached under the model's name.

A schema that cannot be fetched leaves the output as the API sent it (``OutputSpec.unknown``):
the prediction has finished by then, and losing its result over a schema lookup would be worse.
Definitive answers (404, 403 …) are cached; transient failures are retried on the next run.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import TYPE_CHECKING

from .._core.errors import ReplicateAsyncError, ReplicateError, ServerError
from .._core.output import OutputSpec
from ..types import Model, Prediction, Version

if TYPE_CHECKING:
    from ..resources.models import Models

__all__ = ["SchemaCache"]

log = logging.getLogger("replicate_async")

LATEST_TTL = 300.0
"""Seconds a model's latest version, looked up to run it by name, is reused."""

_HEX64 = re.compile(r"[0-9a-f]{64}")
_OPAQUE = frozenset({"", "hidden"})


def _usable(version: Version | None) -> bool:
    """Whether a model's ``latest_version`` can be named in a create (not absent or hidden)."""
    return version is not None and bool(version.id) and version.id != "hidden"


def spec_of(version: Version | None) -> OutputSpec | None:
    """The spec of a version object that carries its schema, else None."""
    if version is None or not isinstance(version.openapi_schema, dict):
        return None
    return OutputSpec.from_schema(version.openapi_schema, version.cog_version)


class SchemaCache:
    """Output specs by version id (or by model for ``hidden`` versions), one fetch each."""

    def __init__(self, models: Models) -> None:
        self._namespace = models
        self._specs: dict[str, OutputSpec] = {}
        # In-flight fetches, per event loop (a client may serve several loops).
        self._pending: dict[tuple[asyncio.AbstractEventLoop, str], asyncio.Task[OutputSpec]] = {}
        # Latest versions of models run by name that the models endpoint does not serve.
        self._latest: dict[str, tuple[float, Version]] = {}
        self._official: dict[str, float] = {}  # official models, when each was seen
        self._models: dict[str, tuple[float, Model]] = {}  # models looked up, when
        self._model_pending: dict[tuple[asyncio.AbstractEventLoop, str], asyncio.Task[Model]] = {}

    def latest(self, model: str) -> Version | None:
        """The latest version of a non-official ``model`` found within ``LATEST_TTL``."""
        entry = self._latest.get(model)
        if entry is None or time.monotonic() - entry[0] > LATEST_TTL:
            return None
        return entry[1]

    def official(self, model: str) -> bool:
        """Whether ``model`` was found official (served by its models endpoint) within
        ``LATEST_TTL``."""
        seen = self._official.get(model)
        return seen is not None and time.monotonic() - seen <= LATEST_TTL

    async def lookup_model(self, model: str) -> Model:
        """``GET /models/{owner}/{name}``, shared by concurrent callers (the first wave of a
        fan-out makes one request, not one per run). Learns whether the model is official
        and, when it is not, its latest version. API errors propagate to every caller."""
        cached = self._models.get(model)
        if cached is not None and time.monotonic() - cached[0] <= LATEST_TTL:
            return cached[1]
        loop = asyncio.get_running_loop()
        key = (loop, model)
        task = self._model_pending.get(key)
        if task is None:
            task = loop.create_task(self._fetch_model(model))
            self._model_pending[key] = task
            task.add_done_callback(lambda _: self._model_pending.pop(key, None))
        return await asyncio.shield(task)

    async def _fetch_model(self, model: str) -> Model:
        found = await self._namespace.async_get(model)
        self._models[model] = (time.monotonic(), found)
        if found.extra.get("is_official") is True:
            self._official[model] = time.monotonic()
        elif _usable(found.latest_version):
            assert found.latest_version is not None
            self.remember_latest(model, found.latest_version)
        return found

    async def lookup_latest(self, model: str) -> Version | None:
        """The latest version of ``model`` (``owner/name``), remembered for ``LATEST_TTL``;
        ``None`` when it has no usable one (see ``lookup_model``)."""
        known = self.latest(model)
        if known is not None:
            return known
        latest = (await self.lookup_model(model)).latest_version
        if not _usable(latest):
            return None
        assert latest is not None
        self.remember_latest(model, latest)
        return latest

    def remember_latest(self, model: str, version: Version) -> None:
        """Remember the latest version of a model run by name (see ``create_prediction``)."""
        self._latest[model] = (time.monotonic(), version)

    def __len__(self) -> int:
        return len(self._specs)

    def clear(self) -> None:
        """Forget every cached spec and latest version (the next run fetches again)."""
        self._specs.clear()
        self._latest.clear()
        self._official.clear()
        self._models.clear()

    def remember(self, key: str, spec: OutputSpec) -> None:
        """Store a spec learnt elsewhere (a ``Version`` object the caller passed in)."""
        self._specs[key] = spec

    @staticmethod
    def key_for(prediction: Prediction, model: str | None = None) -> str | None:
        """The cache key of a prediction's schema: its version id, else ``model:owner/name``."""
        version = prediction.version
        if isinstance(version, str) and version not in _OPAQUE:
            return version
        name = prediction.model or model
        return f"model:{name}" if name else None

    def cached(self, prediction: Prediction, model: str | None = None) -> OutputSpec | None:
        """The spec of ``prediction``'s version when it is already known (no I/O)."""
        key = self.key_for(prediction, model)
        return self._specs.get(key) if key is not None else None

    async def spec_for(
        self,
        prediction: Prediction,
        *,
        model: str | None = None,
        hint: Model | Version | None = None,
    ) -> OutputSpec:
        """The output spec of ``prediction``'s version (cached; fetched at most once).

        ``model`` is the ``owner/name`` the caller asked for, used when the prediction does not
        say; ``hint`` a ``Model``/``Version`` object whose schema may spare the request.
        """
        key = self.key_for(prediction, model)
        if key is None:
            return OutputSpec.unknown()
        spec = self._specs.get(key)
        if spec is not None:
            return spec
        known = spec_of(hint.latest_version if isinstance(hint, Model) else hint)
        if known is not None:
            self._specs[key] = known
            return known
        loop = asyncio.get_running_loop()
        task = self._pending.get((loop, key))
        if task is None:
            name = prediction.model or model
            version = key if not key.startswith("model:") else None
            task = loop.create_task(self._load(key, name, version))
            self._pending[(loop, key)] = task
            task.add_done_callback(lambda _: self._pending.pop((loop, key), None))
        # Shielded: a caller that gives up does not cancel the fetch others are waiting on.
        return await asyncio.shield(task)

    async def _load(self, key: str, model: str | None, version: str | None) -> OutputSpec:
        try:
            spec = await self._fetch(model, version)
        except ReplicateAsyncError as exc:
            definitive = isinstance(exc, ReplicateError) and not isinstance(exc, ServerError)
            log.warning(
                "could not fetch the output schema of %s (%s); output is returned unshaped",
                model or version,
                exc,
            )
            if not definitive:
                return OutputSpec.unknown()
            spec = OutputSpec.unknown()
        self._specs[key] = spec
        return spec

    async def _fetch(self, model: str | None, version: str | None) -> OutputSpec:
        if model is None or "/" not in model:
            return OutputSpec.unknown()  # nothing names the model: no endpoint to ask
        cached = self._models.get(model)
        if version is not None and cached is not None:
            # The model was just looked up to run it: its latest version is the schema of a
            # prediction that names that version, or an opaque one of an official model.
            latest = cached[1].latest_version
            official = cached[1].extra.get("is_official") is True
            if latest is not None and (
                latest.id == version or (official and not _HEX64.fullmatch(version))
            ):
                spec = spec_of(latest)
                if spec is not None:
                    return spec
        if version is not None:
            try:
                found = await self._namespace.versions.async_get(model, version)
                return spec_of(found) or OutputSpec.unknown()
            except ReplicateError as exc:
                # Opaque official versions (``dp-…``) may be unknown to the versions endpoint;
                # the model's latest version is their schema. A 64-hex id is authoritative.
                if isinstance(exc, ServerError) or _HEX64.fullmatch(version):
                    raise
        found_model = await self.lookup_model(model)
        return spec_of(found_model.latest_version) or OutputSpec.unknown()

"""The catalog's types: models, versions and collections (the definitions of the emulator's
models are in ``_catalog_defs``; every emulator builds its own catalog from them, since models
can be created, updated, trained and deleted)."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from typing import Any

from ._validate import InputValidator

__all__ = [
    "EMULATOR_ID_PREFIX",
    "HARDWARE",
    "Catalog",
    "Collection",
    "ModelSpec",
    "VersionSpec",
    "emulator_version_id",
    "hex_id",
]

Json = dict[str, Any]

HARDWARE: list[dict[str, str]] = [
    {"sku": "cpu", "name": "CPU"},
    {"sku": "gpu-t4", "name": "Nvidia T4 GPU"},
    {"sku": "gpu-l40s", "name": "Nvidia L40S GPU"},
    {"sku": "gpu-l40s-2x", "name": "2x Nvidia L40S GPU"},
    {"sku": "gpu-a40-small", "name": "Nvidia A40 GPU"},
    {"sku": "gpu-a40-large", "name": "Nvidia A40 (Large) GPU"},
    {"sku": "gpu-a100-large", "name": "Nvidia A100 (80GB) GPU"},
    {"sku": "gpu-h100", "name": "Nvidia H100 GPU"},
]


def hex_id(text: str) -> str:
    """A stable 64-hex digest of ``text``."""
    return hashlib.sha256(text.encode()).hexdigest()


EMULATOR_ID_PREFIX = "0" * 16
"""How every version id of the emulator's own begins: sixteen zeros. A real id is random hex,
so it starts like this with odds of 1 in 2**64; no emulator id can pass for a real one."""


def emulator_version_id(label: str) -> str:
    """A version id of the emulator's own: 64 hex digits, ``EMULATOR_ID_PREFIX`` and then the
    first 48 hex digits of SHA-256(``label``)."""
    return EMULATOR_ID_PREFIX + hex_id(label)[: 64 - len(EMULATOR_ID_PREFIX)]


@functools.lru_cache(maxsize=1024)
def _official_version_id(ref: str) -> str:
    return "dp-" + EMULATOR_ID_PREFIX + hex_id("official:" + ref)[:16]


@dataclass
class VersionSpec:
    """One model version: a schema plus the behaviour (``kind``) used to run it."""

    id: str
    created_at: str
    cog_version: str
    openapi_schema: Json
    kind: str
    validator: InputValidator = field(init=False, repr=False)
    training_validator: InputValidator | None = field(init=False, repr=False)
    trained_schema: Json | None = field(default=None, repr=False)
    """The ``openapi_schema`` of versions a training of this version creates (default: its own)."""

    def __post_init__(self) -> None:
        schemas = self.openapi_schema.get("components", {}).get("schemas", {})
        self.validator = InputValidator(schemas, "Input")
        self.training_validator = (
            InputValidator(schemas, "TrainingInput") if "TrainingInput" in schemas else None
        )

    def to_json(self) -> Json:
        return {
            "id": self.id,
            "created_at": self.created_at,
            "cog_version": self.cog_version,
            "openapi_schema": self.openapi_schema,
        }


@dataclass
class ModelSpec:
    """A model and its versions (newest first)."""

    owner: str
    name: str
    description: str | None
    kind: str
    queue_s: float
    run_s: float
    versions: list[VersionSpec] = field(default_factory=list)
    is_official: bool = False
    streams: bool = True
    visibility: str = "public"
    github_url: str | None = None
    paper_url: str | None = None
    license_url: str | None = None
    cover_image_url: str | None = None
    run_count: int = 0
    readme: str | None = None
    created_at: str = "2023-01-01T00:00:00.000000Z"
    hardware: str = "gpu-a40-large"
    tags: tuple[str, ...] = ()
    default_example: Json | None = None
    weights_url: str | None = None
    examples: list[Json] = field(default_factory=list)

    @property
    def ref(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def latest(self) -> VersionSpec | None:
        return self.versions[0] if self.versions else None

    @property
    def official_version_id(self) -> str:
        """The opaque version id predictions of official models report (``dp-…``)."""
        return _official_version_id(self.ref)

    def to_json(self) -> Json:
        latest = self.latest
        return {
            "url": f"https://replicate.com/{self.owner}/{self.name}",
            "owner": self.owner,
            "name": self.name,
            "description": self.description,
            "visibility": self.visibility,
            "github_url": self.github_url,
            "paper_url": self.paper_url,
            "license_url": self.license_url,
            "run_count": self.run_count,
            "cover_image_url": self.cover_image_url,
            "default_example": self.default_example,
            "weights_url": self.weights_url,
            "latest_version": latest.to_json() if latest else None,
            "is_official": self.is_official,
            "created_at": self.created_at,
        }


@dataclass
class Collection:
    """A collection: its slug, names and the ``owner/name`` of its models."""

    slug: str
    name: str
    description: str
    full_description: str | None
    models: list[str]


@dataclass
class Catalog:
    """Models by ``owner/name``, versions by id, and collections."""

    models: dict[str, ModelSpec]
    collections: list[Collection]
    versions: dict[str, tuple[ModelSpec, VersionSpec]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reindex()

    def reindex(self) -> None:
        self.versions = {}
        for model in self.models.values():
            for version in model.versions:
                self.versions[version.id] = (model, version)

    def add_version(self, model: ModelSpec, version: VersionSpec) -> None:
        model.versions.insert(0, version)
        self.versions[version.id] = (model, version)

    def remove_version(self, model: ModelSpec, version: VersionSpec) -> None:
        model.versions.remove(version)
        self.versions.pop(version.id, None)

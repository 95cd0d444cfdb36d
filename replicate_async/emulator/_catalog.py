"""The emulator's models, versions and collections.

Every emulator builds its own catalog (models can be created, updated, trained and deleted),
from the definitions below.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from typing import Any

from . import _schemas as s
from ._validate import InputValidator

__all__ = [
    "HARDWARE",
    "Catalog",
    "Collection",
    "ModelSpec",
    "VersionSpec",
    "build_catalog",
    "hex_id",
]

Json = dict[str, Any]

SDXL_VERSION = "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"
GEMMA_VERSION = "2790a695e5dcae15506138cc4718d1106d0d475e6dca4b1d43f42414647993d5"
HELLO_VERSION = "9dcd6d78e7c6560c340d916fe32e9f24aabfa331e5cce95fe31f77fb03121426"
HELLO_VERSION_OLD = "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa"


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
    """A stable 64-hex version id."""
    return hashlib.sha256(text.encode()).hexdigest()


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
        return "dp-" + hex_id("official:" + self.ref)[:32]

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
            "latest_version": latest.to_json() if latest else None,
            "is_official": self.is_official,
            "created_at": self.created_at,
        }


@dataclass
class Collection:
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


def _version(
    ref: str, vid: str | None, created: str, cog: str, schema: Json, kind: str
) -> VersionSpec:
    return VersionSpec(
        id=vid or hex_id(ref + ":" + created),
        created_at=created,
        cog_version=cog,
        openapi_schema=copy.deepcopy(schema),
        kind=kind,
    )


_README = """# {ref}

{description}

This model runs on the **replicate_async emulator**: its outputs are generated locally and
deterministically, so you can test code written for Replicate offline.

## Usage

```python
output = await client.run("{ref}", input={{...}})
```
"""


def build_catalog() -> Catalog:
    """A fresh catalog with the emulator's models."""
    defs: list[ModelSpec] = []

    def add(model: ModelSpec, *versions: tuple[str | None, str, str, Json]) -> None:
        for vid, created, cog, schema in versions:
            model.versions.append(_version(model.ref, vid, created, cog, schema, model.kind))
        model.readme = _README.format(ref=model.ref, description=model.description or "")
        defs.append(model)

    add(
        ModelSpec(
            "meta",
            "meta-llama-3-8b-instruct",
            "An 8 billion parameter language model from Meta, fine tuned for chat completions",
            "llm",
            0.2,
            0.0,
            is_official=True,
            github_url="https://github.com/meta-llama/llama3",
            paper_url="https://arxiv.org/abs/2407.21783",
            license_url="https://github.com/meta-llama/llama3/blob/main/LICENSE",
            cover_image_url="https://tjzk.replicate.delivery/models_models_cover_image/llama3.png",
            run_count=51234567,
            created_at="2024-04-17T21:44:58.480057Z",
            tags=("language", "chat", "llm", "text-generation"),
        ),
        (None, "2024-04-17T21:44:58.480057Z", "0.9.4", s.LLAMA3_SCHEMA),
    )
    add(
        ModelSpec(
            "meta",
            "llama-2-7b-chat",
            "A 7 billion parameter language model from Meta, fine tuned for chat completions",
            "llm",
            0.2,
            0.0,
            is_official=True,
            github_url="https://github.com/facebookresearch/llama",
            paper_url="https://arxiv.org/abs/2307.09288",
            license_url="https://ai.meta.com/llama/license/",
            run_count=14123456,
            created_at="2023-07-20T20:24:36.212345Z",
            tags=("language", "chat", "llm"),
        ),
        (None, "2023-09-12T19:22:13.442Z", "0.8.6", s.LLAMA2_SCHEMA),
    )
    add(
        ModelSpec(
            "google-deepmind",
            "gemma-7b-it",
            "7B instruct version of Google's Gemma model",
            "llm",
            0.3,
            0.0,
            github_url="https://github.com/google-deepmind/gemma",
            paper_url="https://ai.google.dev/gemma/technical_report",
            license_url="https://ai.google.dev/gemma/terms",
            run_count=912345,
            created_at="2024-02-21T14:12:04.001Z",
            tags=("language", "llm"),
        ),
        (GEMMA_VERSION, "2024-02-21T17:23:45.139934Z", "0.9.4", s.GEMMA_SCHEMA),
    )
    add(
        ModelSpec(
            "stability-ai",
            "sdxl",
            "A text-to-image generative AI model that creates beautiful images",
            "image",
            0.3,
            1.5,
            github_url="https://github.com/Stability-AI/generative-models",
            paper_url="https://arxiv.org/abs/2307.01952",
            license_url="https://github.com/Stability-AI/generative-models/blob/main/model_licenses/LICENSE-SDXL1.0",
            cover_image_url="https://tjzk.replicate.delivery/models_models_cover_image/sdxl.png",
            run_count=78123456,
            created_at="2023-07-26T17:53:09.882651Z",
            tags=("image", "text-to-image", "diffusion"),
        ),
        (SDXL_VERSION, "2023-11-08T22:18:18.47Z", "0.9.4", s.SDXL_SCHEMA),
    )
    add(
        ModelSpec(
            "replicate",
            "hello-world",
            "A tiny model that says hello",
            "hello",
            0.1,
            0.1,
            github_url="https://github.com/replicate/cog-examples",
            run_count=5681081,
            created_at="2022-04-26T19:27:50.167785Z",
            tags=("example",),
        ),
        (HELLO_VERSION, "2023-08-30T18:49:43.226107Z", "0.8.6", s.HELLO_SCHEMA),
        (HELLO_VERSION_OLD, "2022-04-26T19:29:04.418669Z", "0.3.0", s.HELLO_SCHEMA_OLD),
    )
    add(
        ModelSpec(
            "replicate",
            "fast-flux-trainer",
            "Train subjects or styles faster than ever",
            "image",
            0.2,
            2.0,
            streams=False,
            run_count=123456,
            created_at="2024-11-21T10:05:12.5Z",
            tags=("training", "lora", "image"),
        ),
        (None, "2024-11-21T10:05:12.500Z", "0.11.3", s.TRAINER_SCHEMA),
    )
    add(
        ModelSpec(
            "replicate",
            "always-fails",
            "A model whose predictions always fail, with logs (for testing error handling)",
            "fails",
            0.1,
            0.3,
            created_at="2024-01-10T09:00:00Z",
            tags=("testing",),
        ),
        (None, "2024-01-10T09:00:00.000001Z", "0.9.4", s.FAILS_SCHEMA),
    )
    add(
        ModelSpec(
            "replicate",
            "instant",
            "Finishes instantly; for benchmarks and fast tests",
            "instant",
            0.0,
            0.0,
            is_official=True,
            streams=False,
            created_at="2024-01-11T09:00:00Z",
            hardware="cpu",
            tags=("testing",),
        ),
        (None, "2024-01-11T09:00:00Z", "0.9.4", s.INSTANT_SCHEMA),
    )
    add(
        ModelSpec(
            "replicate",
            "echo-file",
            "Reads a file input and reports its size, SHA-256 and content type",
            "echo_file",
            0.05,
            0.05,
            streams=False,
            created_at="2024-01-12T09:00:00Z",
            hardware="cpu",
            tags=("testing", "files"),
        ),
        (None, "2024-01-12T09:00:00.12Z", "0.9.4", s.ECHO_FILE_SCHEMA),
    )
    collections = [
        Collection(
            "language-models",
            "Language models",
            "Models that can understand and generate text",
            "## Overview\n\nChat and completion models that **stream tokens**.",
            [
                "meta/meta-llama-3-8b-instruct",
                "meta/llama-2-7b-chat",
                "google-deepmind/gemma-7b-it",
            ],
        ),
        Collection(
            "text-to-image",
            "Generate images",
            "Models that generate images from text prompts",
            "## Overview\n\nText-to-image models.",
            ["stability-ai/sdxl"],
        ),
        Collection(
            "official",
            "Official models",
            "Official models are always on, maintained, and have predictable pricing.",
            None,
            ["meta/meta-llama-3-8b-instruct", "meta/llama-2-7b-chat", "replicate/instant"],
        ),
        Collection(
            "trainable-language-models",
            "Fine-tune models",
            "Models you can fine-tune with your own data",
            None,
            ["replicate/fast-flux-trainer"],
        ),
    ]
    return Catalog({m.ref: m for m in defs}, collections)

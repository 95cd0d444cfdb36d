"""The emulator's models and collections, as ``build_catalog()`` creates them."""

from __future__ import annotations

import copy

from . import _schemas as s
from ._catalog import Catalog, Collection, Json, ModelSpec, VersionSpec, emulator_version_id
from ._guard import GUARD_SCHEMA

__all__ = ["GEMMA_VERSION", "HELLO_VERSION", "HELLO_VERSION_OLD", "SDXL_VERSION", "build_catalog"]

# A model served under a real version id carries that version's real schema: only SDXL's
# version object was recorded, so it is the one real id. Every other version has an id of the
# emulator's own (``emulator_version_id``: sixteen zeros, then hex), which no real id can be.
SDXL_VERSION = "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"
_GEMMA_CREATED = "2024-02-21T17:23:45.139934Z"
_HELLO_CREATED = "2023-08-30T18:49:43.226107Z"
_HELLO_OLD_CREATED = "2022-04-26T19:29:04.418669Z"
GEMMA_VERSION = emulator_version_id("google-deepmind/gemma-7b-it:" + _GEMMA_CREATED)
HELLO_VERSION = emulator_version_id("replicate/hello-world:" + _HELLO_CREATED)
HELLO_VERSION_OLD = emulator_version_id("replicate/hello-world:" + _HELLO_OLD_CREATED)


def _version(
    ref: str, vid: str | None, created: str, cog: str, schema: Json, kind: str
) -> VersionSpec:
    return VersionSpec(
        id=vid or emulator_version_id(ref + ":" + created),
        created_at=created,
        cog_version=cog,
        openapi_schema=copy.deepcopy(schema),
        kind=kind,
        trained_schema=s.FLUX_LORA_SCHEMA if schema is s.TRAINER_SCHEMA else None,
    )


_SDXL = s.SDXL_VERSION_JSON
assert _SDXL["id"] == SDXL_VERSION


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
            "meta",
            "llama-guard-3-8b",
            "A Llama-3.1-8B pretrained model, fine-tuned for content safety classification",
            "guard",
            0.1,
            0.2,
            is_official=True,
            streams=False,
            github_url="https://github.com/meta-llama/PurpleLlama",
            paper_url="https://arxiv.org/abs/2407.21783",
            license_url="https://github.com/meta-llama/llama-models/blob/main/models/llama3_1/LICENSE",
            run_count=345678,
            created_at="2024-07-23T18:12:41.394585Z",
            hardware="gpu-l40s",
            tags=("safety", "moderation", "classification", "llm"),
        ),
        (None, "2024-07-23T18:12:41.394585Z", "0.9.11", GUARD_SCHEMA),
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
        (None, _GEMMA_CREATED, "0.9.4", s.GEMMA_SCHEMA),
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
        (SDXL_VERSION, _SDXL["created_at"], _SDXL["cog_version"], _SDXL["openapi_schema"]),
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
        (None, _HELLO_CREATED, "0.8.6", s.HELLO_SCHEMA),
        (None, _HELLO_OLD_CREATED, "0.3.0", s.HELLO_SCHEMA_OLD),
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
            [
                "meta/meta-llama-3-8b-instruct",
                "meta/llama-2-7b-chat",
                "meta/llama-guard-3-8b",
                "replicate/instant",
            ],
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

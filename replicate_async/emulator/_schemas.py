"""Cog-style ``openapi_schema`` documents for the emulated models (the language models'
live in ``_schemas_llm`` and are re-exported here)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from ._cog import URI_LIST, cog_document, enum_field
from ._schemas_llm import GEMMA_SCHEMA, LLAMA2_SCHEMA, LLAMA3_SCHEMA

__all__ = [
    "ECHO_FILE_SCHEMA",
    "FAILS_SCHEMA",
    "FLUX_LORA_SCHEMA",
    "GEMMA_SCHEMA",
    "HELLO_SCHEMA",
    "HELLO_SCHEMA_OLD",
    "INSTANT_SCHEMA",
    "LLAMA2_SCHEMA",
    "LLAMA3_SCHEMA",
    "SDXL_SCHEMA",
    "SDXL_VERSION_JSON",
    "TRAINER_SCHEMA",
]


def recorded_version(filename: str) -> dict[str, Any]:
    """A real version object (``id``, ``created_at``, ``cog_version``, ``openapi_schema``)
    exactly as the real API served it; the file names its recording."""
    text = resources.files(__package__).joinpath(filename).read_text(encoding="utf-8")
    version: dict[str, Any] = json.loads(text)["version"]
    return version


# stability-ai/sdxl:7762fd07…, verbatim (inputs, training inputs, outputs).
SDXL_VERSION_JSON = recorded_version("version_sdxl_7762fd07.json")
SDXL_SCHEMA: dict[str, Any] = SDXL_VERSION_JSON["openapi_schema"]

# What a fine-tune produced by the trainer runs: prompt in, images out.
FLUX_LORA_SCHEMA = cog_document(
    {
        "prompt": {"type": "string", "description": "Prompt for generated image."},
        "aspect_ratio": enum_field("aspect_ratio", "1:1", "Aspect ratio for the generated image"),
        "num_outputs": {
            "type": "integer",
            "description": "Number of outputs to generate",
            "default": 1,
            "minimum": 1,
            "maximum": 4,
        },
        "lora_scale": {
            "type": "number",
            "description": "Determines how strongly the main LoRA should be applied.",
            "default": 1,
            "minimum": -1,
            "maximum": 3,
        },
        "seed": {"type": "integer", "description": "Random seed. Set for reproducible generation"},
    },
    URI_LIST,
    required=("prompt",),
    enums={"aspect_ratio": ["1:1", "16:9", "9:16", "4:3", "3:4"]},
)

TRAINER_SCHEMA = cog_document(
    {
        "prompt": {"type": "string", "description": "Prompt for generated image."},
        "seed": {"type": "integer", "description": "Random seed."},
    },
    URI_LIST,
    required=("prompt",),
    training_inputs={
        "input_images": {
            "type": "string",
            "format": "uri",
            "description": "A zip file containing the images that will be used for training.",
        },
        "trigger_word": {
            "type": "string",
            "description": "The trigger word refers to the object, style or concept you are "
            "training on.",
            "default": "TOK",
        },
        "lora_type": enum_field("lora_type", "subject", "Type of LoRA model you want to train"),
        "training_steps": {
            "type": "integer",
            "description": "Number of training steps.",
            "default": 1000,
            "minimum": 10,
            "maximum": 6000,
        },
    },
    training_required=("input_images",),
)
TRAINER_SCHEMA["components"]["schemas"]["lora_type"] = {
    "title": "lora_type",
    "description": "An enumeration.",
    "enum": ["subject", "style"],
    "type": "string",
}

_HELLO_TEXT = {"text": {"type": "string", "description": "Text to prefix with 'hello '"}}
HELLO_SCHEMA = cog_document(_HELLO_TEXT, {"type": "string", "title": "Output"}, required=("text",))
HELLO_SCHEMA_OLD = cog_document(
    _HELLO_TEXT, {"type": "string", "title": "Output"}, required=("text",)
)

FAILS_SCHEMA = cog_document(
    {"text": {"type": "string", "description": "Anything; the model fails regardless."}},
    {"type": "string", "title": "Output"},
)

INSTANT_SCHEMA = cog_document(
    {"text": {"type": "string", "description": "Text to echo", "default": ""}},
    {"type": "string", "title": "Output"},
)

ECHO_FILE_SCHEMA = cog_document(
    {"file": {"type": "string", "format": "uri", "description": "Any file (URL or data URI)"}},
    {
        "type": "object",
        "title": "Output",
        "properties": {
            "size": {"title": "Size", "type": "integer"},
            "sha256": {"title": "Sha256", "type": "string"},
            "content_type": {"title": "Content Type", "type": "string"},
        },
        "required": ["size", "sha256", "content_type"],
    },
    required=("file",),
)

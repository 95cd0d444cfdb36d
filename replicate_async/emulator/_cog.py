"""Building blocks of Cog-style ``openapi_schema`` documents.

Shapes follow what Cog generates: ``components.schemas.Input`` with ``x-order``, ``title``,
defaults, ``format: uri`` for files and enums as ``allOf: [{"$ref": ...}]``; ``Output`` with
``x-cog-array-type``/``x-cog-array-display`` for token streams.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CONCATENATE_ITERATOR", "URI_LIST", "Json", "cog_document", "enum_field"]

Json = dict[str, Any]

CONCATENATE_ITERATOR: Json = {
    "type": "array",
    "items": {"type": "string"},
    "title": "Output",
    "x-cog-array-type": "iterator",
    "x-cog-array-display": "concatenate",
}
URI_LIST: Json = {"type": "array", "items": {"type": "string", "format": "uri"}, "title": "Output"}


def _title(name: str) -> str:
    return " ".join(w.capitalize() for w in name.split("_"))


def cog_document(
    inputs: dict[str, Json],
    output: Json,
    *,
    required: tuple[str, ...] = (),
    enums: dict[str, list[str]] | None = None,
    training_inputs: dict[str, Json] | None = None,
    training_required: tuple[str, ...] = (),
) -> Json:
    """Assemble a Cog OpenAPI document; ``x-order`` follows the order of ``inputs``."""
    schemas: Json = {
        "Input": _object("Input", inputs, required),
        "Output": output,
        "Status": {
            "title": "Status",
            "description": "An enumeration.",
            "enum": ["starting", "processing", "succeeded", "canceled", "failed"],
            "type": "string",
        },
        "WebhookEvent": {
            "title": "WebhookEvent",
            "description": "An enumeration.",
            "enum": ["start", "output", "logs", "completed"],
            "type": "string",
        },
    }
    for name, values in (enums or {}).items():
        schemas[name] = {
            "title": name,
            "description": "An enumeration.",
            "enum": values,
            "type": "string",
        }
    paths: Json = {
        "/predictions": {
            "post": {
                "summary": "Predict",
                "operationId": "predict_predictions_post",
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/PredictionRequest"}
                        }
                    }
                },
                "responses": {"200": {"description": "Successful Response"}},
            }
        }
    }
    schemas["PredictionRequest"] = {
        "title": "PredictionRequest",
        "type": "object",
        "properties": {
            "id": {"title": "Id", "type": "string"},
            "input": {"$ref": "#/components/schemas/Input"},
            "webhook": {"title": "Webhook", "type": "string", "format": "uri"},
        },
    }
    if training_inputs is not None:
        schemas["TrainingInput"] = _object("TrainingInput", training_inputs, training_required)
        schemas["TrainingOutput"] = {
            "title": "TrainingOutput",
            "type": "object",
            "required": ["weights"],
            "properties": {"weights": {"title": "Weights", "type": "string", "format": "uri"}},
        }
        paths["/trainings"] = {
            "post": {
                "summary": "Train",
                "operationId": "train_trainings_post",
                "responses": {"200": {"description": "Successful Response"}},
            }
        }
    return {
        "openapi": "3.0.2",
        "info": {"title": "Cog", "version": "0.1.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _object(title: str, inputs: dict[str, Json], required: tuple[str, ...]) -> Json:
    props: Json = {}
    for order, (name, spec) in enumerate(inputs.items()):
        prop: Json = {}
        if "allOf" not in spec:
            prop["title"] = _title(name)
        prop.update(spec)
        prop["x-order"] = order
        props[name] = prop
    obj: Json = {"type": "object", "title": title, "properties": props}
    if required:
        obj["required"] = list(required)
    return obj


def enum_field(ref: str, default: str, description: str) -> Json:
    return {
        "allOf": [{"$ref": f"#/components/schemas/{ref}"}],
        "default": default,
        "description": description,
    }

"""Validate prediction inputs against a version's Cog ``Input`` schema.

The schema is compiled once per version into per-field checks, so validating a small input
is a handful of dict lookups (it sits on the hot path of every create). Error types and
messages mirror the real 422 bodies (gojsonschema style).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["FieldSpec", "InputValidator", "json_type_name"]

Json = dict[str, Any]

# Pairs of parameters a model refuses together ("Both may not be specified").
_EXCLUSIVE = (("max_tokens", "max_new_tokens"), ("min_tokens", "min_new_tokens"))


def json_type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _fmt_num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str | None
    enum: tuple[Any, ...] | None
    minimum: float | None
    maximum: float | None
    format: str | None

    def check(self, value: Any) -> list[dict[str, str]]:
        field = f"input.{self.name}"
        errors: list[dict[str, str]] = []
        given = json_type_name(value)
        expected = self.type
        if expected is not None:
            ok = given == expected or (
                (expected == "number" and given == "integer")
                or (expected == "integer" and given == "number" and float(value).is_integer())
            )
            if not ok:
                return [
                    {
                        "type": "type",
                        "field": field,
                        "description": f"Invalid type. Expected: {expected}, given: {given}",
                    }
                ]
        if self.enum is not None and value not in self.enum:
            allowed = ", ".join(f'"{v}"' for v in self.enum)
            errors.append(
                {
                    "type": "enum",
                    "field": field,
                    "description": f"{field} must be one of the following: {allowed}",
                }
            )
        if given in ("integer", "number"):
            if self.minimum is not None and value < self.minimum:
                errors.append(
                    {
                        "type": "number_gte",
                        "field": field,
                        "description": "Must be greater than or equal to " + _fmt_num(self.minimum),
                    }
                )
            if self.maximum is not None and value > self.maximum:
                errors.append(
                    {
                        "type": "number_lte",
                        "field": field,
                        "description": "Must be less than or equal to " + _fmt_num(self.maximum),
                    }
                )
        if self.format == "uri" and given == "string" and ":" not in value:
            errors.append(
                {
                    "type": "format",
                    "field": field,
                    "description": "Does not match format 'uri'",
                }
            )
        return errors


class InputValidator:
    """Compiled checks for one Cog input object (``Input`` or ``TrainingInput``)."""

    def __init__(self, schemas: Mapping[str, Any], name: str) -> None:
        obj = schemas.get(name, {})
        props: Mapping[str, Any] = obj.get("properties", {})
        self.required: tuple[str, ...] = tuple(obj.get("required", ()))
        self.fields: dict[str, FieldSpec] = {}
        self.defaults: dict[str, Any] = {}
        self.uri_fields: tuple[str, ...] = ()
        uris: list[str] = []
        for pname, prop in props.items():
            resolved = self._resolve(schemas, prop)
            enum = resolved.get("enum")
            spec = FieldSpec(
                name=pname,
                type=resolved.get("type"),
                enum=tuple(enum) if enum is not None else None,
                minimum=resolved.get("minimum"),
                maximum=resolved.get("maximum"),
                format=resolved.get("format"),
            )
            self.fields[pname] = spec
            if "default" in prop:
                self.defaults[pname] = prop["default"]
            if spec.format == "uri":
                uris.append(pname)
        self.uri_fields = tuple(uris)
        self.exclusive = tuple(
            (a, b) for a, b in _EXCLUSIVE if a in self.fields and b in self.fields
        )

    @staticmethod
    def _resolve(schemas: Mapping[str, Any], prop: Mapping[str, Any]) -> Json:
        """Merge ``allOf: [{$ref}]`` (Cog's enum encoding) into the property."""
        merged: Json = {k: v for k, v in prop.items() if k != "allOf"}
        for part in prop.get("allOf", ()):
            ref = part.get("$ref", "")
            target = schemas.get(ref.rsplit("/", 1)[-1], {}) if ref else part
            for key, value in target.items():
                merged.setdefault(key, value)
        return merged

    def validate(
        self, given: Mapping[str, Any], *, strict: bool = False
    ) -> tuple[dict[str, Any], list[dict[str, str]]]:
        """Return (input with defaults applied, errors)."""
        errors: list[dict[str, str]] = []
        fields = self.fields
        for name, value in given.items():
            spec = fields.get(name)
            if spec is None:
                if strict:
                    errors.append(
                        {
                            "type": "additional_property_not_allowed",
                            "field": f"input.{name}",
                            "description": f"Additional property {name} is not allowed",
                        }
                    )
                continue
            if value is None:
                continue
            errors.extend(spec.check(value))
        for name in self.required:
            if given.get(name) is None:
                errors.append(
                    {
                        "type": "required",
                        "field": f"input.{name}",
                        "description": f"{name} is required",
                    }
                )
        for a, b in self.exclusive:
            if given.get(a) is not None and given.get(b) is not None:
                errors.append(
                    {
                        "type": "mutually_exclusive",
                        "field": f"input.{b}",
                        "description": f"{a} and {b} may not both be specified",
                    }
                )
        if errors:
            return dict(given), errors
        merged = dict(self.defaults)
        for name, value in given.items():
            if value is not None:
                merged[name] = value
        return merged, errors

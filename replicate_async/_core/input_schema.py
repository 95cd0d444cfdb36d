"""Check prediction inputs against a version's Cog ``Input`` schema: the one validator.

The emulator answers a bad create with this validator's errors (a 422 whose
``invalid_fields`` mirror the real API's, gojsonschema style), and the client checks inputs
with it before sending them (``use()``, ``run(validate=True)``), so that a local refusal and a
server refusal say the same thing.

The schema is compiled once per version into per-field checks, so validating a small input
is a handful of dict lookups (it sits on the hot path of every create).

Checked: JSON types (an integral float passes as an integer), required fields, ``minimum``
and ``maximum``, enums (Cog encodes them as ``allOf: [{$ref}]``), ``format: uri`` (a string
with a scheme), unknown fields (``strict``), and pairs of legacy parameters a model refuses
together (``max_tokens``/``max_new_tokens``, ``min_tokens``/``min_new_tokens``) when the schema
has both. ``None`` values are left out, as the API does.

Checking locally (:meth:`InputValidator.check_local`) judges the input as it will be sent:
files (paths, bytes, binary file objects, and whatever ``is_file`` accepts) become URLs before
a create, so they count as ``uri`` strings, and tuples as arrays.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import UnprocessableEntityError, error_from_response
from .file_source import is_file_object

__all__ = [
    "FieldSpec",
    "InputValidator",
    "invalid_input_error",
    "is_local_file",
    "json_type_name",
    "resolve_property",
]

Json = dict[str, Any]
Problem = dict[str, str]

# Pairs of parameters a model refuses together ("Both may not be specified").
_EXCLUSIVE = (("max_tokens", "max_new_tokens"), ("min_tokens", "min_new_tokens"))

_SENT_FILE = "data:application/octet-stream;base64,"
"""What a local file stands for when an input is checked: it is sent as a URL."""


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


def is_local_file(value: object) -> bool:
    """Whether ``value`` is a file the client sends as a URL (path, bytes, file object)."""
    return isinstance(value, os.PathLike | bytes | bytearray | memoryview) or is_file_object(value)


def resolve_property(schemas: Mapping[str, Any], prop: Mapping[str, Any]) -> Json:
    """Merge ``allOf: [{$ref}]`` (Cog's enum encoding) into the property."""
    merged: Json = {k: v for k, v in prop.items() if k != "allOf"}
    for part in prop.get("allOf", ()):
        ref = part.get("$ref", "") if isinstance(part, Mapping) else ""
        target = schemas.get(ref.rsplit("/", 1)[-1], {}) if ref else part
        if isinstance(target, Mapping):
            for key, value in target.items():
                merged.setdefault(key, value)
    return merged


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str | None
    enum: tuple[Any, ...] | None
    minimum: float | None
    maximum: float | None
    format: str | None
    description: str | None = None
    default: Any = None
    has_default: bool = False
    order: int = 0

    def check(self, value: Any) -> list[Problem]:
        field = f"input.{self.name}"
        errors: list[Problem] = []
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

    def describe(self, required: bool) -> str:
        """One line for ``help()``: name, type, default or required, range, enum, description."""
        kind = self.type or "any"
        if self.format == "uri":
            kind = "file (URL, path, bytes or file object)"
        parts = [f"{self.name}: {kind}"]
        if required:
            parts.append("required")
        elif self.has_default:
            parts.append(f"default {self.default!r}")
        if self.minimum is not None and self.maximum is not None:
            parts.append(f"{_fmt_num(self.minimum)} to {_fmt_num(self.maximum)}")
        elif self.minimum is not None:
            parts.append(f">= {_fmt_num(self.minimum)}")
        elif self.maximum is not None:
            parts.append(f"<= {_fmt_num(self.maximum)}")
        if self.enum is not None:
            parts.append("one of " + ", ".join(repr(v) for v in self.enum))
        line = ", ".join(parts)
        if self.description:
            line += f"\n    {self.description}"
        return line


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
        for index, (pname, prop) in enumerate(props.items()):
            resolved = resolve_property(schemas, prop)
            enum = resolved.get("enum")
            order = prop.get("x-order")
            spec = FieldSpec(
                name=pname,
                type=resolved.get("type"),
                enum=tuple(enum) if enum is not None else None,
                minimum=resolved.get("minimum"),
                maximum=resolved.get("maximum"),
                format=resolved.get("format"),
                description=resolved.get("description"),
                default=prop.get("default"),
                has_default="default" in prop,
                order=order if isinstance(order, int) else index,
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

    @classmethod
    def from_openapi(cls, openapi_schema: Mapping[str, Any], name: str = "Input") -> InputValidator:
        """The validator of a version's ``openapi_schema`` (``components.schemas[name]``)."""
        components = openapi_schema.get("components")
        schemas = components.get("schemas") if isinstance(components, Mapping) else None
        return cls(schemas if isinstance(schemas, Mapping) else {}, name)

    @staticmethod
    def _resolve(schemas: Mapping[str, Any], prop: Mapping[str, Any]) -> Json:
        return resolve_property(schemas, prop)

    def validate(
        self, given: Mapping[str, Any], *, strict: bool = False
    ) -> tuple[dict[str, Any], list[Problem]]:
        """Return (input with defaults applied, errors)."""
        errors: list[Problem] = []
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

    def check_local(
        self,
        given: Mapping[str, Any],
        *,
        strict: bool = True,
        is_file: Callable[[object], bool] = is_local_file,
    ) -> list[Problem]:
        """The problems the API would report for ``given`` once its files are sent as URLs."""
        return self.validate(_as_sent(given, is_file), strict=strict)[1]

    def describe(self) -> str:
        """The parameters, one entry each, in the model's order (for ``help()``)."""
        required = set(self.required)
        specs = sorted(self.fields.values(), key=lambda s: s.order)
        return "\n".join(spec.describe(spec.name in required) for spec in specs)


def _as_sent(given: Mapping[str, Any], is_file: Callable[[object], bool]) -> dict[str, Any]:
    def convert(value: Any, depth: int) -> Any:
        if value is None or isinstance(value, str | int | float | bool):
            return value
        if is_file(value):
            return _SENT_FILE
        if depth > 16:
            return value
        if isinstance(value, list | tuple):
            return [convert(v, depth + 1) for v in value]
        if isinstance(value, Mapping):
            return {k: convert(v, depth + 1) for k, v in value.items()}
        return value

    return {k: convert(v, 0) for k, v in given.items()}


def invalid_input_error(errors: list[Problem], what: str = "") -> UnprocessableEntityError:
    """The error the API answers a create with these problems (status 422, ``invalid_fields``),
    raised before any request: nothing was created."""
    detail = "".join(f"- {e['field']}: {e['description']}\n" for e in errors)
    body = {
        "title": "Input validation failed",
        "detail": detail,
        "status": 422,
        "invalid_fields": errors,
    }
    error = error_from_response(422, {}, json.dumps(body).encode())
    where = f" for {what}" if what else ""
    error.message = error.message.replace("\n\n", "\n").rstrip()
    error.message += f"\n  (input checked locally{where}: nothing was sent)"
    assert isinstance(error, UnprocessableEntityError)
    return error

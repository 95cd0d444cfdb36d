"""What changed in a model's inputs between two versions (``client.models.versions.diff``).

Pure: two ``openapi_schema`` documents in, a :class:`SchemaDiff` out. Inputs are compared as
the validator reads them (``allOf``/``$ref`` enums resolved): added and removed inputs, and per
kept input each change of type, format, default, minimum, maximum, enum or required-ness; the
output's Python type is compared too (``str`` for a token stream, ``list[FileOutput]`` …).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .input_schema import FieldSpec, InputValidator
from .typegen import output_type

__all__ = ["FieldChange", "SchemaDiff", "diff_schemas"]

_MISSING = "(none)"
_ASPECTS = ("type", "format", "default", "minimum", "maximum", "enum", "required")


@attrs.frozen
class FieldChange:
    """One aspect of one input that differs: ``field``, ``aspect`` (``"type"``,
    ``"default"``, ``"minimum"``, ``"maximum"``, ``"enum"``, ``"format"``, ``"required"``),
    and the values ``before`` and ``after`` (``None`` when unset)."""

    field: str
    aspect: str
    before: Any
    after: Any

    def __str__(self) -> str:
        def show(value: Any) -> str:
            if value is None:
                return _MISSING
            if isinstance(value, tuple):
                return "[" + ", ".join(repr(v) for v in value) + "]"
            return repr(value)

        return f"~ {self.field}: {self.aspect} {show(self.before)} -> {show(self.after)}"


@attrs.frozen
class SchemaDiff:
    """Inputs ``added`` and ``removed`` (names), ``changed`` (a :class:`FieldChange` each),
    and ``output`` (``(before, after)`` Python types when the output type changed). False
    when the two versions take and give the same things; ``str()`` gives one line each."""

    before: str
    after: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[FieldChange, ...] = ()
    output: tuple[str, str] | None = None

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.output)

    def changes_of(self, field: str) -> dict[str, tuple[Any, Any]]:
        """``{aspect: (before, after)}`` for one input."""
        return {c.aspect: (c.before, c.after) for c in self.changed if c.field == field}

    def __str__(self) -> str:
        lines = [f"inputs of {self.before} -> {self.after}:"]
        lines += [f"+ {name}" for name in self.added]
        lines += [f"- {name}" for name in self.removed]
        lines += [str(change) for change in self.changed]
        if self.output is not None:
            lines.append(f"~ output: {self.output[0]} -> {self.output[1]}")
        if len(lines) == 1:
            lines.append("no changes")
        return "\n".join(lines)


def _aspects(spec: FieldSpec, required: bool) -> dict[str, Any]:
    return {
        "type": spec.type,
        "format": spec.format,
        "default": spec.default if spec.has_default else None,
        "minimum": spec.minimum,
        "maximum": spec.maximum,
        "enum": spec.enum,
        "required": required,
    }


def diff_schemas(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    before_name: str = "before",
    after_name: str = "after",
) -> SchemaDiff:
    """Compare the ``Input`` (and ``Output``) of two versions' ``openapi_schema``."""
    old = InputValidator.from_openapi(before)
    new = InputValidator.from_openapi(after)
    added = tuple(name for name in new.fields if name not in old.fields)
    removed = tuple(name for name in old.fields if name not in new.fields)
    changed: list[FieldChange] = []
    old_required, new_required = set(old.required), set(new.required)
    for name, spec in new.fields.items():
        was = old.fields.get(name)
        if was is None:
            continue
        a = _aspects(was, name in old_required)
        b = _aspects(spec, name in new_required)
        for aspect in _ASPECTS:
            if a[aspect] != b[aspect] or type(a[aspect]) is not type(b[aspect]):
                changed.append(FieldChange(name, aspect, a[aspect], b[aspect]))
    out_a, out_b = output_type(before), output_type(after)
    return SchemaDiff(
        before=before_name,
        after=after_name,
        added=added,
        removed=removed,
        changed=tuple(changed),
        output=(out_a, out_b) if out_a != out_b else None,
    )

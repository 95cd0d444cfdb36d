"""Python types from models' schemas, for editors and mypy (``replicate-async types``).

:func:`generate_module` writes one module for a list of model versions. Per model it holds:

* a ``TypedDict`` of the input (``<Name>Input``): required fields on a base class, the others
  on a ``total=False`` subclass (so the module needs nothing beyond ``typing`` on Python
  3.10), ``Literal`` for enums, a file type for ``format: uri``, and each description as the
  field's docstring (with its default and range);
* a coroutine ``<name>(client, input)`` and its blocking twin ``<name>_sync(client, input)``
  that run that version (``validate=True``: the input is also checked before it is sent) and
  return what the output schema says: ``str`` for a token stream (``x-cog-array-type:
  iterator`` with ``x-cog-array-display: concatenate``), ``FileOutput`` for a file,
  ``list[FileOutput]`` for an array of files, and so on.

Pure: schema dicts in, source text out.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .input_schema import resolve_property

__all__ = ["ModelTypes", "generate_module", "output_type", "python_name"]

_SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}


@dataclass(frozen=True)
class ModelTypes:
    """One model version to generate types for."""

    model: str  # owner/name
    version: str  # the version id the wrapper runs
    openapi_schema: Mapping[str, Any]
    description: str | None = None


def python_name(text: str) -> str:
    """A snake_case identifier from a model or field name (``meta-llama-3`` → ``meta_llama_3``)."""
    name = re.sub(r"[^0-9a-zA-Z_]+", "_", text).strip("_").lower() or "model"
    if name[0].isdigit():
        name = "m_" + name
    return name + "_" if keyword.iskeyword(name) else name


def _class_name(text: str) -> str:
    parts = re.split(r"[^0-9a-zA-Z]+", text)
    name = "".join(p[:1].upper() + p[1:] for p in parts if p) or "Model"
    return "M" + name if name[0].isdigit() else name


def _doc(text: str, indent: str) -> str:
    body = text.replace("\\", "\\\\").replace('"', '\\"').strip()
    lines = body.splitlines() or [""]
    if len(lines) == 1:
        return f'{indent}"""{lines[0]}"""\n'
    inner = "\n".join(f"{indent}{line}" if line else "" for line in lines[1:])
    return f'{indent}"""{lines[0]}\n{inner}\n{indent}"""\n'


def _schemas(openapi_schema: Mapping[str, Any]) -> Mapping[str, Any]:
    components = openapi_schema.get("components")
    schemas = components.get("schemas") if isinstance(components, Mapping) else None
    return schemas if isinstance(schemas, Mapping) else {}


def _value_type(schemas: Mapping[str, Any], prop: Mapping[str, Any], *, input: bool) -> str:
    resolved = resolve_property(schemas, prop)
    if "$ref" in resolved:
        target = schemas.get(str(resolved["$ref"]).rsplit("/", 1)[-1])
        if isinstance(target, Mapping):
            resolved = {**resolve_property(schemas, target), **resolved}
    enum = resolved.get("enum")
    if isinstance(enum, list) and enum and all(isinstance(v, str | int) for v in enum):
        return "Literal[" + ", ".join(repr(v) for v in enum) + "]"
    kind = resolved.get("type")
    if kind == "string" and resolved.get("format") == "uri":
        return "FileInput" if input else "FileOutput"
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind == "array":
        items = resolved.get("items")
        inner = _value_type(schemas, items, input=input) if isinstance(items, Mapping) else "Any"
        return f"list[{inner}]"
    if kind == "object":
        return "dict[str, Any]"
    any_of = resolved.get("anyOf") or resolved.get("oneOf")
    if isinstance(any_of, list) and any_of:
        parts = [_value_type(schemas, p, input=input) for p in any_of if isinstance(p, Mapping)]
        unique = list(dict.fromkeys(parts))
        return " | ".join(unique) if unique else "Any"
    return "Any"


def output_type(openapi_schema: Mapping[str, Any]) -> str:
    """The Python type ``run()`` returns for this schema's ``Output`` (shaped, files as
    ``FileOutput``)."""
    schemas = _schemas(openapi_schema)
    output = schemas.get("Output")
    if not isinstance(output, Mapping):
        return "Any"
    flat = resolve_property(schemas, output)
    if flat.get("type") == "array":
        items = flat.get("items")
        items_flat = resolve_property(schemas, items) if isinstance(items, Mapping) else {}
        if (
            flat.get("x-cog-array-type") == "iterator"
            and flat.get("x-cog-array-display") == "concatenate"
            and items_flat.get("type") == "string"
            and items_flat.get("format") != "uri"
        ):
            return "str"
    return _value_type(schemas, output, input=False)


def _field_doc(prop: Mapping[str, Any], resolved: Mapping[str, Any]) -> str:
    parts: list[str] = []
    description = resolved.get("description")
    if isinstance(description, str) and description.strip():
        parts.append(description.strip())
    facts: list[str] = []
    if "default" in prop:
        facts.append(f"Default: {prop['default']!r}.")
    low, high = resolved.get("minimum"), resolved.get("maximum")
    if low is not None and high is not None:
        facts.append(f"From {low} to {high}.")
    elif low is not None:
        facts.append(f"At least {low}.")
    elif high is not None:
        facts.append(f"At most {high}.")
    if facts:
        parts.append(" ".join(facts))
    return "\n\n".join(parts)


def _input_classes(name: str, item: ModelTypes) -> str:
    schemas = _schemas(item.openapi_schema)
    obj = schemas.get("Input")
    props: Mapping[str, Any] = obj.get("properties", {}) if isinstance(obj, Mapping) else {}
    required = set(obj.get("required", ())) if isinstance(obj, Mapping) else set()
    ordered = sorted(
        props.items(),
        key=lambda kv: kv[1].get("x-order", 1 << 30) if isinstance(kv[1], Mapping) else 1 << 30,
    )
    fields: list[tuple[str, str, str, bool]] = []
    for field, prop in ordered:
        if not isinstance(prop, Mapping):
            continue
        resolved = resolve_property(schemas, prop)
        kind = _value_type(schemas, prop, input=True)
        fields.append((field, kind, _field_doc(prop, resolved), field in required))
    plain = all(f.isidentifier() and not keyword.iskeyword(f) for f, *_ in fields)
    cls = f"{name}Input"
    base = f"_{name}Required"
    summary = f"Input of {item.model} (version {item.version})."
    if not plain:  # a field name Python cannot spell: the functional form
        req = ", ".join(f"{f!r}: {t}" for f, t, _, r in fields if r)
        opt = ", ".join(f"{f!r}: {t}" for f, t, _, r in fields if not r)
        optional = f"_{name}Optional"
        return (
            f"{base} = TypedDict({base!r}, {{{req}}})\n"
            f"{optional} = TypedDict({optional!r}, {{{opt}}}, total=False)\n\n\n"
            f"class {cls}({base}, {optional}):\n" + _doc(summary, "    ")
        )
    out = [f"class {base}(TypedDict):\n"]
    out.append(_doc(f"The required fields of {cls}.", "    "))
    for field, kind, doc, is_required in fields:
        if is_required:
            out.append(f"    {field}: {kind}\n")
            if doc:
                out.append(_doc(doc, "    "))
    out.append(f"\n\nclass {cls}({base}, total=False):\n")
    out.append(_doc(summary, "    "))
    for field, kind, doc, is_required in fields:
        if not is_required:
            out.append(f"    {field}: {kind}\n")
            if doc:
                out.append(_doc(doc, "    "))
    return "".join(out)


def _wrappers(func: str, name: str, item: ModelTypes, returns: str, ref_const: str) -> str:
    doc = f"Run {item.model} (version {item.version}) and return its output."
    if item.description:
        doc += f"\n\n{item.description.strip()}"
    return (
        f"async def {func}(client: Client, input: {name}Input) -> {returns}:\n"
        + _doc(doc, "    ")
        + f"    output = await client.run({ref_const}, dict(input), validate=True)\n"
        + f"    return cast({returns!r}, output)\n\n\n"
        + f"def {func}_sync(client: Client, input: {name}Input) -> {returns}:\n"
        + _doc(f"The blocking twin of ``{func}``.", "    ")
        + f"    output = client.run_sync({ref_const}, dict(input), validate=True)\n"
        + f"    return cast({returns!r}, output)\n"
    )


_HEADER = '''"""Types of Replicate models, generated by ``replicate-async types``: do not edit.

Models: {models}.
Each ``<Model>Input`` is a TypedDict of the model's input; ``<model>(client, input)`` runs the
version the types were generated from and returns its output, typed.
"""

from __future__ import annotations

import os
from typing import IO, Any, Literal, TypedDict, Union, cast

from replicate_async import Client, FileOutput

FileInput = Union[str, "os.PathLike[str]", bytes, IO[bytes], FileOutput]
"""A file input: a URL, a path, bytes, a binary file object or an earlier output."""
'''


def generate_module(items: Iterable[ModelTypes]) -> str:
    """The source of a module with the types and wrappers of ``items`` (see module docs)."""
    items = list(items)
    funcs: dict[str, int] = {}
    for item in items:
        short = python_name(item.model.rsplit("/", 1)[-1])
        funcs[short] = funcs.get(short, 0) + 1
    used: set[str] = set()
    parts = [_HEADER.format(models=", ".join(i.model for i in items) or "none")]
    for item in items:
        short = python_name(item.model.rsplit("/", 1)[-1])
        func = short if funcs[short] == 1 else python_name(item.model)
        while func in used:
            func += "_"
        used.add(func)
        name = _class_name(func)
        const = func.upper() + "_REF"
        returns = output_type(item.openapi_schema)
        parts.append(f"\n\n{const} = {f'{item.model}:{item.version}'!r}\n\n\n")
        parts.append(_input_classes(name, item))
        parts.append("\n\n")
        parts.append(_wrappers(func, name, item, returns, const))
    return "".join(parts).rstrip("\n") + "\n"

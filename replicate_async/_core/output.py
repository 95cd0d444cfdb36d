"""Schema-aware output shaping (pure): join token streams, turn file values into files.

A model version's ``openapi_schema`` is the OpenAPI 3.0 document Cog generated for it; its
``components.schemas.Output`` says what a prediction's ``output`` is (API-FACTS, "Model versions
and output shapes"):

* ``type: array``, ``items.type: string``, ``x-cog-array-type: iterator`` and
  ``x-cog-array-display: concatenate`` is a token stream: the result is ``"".join(output)``
  (PEER-DEFECT 2);
* other arrays stay lists; an array whose ``x-cog-array-type`` is ``iterator`` (or any array
  when ``cog_version`` is below 0.3.9, which predates that marker) streams item by item;
* ``format: uri`` marks files, as a scalar, as array items, as object properties, nested, and
  through ``$ref``/``allOf``. Only those values are handed to ``to_file``: a string is never
  treated as a file because it looks like a URL (PEER-DEFECT 7), and with no schema the output
  is returned unchanged. ``data:`` URIs (sync mode may return them) are files like URLs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs

__all__ = ["OutputSpec"]

_Kind = Literal["plain", "file", "array", "object", "union"]
_MAX_DEPTH = 64  # bounds pathological (or cyclic) schemas


@attrs.frozen
class _Node:
    """What to do with one value: ``file`` converts strings, containers recurse, ``union`` picks
    an option by the value's JSON type. Subtrees without files collapse to ``plain``."""

    kind: _Kind
    json_type: str | None = None  # "string", "array", … as declared, for union dispatch
    items: _Node | None = None
    properties: tuple[tuple[str, _Node], ...] = ()
    additional: _Node | None = None
    options: tuple[_Node, ...] = ()


_PLAIN = _Node("plain")


def _has_file(node: _Node) -> bool:
    return node.kind != "plain"  # plain subtrees are pruned, so anything else holds a file


class _Resolver:
    """Flattens ``$ref`` (JSON pointers into the document) and ``allOf`` into plain schemas."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document

    def lookup(self, ref: str) -> Mapping[str, Any] | None:
        if not ref.startswith("#/"):
            return None  # only local references exist in Cog documents
        target: Any = self.document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, Mapping) or part not in target:
                return None
            target = target[part]
        return target if isinstance(target, Mapping) else None

    def flatten(self, schema: Any, seen: frozenset[str]) -> tuple[dict[str, Any], frozenset[str]]:
        """The schema with its ``$ref`` and ``allOf`` merged in, and the refs followed so far."""
        if not isinstance(schema, Mapping):
            return {}, seen
        result: dict[str, Any] = {}
        ref = schema.get("$ref")
        if isinstance(ref, str):
            target = self.lookup(ref)
            if target is not None and ref not in seen:  # a cycle resolves to "anything"
                flat, seen = self.flatten(target, seen | {ref})
                _merge(result, flat)
        for sub in schema.get("allOf") or ():
            flat, seen = self.flatten(sub, seen)
            _merge(result, flat)
        _merge(result, {k: v for k, v in schema.items() if k not in ("$ref", "allOf")})
        return result, seen

    def build(self, schema: Any, seen: frozenset[str], depth: int = 0) -> _Node:
        if depth > _MAX_DEPTH:
            return _PLAIN
        flat, seen = self.flatten(schema, seen)
        json_type = _json_type(flat)
        alternatives = [s for key in ("anyOf", "oneOf") for s in flat.get(key) or ()]
        if alternatives:
            nodes = [self.build(s, seen, depth + 1) for s in alternatives]
            nodes = [n for n in nodes if n.json_type != "null"]
            if len(nodes) == 1:
                return nodes[0]
            if not any(_has_file(n) for n in nodes):
                return _Node("plain", json_type)
            return _Node("union", json_type, options=tuple(nodes))
        if json_type == "string" and flat.get("format") == "uri":
            return _Node("file", "string")
        if json_type == "array":
            items = self.build(flat.get("items"), seen, depth + 1)
            return (
                _Node("array", "array", items=items)
                if _has_file(items)
                else _Node("plain", "array")
            )
        if json_type == "object":
            props = flat.get("properties")
            properties = tuple(
                (name, node)
                for name, sub in (props.items() if isinstance(props, Mapping) else ())
                if _has_file(node := self.build(sub, seen, depth + 1))
            )
            extra = flat.get("additionalProperties")
            additional = self.build(extra, seen, depth + 1) if isinstance(extra, Mapping) else None
            if additional is not None and not _has_file(additional):
                additional = None
            if properties or additional is not None:
                return _Node("object", "object", properties=properties, additional=additional)
        return _Node("plain", json_type)


def _merge(into: dict[str, Any], other: Mapping[str, Any]) -> None:
    for key, value in other.items():
        if key == "properties" and isinstance(value, Mapping):
            into["properties"] = {**(into.get("properties") or {}), **value}
        else:
            into[key] = value


def _json_type(schema: Mapping[str, Any]) -> str | None:
    declared = schema.get("type")
    if isinstance(declared, list):  # OpenAPI 3.1 / JSON Schema style: ["string", "null"]
        types = [t for t in declared if t != "null"]
        declared = types[0] if len(types) == 1 else ("null" if not types else None)
    if isinstance(declared, str):
        return declared
    if schema.get("format") == "uri":
        return "string"
    if "items" in schema:
        return "array"
    if "properties" in schema or "additionalProperties" in schema:
        return "object"
    return None


def _version_tuple(version: str) -> tuple[int, ...] | None:
    match = re.match(r"\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", version)
    if match is None:
        return None
    return tuple(int(g) if g else 0 for g in match.groups())


@attrs.frozen
class OutputSpec:
    """How to shape a version's output, derived from its ``openapi_schema``.

    ``known`` is false when there was no usable schema; then :meth:`shape` changes nothing.
    ``concatenate``: the output is a token stream to join into one string. ``iterator``: the
    output is an array produced item by item (streamed as separate ``output`` events).
    ``has_files``: some part of the output is a file (``format: uri``).
    """

    known: bool
    concatenate: bool = False
    iterator: bool = False
    has_files: bool = False
    _root: _Node = attrs.field(default=_PLAIN, repr=False, alias="root")

    @classmethod
    def unknown(cls) -> OutputSpec:
        """The spec to use when the version's schema is not known: leaves output unchanged."""
        return cls(known=False)

    @classmethod
    def from_schema(
        cls, openapi_schema: Mapping[str, Any] | None, cog_version: str | None = None
    ) -> OutputSpec:
        """Read ``components.schemas.Output`` of a Cog OpenAPI document (``$ref``/``allOf`` ok).

        ``cog_version`` is the version's ``cog_version``: below 0.3.9 any array output is an
        iterator, because those versions of Cog did not write ``x-cog-array-type`` yet.
        """
        if not isinstance(openapi_schema, Mapping):
            return cls.unknown()
        components = openapi_schema.get("components")
        schemas = components.get("schemas") if isinstance(components, Mapping) else None
        output = schemas.get("Output") if isinstance(schemas, Mapping) else None
        if not isinstance(output, Mapping):
            return cls.unknown()
        resolver = _Resolver(openapi_schema)
        flat, _ = resolver.flatten(output, frozenset())
        root = resolver.build(output, frozenset())
        is_array = _json_type(flat) == "array"
        items, _ = resolver.flatten(flat.get("items"), frozenset())
        marked_iterator = flat.get("x-cog-array-type") == "iterator"
        old_cog = cog_version is not None and (_version_tuple(cog_version) or (1,)) < (0, 3, 9)
        concatenate = (
            is_array
            and marked_iterator
            and flat.get("x-cog-array-display") == "concatenate"
            and _json_type(items) == "string"
            and items.get("format") != "uri"  # joining file URLs would make nonsense
        )
        return cls(
            known=True,
            concatenate=concatenate,
            iterator=is_array and (marked_iterator or old_cog),
            has_files=_has_file(root),
            root=root,
        )

    def shape(self, output: Any, *, to_file: Callable[[str], Any] | None) -> Any:
        """Shape a prediction's final ``output`` as the schema describes.

        Token streams are joined (a str stays a str, None stays None); file values become
        ``to_file(value)`` when ``to_file`` is given and stay strings otherwise; everything else
        is returned as it came (lists stay lists).
        """
        if self.concatenate and isinstance(output, list):
            return "".join(
                item if isinstance(item, str) else str(item) for item in output if item is not None
            )
        if to_file is None or not self.has_files:
            return output
        return _apply(self._root, output, to_file)

    def shape_stream_item(self, item: str, *, to_file: Callable[[str], Any] | None) -> Any:
        """Shape one streamed ``output`` event: a file when the output's items are files.

        Text chunks of token streams (and everything under an unknown schema) come back as is.
        """
        if to_file is None or not self.has_files:
            return item
        root = self._root
        node = root.items if root.kind == "array" and root.items is not None else root
        return _apply(node, item, to_file) if node.kind in ("file", "union") else item


def _apply(node: _Node, value: Any, to_file: Callable[[str], Any]) -> Any:
    kind = node.kind
    if kind == "plain" or value is None:
        return value
    if kind == "file":
        if isinstance(value, str):
            return to_file(value)  # URL or data: URI alike
        if isinstance(value, list):  # liberal: a list where one file was declared
            return [_apply(node, v, to_file) for v in value]
        return value
    if kind == "array":
        if isinstance(value, list) and node.items is not None:
            return [_apply(node.items, v, to_file) for v in value]
        return value
    if kind == "object":
        if not isinstance(value, dict):
            return value
        props = dict(node.properties)
        shaped = {}
        for key, v in value.items():
            sub = props.get(key, node.additional)
            shaped[key] = _apply(sub, v, to_file) if sub is not None else v
        return shaped
    return _apply(_choose(node.options, value), value, to_file)


_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "array": (list,),
    "object": (dict,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


def _choose(options: tuple[_Node, ...], value: Any) -> _Node:
    """The union option for ``value``: the one whose JSON type fits, when that is unambiguous.

    When a plain option fits as well as a file option (say ``string`` or ``string, format: uri``)
    the value is left alone: a file is only made when the schema says so without doubt.
    """
    fitting = [
        o
        for o in options
        if o.json_type is None or isinstance(value, _PY_TYPES.get(o.json_type, ()))
    ]
    if len(fitting) == 1 or (fitting and all(o == fitting[0] for o in fitting)):
        return fitting[0]
    return _PLAIN

"""``-i key=value`` parsing: by the model's input schema when it is known, else JSON when it
parses and text otherwise; ``@path`` for files.

With the schema, ``-i prompt=2024`` stays the text ``"2024"`` (``prompt`` is a string),
``-i steps=20`` is the integer 20, ``-i seed=abc`` is refused before anything is created, and
a misspelled name (``-i promt=hi``) is refused with the nearest valid one.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import ReplicateError
from ._errors import CliError

if TYPE_CHECKING:
    from .. import Client

__all__ = [
    "apply_schema",
    "input_schema",
    "parse_input_value",
    "parse_inputs",
    "schema_inputs",
    "split_inputs",
]

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def _file_or_none(raw: str) -> Any:
    """``@path`` → the file's ``Path``; ``@@x`` → the text ``@x``; anything else: None."""
    if raw.startswith("@@"):
        return raw[1:]
    if raw.startswith("@"):
        path = Path(raw[1:]).expanduser()
        if not raw[1:]:
            raise CliError("'@' must be followed by a file path, as in -i image=@cat.png")
        if not path.is_file():
            raise CliError(f"input file not found: {raw[1:]}")
        return path
    return None


def parse_input_value(raw: str) -> Any:
    """Without a schema: ``"3"`` → 3, ``"true"`` → True, ``'["a"]'`` → list, ``"@cat.png"``
    → ``Path``, and anything that is not JSON stays the text it is (``"a cat"``). ``@@x`` is
    the text ``@x``."""
    special = _file_or_none(raw)
    if special is not None:
        return special
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def split_inputs(pairs: Iterable[str]) -> dict[str, str]:
    """``["prompt=a cat", "steps=20"]`` → ``{"prompt": "a cat", "steps": "20"}`` (the raw
    text of each value); refuses a pair without ``=`` and a name given twice."""
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CliError(
                f"inputs are key=value (or key=@file), got {pair!r}; for example "
                "-i prompt='a cat' -i steps=20 -i image=@cat.png"
            )
        if key in result:
            raise CliError(f"input {key!r} given twice")
        result[key] = raw
    return result


def parse_inputs(pairs: Iterable[str]) -> dict[str, Any]:
    """``["prompt=a cat", "steps=20"]`` → ``{"prompt": "a cat", "steps": 20}`` (no schema)."""
    return {key: parse_input_value(raw) for key, raw in split_inputs(pairs).items()}


# -- by the schema ---------------------------------------------------------------------------


def input_schema(openapi_schema: Any, component: str = "Input") -> dict[str, dict[str, Any]] | None:
    """The input properties of a version's OpenAPI schema (``component``: ``Input``, or
    ``TrainingInput`` for a trainer), each with its ``$ref``/``allOf`` (how cog declares
    choices) resolved; None when the schema does not say."""
    if not isinstance(openapi_schema, Mapping):
        return None
    schemas = openapi_schema.get("components", {}).get("schemas", {})
    inputs = schemas.get(component) if isinstance(schemas, Mapping) else None
    props = inputs.get("properties") if isinstance(inputs, Mapping) else None
    if not isinstance(props, Mapping):
        return None

    def resolve(node: Any, depth: int = 0) -> dict[str, Any]:
        if not isinstance(node, Mapping) or depth > 8:
            return {}
        flat = {k: v for k, v in node.items() if k not in ("$ref", "allOf", "anyOf")}
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            target = schemas.get(ref.rsplit("/", 1)[-1])
            flat = {**resolve(target, depth + 1), **flat}
        for part in node.get("allOf") or []:
            flat = {**resolve(part, depth + 1), **flat}
        return flat

    return {str(name): resolve(node) for name, node in props.items()}


def _convert(name: str, raw: str, spec: Mapping[str, Any]) -> Any:
    special = _file_or_none(raw)
    if special is not None:
        return special
    kind = spec.get("type")
    if kind == "string":
        return raw
    if kind == "integer":
        try:
            return int(raw.strip())
        except ValueError:
            raise CliError(f"input {name!r} must be a whole number, got {raw!r}") from None
    if kind == "number":
        text = raw.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            value = float(text)
        except ValueError:
            raise CliError(f"input {name!r} must be a number, got {raw!r}") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise CliError(f"input {name!r} must be a finite number, got {raw!r}")
        return value
    if kind == "boolean":
        word = raw.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise CliError(f"input {name!r} must be true or false, got {raw!r}")
    if kind in ("array", "object"):
        try:
            value = json.loads(raw)
        except ValueError:
            example = '["a", "b"]' if kind == "array" else '{"key": "value"}'
            raise CliError(
                f"input {name!r} takes JSON, such as {name}='{example}'; got {raw!r}"
            ) from None
        if not isinstance(value, list if kind == "array" else dict):
            raise CliError(f"input {name!r} must be a JSON {kind}, got {raw!r}")
        return value
    return parse_input_value(raw)  # no declared type: as without a schema


def apply_schema(
    raw: Mapping[str, str], properties: Mapping[str, Mapping[str, Any]], *, model: str
) -> dict[str, Any]:
    """Convert raw ``-i`` values by the schema's types; refuse names it does not declare,
    with the nearest valid name (pure)."""
    unknown = [name for name in raw if name not in properties]
    if unknown:
        valid = sorted(properties)
        lines = []
        for name in unknown:
            close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            lines.append(f"{model} has no input {name!r}{hint}")
        shown = ", ".join(valid[:30]) + (" …" if len(valid) > 30 else "")
        lines.append(f"its inputs: {shown}")
        raise CliError("\n".join(lines))
    return {name: _convert(name, value, properties[name]) for name, value in raw.items()}


async def _version_schema(client: Client, model: str) -> Any:
    """The OpenAPI schema of ``owner/name[:version]`` (None for a bare version id)."""
    name, _, version = model.partition(":")
    if "/" not in name:
        return None  # a bare version id: the versions endpoint needs the model's name
    if version:
        found = await client.models.versions.async_get(name, version)
        return found.openapi_schema
    latest = (await client.models.async_get(name)).latest_version
    return latest.openapi_schema if latest is not None else None


async def schema_inputs(
    client: Client,
    model: str | None,
    pairs: Iterable[str],
    *,
    deployment: str | None = None,
    training: bool = False,
) -> dict[str, Any]:
    """``-i`` pairs converted by the input schema of ``model`` (or of the deployment's current
    version; ``training``: the trainer's training inputs). Without a schema (a bare version
    id, a schema that cannot be read), values are guessed as :func:`parse_inputs` does; the
    run then reports what the API refuses."""
    raw = split_inputs(pairs)
    if not raw:
        return {}
    for value in raw.values():
        _file_or_none(value)  # a missing @file is reported before any request
    properties = None
    try:
        if model is not None:
            component = "TrainingInput" if training else "Input"
            properties = input_schema(await _version_schema(client, model), component)
        elif deployment is not None:
            release = (await client.deployments.async_get(deployment)).current_release
            if release is not None and release.model and release.version:
                properties = input_schema(
                    await _version_schema(client, f"{release.model}:{release.version}")
                )
    except ReplicateError:
        properties = None  # the API answered (404 …): the run's own lookup reports it
    if properties is None:
        return {key: parse_input_value(value) for key, value in raw.items()}
    return apply_schema(raw, properties, model=model or f"deployment {deployment}")

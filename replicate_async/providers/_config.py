"""Provider ids and provider configuration (pure): what ``replicate:…`` means, and which model
inputs a provider sends, decided from its config and the environment.

Ids (as promptfoo's Replicate provider writes them):

* ``replicate:owner/name`` or ``replicate:owner/name:version``: a text model;
* ``replicate:image:owner/name:version``: an image generator (output: files);
* ``replicate:moderation:owner/name[:version]``: a Llama Guard style classifier.

Precedence for every completion parameter: the config value, else the environment variable
(``REPLICATE_TEMPERATURE`` …, text models only), else nothing is sent and the model's own default
applies. A config value that is present and not ``None`` always wins, even ``0``, ``""`` or
``[]``: promptfoo's ``config.temperature || env`` turned ``temperature: 0`` into the
environment's value. Environment numbers are parsed strictly and a bad one names its variable.
An empty environment variable counts as unset.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs

from .. import ConfigurationError, InvalidReferenceError, ModelRef, Secret, parse_ref

__all__ = [
    "CREDENTIAL_KEYS",
    "ENV_DEFAULTS",
    "InvalidProviderIdError",
    "ProviderId",
    "ProviderKind",
    "ProviderSettings",
    "parse_provider_id",
    "resolve_settings",
]

ProviderKind = Literal["text", "image", "moderation"]
_KIND_PREFIXES: dict[str, ProviderKind] = {"image": "image", "moderation": "moderation"}
_ID_FORMS = (
    "expected 'replicate:owner/name[:version]', 'replicate:image:owner/name[:version]' or "
    "'replicate:moderation:owner/name[:version]'"
)


class InvalidProviderIdError(InvalidReferenceError):
    """A provider id such as ``replicate:image:owner/name:version`` could not be understood."""


@attrs.frozen
class ProviderId:
    """A parsed provider id: the kind of model and its reference.

    ``str(pid)`` gives the canonical id, e.g. ``replicate:image:stability-ai/sdxl:<version>``.
    """

    kind: ProviderKind
    ref: ModelRef

    def __str__(self) -> str:
        middle = "" if self.kind == "text" else f"{self.kind}:"
        return f"replicate:{middle}{self.ref}"


def parse_provider_id(id: str) -> ProviderId:
    """Parse ``replicate:[image:|moderation:]owner/name[:version]`` (a bare 64-hex version id
    also works as the model part).

    Raises :class:`InvalidProviderIdError` (an :class:`InvalidReferenceError`) quoting the id:
    other providers (``openai:…``), unknown kinds (``replicate:audio:…``) and bad model refs.
    """
    if not isinstance(id, str):
        raise InvalidProviderIdError(
            f"invalid provider id {id!r}: expected a str, got {type(id).__name__}; {_ID_FORMS}"
        )
    text = id.strip()
    scheme, sep, rest = text.partition(":")
    if not sep or scheme != "replicate":
        raise InvalidProviderIdError(
            f"invalid provider id {id!r}: it must start with 'replicate:'; {_ID_FORMS}"
        )
    kind: ProviderKind = "text"
    head, sep, tail = rest.partition(":")
    if sep and "/" not in head:
        if head in _KIND_PREFIXES:
            kind, rest = _KIND_PREFIXES[head], tail
        else:
            raise InvalidProviderIdError(
                f"invalid provider id {id!r}: unknown kind {head!r} (known: 'image', "
                f"'moderation', or none for text); {_ID_FORMS}"
            )
    try:
        ref = parse_ref(rest)
    except InvalidReferenceError as exc:
        raise InvalidProviderIdError(f"invalid provider id {id!r}: {exc}") from None
    return ProviderId(kind, ref)


# -- parameters -------------------------------------------------------------------------------

CREDENTIAL_KEYS = frozenset({"apiKey", "api_key", "apiToken", "api_token"})
"""Config keys that hold a Replicate token: used to build the client, never sent as input."""

_PROMPT_KEYS = frozenset({"prompt", "prefix", "suffix"})


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _string(value: object) -> bool:
    return isinstance(value, str)


def _stop_sequences(value: object) -> bool:
    return isinstance(value, str) or (
        isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
    )


_Check = tuple[Callable[[object], bool], str]
_NUMBER: _Check = (_number, "a number")
_INTEGER: _Check = (_integer, "an integer")
_STRING: _Check = (_string, "a string")

# The parameters promptfoo documents, with the type each must have (checked before anything is
# sent, so a YAML slip such as ``temperature: "0.5"`` is caught with the key's name).
KNOWN_PARAMETERS: dict[str, _Check] = {
    "temperature": _NUMBER,
    "max_length": _INTEGER,
    "max_new_tokens": _INTEGER,
    "top_p": _NUMBER,
    "top_k": _INTEGER,
    "repetition_penalty": _NUMBER,
    "system_prompt": _STRING,
    "stop_sequences": (_stop_sequences, "a string or a list of strings"),
    "seed": _INTEGER,
    "width": _INTEGER,
    "height": _INTEGER,
    "refine": _STRING,
    "apply_watermark": (lambda v: isinstance(v, bool), "true or false"),
    "num_inference_steps": _INTEGER,
}


def _parse_int(text: str) -> int:
    if not text.lstrip("+-").isdigit():
        raise ValueError(text)
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


# Environment defaults for text models (promptfoo's): variable -> (parameter, parser, expected).
ENV_DEFAULTS: dict[str, tuple[str, Callable[[str], Any], str]] = {
    "REPLICATE_MAX_LENGTH": ("max_length", _parse_int, "an integer"),
    "REPLICATE_TEMPERATURE": ("temperature", _parse_float, "a number"),
    "REPLICATE_REPETITION_PENALTY": ("repetition_penalty", _parse_float, "a number"),
    "REPLICATE_TOP_P": ("top_p", _parse_float, "a number"),
    "REPLICATE_TOP_K": ("top_k", _parse_int, "an integer"),
    "REPLICATE_SEED": ("seed", _parse_int, "an integer"),
    "REPLICATE_STOP_SEQUENCES": ("stop_sequences", str, "a string"),
    "REPLICATE_SYSTEM_PROMPT": ("system_prompt", str, "a string"),
}


@attrs.frozen
class ProviderSettings:
    """A provider's resolved configuration.

    ``params``: model inputs from config and environment (never the credential);
    ``sources``: where each came from (``"config"`` or the variable's name);
    ``prefix``/``suffix``: wrap every prompt; ``api_key``: the config's token, if any.
    """

    params: Mapping[str, Any]
    sources: Mapping[str, str]
    prefix: str = ""
    suffix: str = ""
    api_key: Secret | None = attrs.field(default=None, repr=False)


def _prompt_wrapping(config: Mapping[str, Any]) -> tuple[str, str]:
    """``prefix``/``suffix`` at the top of the config or under ``prompt`` (both spellings are in
    promptfoo's docs); the same key in both places must agree."""
    nested = config.get("prompt")
    if nested is None:
        nested = {}
    if not isinstance(nested, Mapping):
        raise ConfigurationError(
            "config 'prompt' must be a mapping with 'prefix' and/or 'suffix' (the prompt itself "
            f"comes from the eval or the call), got {type(nested).__name__}"
        )
    unknown = sorted(set(nested) - {"prefix", "suffix"})
    if unknown:
        raise ConfigurationError(f"config 'prompt' accepts only prefix and suffix, got {unknown}")
    values: list[str] = []
    for key in ("prefix", "suffix"):
        top, inner = config.get(key), nested.get(key)
        for label, value in ((key, top), (f"prompt.{key}", inner)):
            if value is not None and not isinstance(value, str):
                raise ConfigurationError(
                    f"config {label!r} must be a string, got {type(value).__name__}"
                )
        if top is not None and inner is not None and top != inner:
            raise ConfigurationError(
                f"config sets {key!r} twice with different values ({key!r} and 'prompt.{key}')"
            )
        values.append(top if top is not None else (inner or ""))
    return values[0], values[1]


def _api_key(config: Mapping[str, Any]) -> Secret | None:
    found = [k for k in CREDENTIAL_KEYS if config.get(k) is not None]
    if len(found) > 1:
        raise ConfigurationError(f"config holds more than one API key ({sorted(found)})")
    if not found:
        return None
    value = config[found[0]]
    if not isinstance(value, str) or not value.strip():
        # Never echo the value: it is meant to be a credential.
        raise ConfigurationError(f"config {found[0]!r} must be a non-empty string")
    return Secret(value.strip())


def resolve_settings(
    kind: ProviderKind,
    config: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> ProviderSettings:
    """Resolve a provider config (promptfoo keys) and the environment into model inputs.

    Known parameters are type-checked; other keys are passed to the model as they are (as in
    promptfoo), except the credential keys and ``prefix``/``suffix``/``prompt``. ``None`` means
    "not set". Raises :class:`ConfigurationError` naming the key or variable at fault.
    """
    config = dict(config or {})
    env = os.environ if environ is None else environ
    params: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, value in config.items():
        if not isinstance(key, str):
            raise ConfigurationError(f"config keys must be strings, got {key!r}")
        if key in CREDENTIAL_KEYS or key in _PROMPT_KEYS or value is None:
            continue
        check = KNOWN_PARAMETERS.get(key)
        if check is not None and not check[0](value):
            raise ConfigurationError(
                f"config {key!r} must be {check[1]}, got {value!r} ({type(value).__name__})"
            )
        params[key] = ",".join(value) if key == "stop_sequences" and _list(value) else value
        sources[key] = "config"
    if kind == "text":
        for variable, (key, parse, expected) in ENV_DEFAULTS.items():
            raw = env.get(variable, "")
            if key in params or not raw.strip():
                continue
            try:
                params[key] = parse(raw.strip())
            except ValueError:
                raise ConfigurationError(
                    f"environment variable {variable} must be {expected}, got {raw!r}"
                ) from None
            sources[key] = variable
    prefix, suffix = _prompt_wrapping(config)
    return ProviderSettings(params, sources, prefix, suffix, _api_key(config))


def _list(value: object) -> bool:
    return isinstance(value, list | tuple)

"""Model, version and deployment references: parsing and canonical forms (pure).

Accepted model references (``POST /predictions`` takes all three as ``version``, API-FACTS):

* ``owner/name``: the model's latest version (official models are run this way);
* ``owner/name:<version>``: a pinned version;
* ``<version>``: a bare 64-hex version id (PEER-DEFECT 5: must be accepted).

Owner and model names use letters, digits, ``-``, ``_`` and ``.`` and start with a letter or
digit (Replicate creates lowercase names, but mixed case is accepted and kept as written; the
first-character rule also keeps ``.``/``..`` out of URL paths). Version ids are 64 hex digits
(normalised to lowercase) or, for official models, opaque ids such as ``dp-…`` or ``hidden``:
letters, digits, ``_`` and ``-``.
"""

from __future__ import annotations

import re
from typing import NoReturn

import attrs

from .errors import InvalidReferenceError

__all__ = ["ModelRef", "parse_deployment", "parse_ref"]

_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_NAME_RE = re.compile(_NAME)
_HEX64_RE = re.compile(r"[0-9a-fA-F]{64}")
_VERSION_RE = re.compile(r"[A-Za-z0-9_-]+")
_MODEL_RE = re.compile(rf"(?P<owner>{_NAME})/(?P<name>{_NAME})(?::(?P<version>.*))?", re.DOTALL)

_FORMS = (
    "expected one of:\n"
    "  owner/name            e.g. 'meta/meta-llama-3-8b-instruct'\n"
    "  owner/name:version    e.g. 'stability-ai/sdxl:39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea"
    "535525255b1aa35c5565e08b'\n"
    "  version               a bare 64-hex version id, e.g. '39ed52f2a78e934b3ba6e2a89f5b1c712"
    "de7dfea535525255b1aa35c5565e08b'"
)


def _normalise_version(version: str) -> str:
    return version.lower() if _HEX64_RE.fullmatch(version) else version


@attrs.frozen
class ModelRef:
    """A parsed model reference: ``owner``/``name`` and/or ``version``.

    ``owner`` and ``name`` are both set or both None; at least the model or the version is set.
    ``str(ref)`` gives the canonical form: ``owner/name``, ``owner/name:version`` or ``version``.
    """

    owner: str | None
    name: str | None
    version: str | None = None

    def __attrs_post_init__(self) -> None:
        if (self.owner is None) != (self.name is None):
            raise InvalidReferenceError(
                f"ModelRef needs both owner and name, or neither (got owner={self.owner!r}, "
                f"name={self.name!r})"
            )
        if self.owner is None and self.version is None:
            raise InvalidReferenceError("ModelRef needs a model (owner/name), a version, or both")

    @property
    def model(self) -> str | None:
        """``"owner/name"``, or None for a bare version reference."""
        return f"{self.owner}/{self.name}" if self.owner is not None else None

    def __str__(self) -> str:
        model = self.model
        if model is None:
            return str(self.version)
        return model if self.version is None else f"{model}:{self.version}"


def _invalid(ref: object, why: str) -> InvalidReferenceError:
    return InvalidReferenceError(f"invalid model reference {ref!r}: {why}; {_FORMS}")


def parse_ref(ref: str) -> ModelRef:
    """Parse a model reference (surrounding whitespace is ignored).

    Raises :class:`InvalidReferenceError`, quoting the value and listing the accepted forms,
    for anything else: empty strings, ``owner/``, ``/name``, ``a/b/c``, ``owner/name:``,
    bare strings that are not 64-hex version ids, URLs.
    """
    if not isinstance(ref, str):
        raise InvalidReferenceError(
            f"invalid model reference {ref!r}: expected a str, got {type(ref).__name__}; {_FORMS}"
        )
    text = ref.strip()
    if not text:
        raise _invalid(ref, "it is empty")
    if "://" in text or text.startswith(("http:", "https:", "www.")):
        raise _invalid(ref, f"it looks like a URL{_url_hint(text)}")
    if "/" not in text:
        if ":" in text:
            raise _invalid(ref, "a version needs its model in front: 'owner/name:version'")
        if _HEX64_RE.fullmatch(text):
            return ModelRef(None, None, text.lower())
        raise _invalid(ref, "a bare reference must be a 64-hex version id")
    match = _MODEL_RE.fullmatch(text)
    if match is None:
        _explain(ref, text)
    version = match["version"]
    if version is None:
        return ModelRef(match["owner"], match["name"])
    if not version:
        raise _invalid(ref, "the version after ':' is empty")
    if not _VERSION_RE.fullmatch(version):
        raise _invalid(ref, f"{version!r} is not a version id (letters, digits, '-', '_')")
    return ModelRef(match["owner"], match["name"], _normalise_version(version))


def _explain(ref: str, text: str) -> NoReturn:
    """Raise the most helpful error for an ``owner/name[:version]`` that did not match."""
    model = text.split(":", 1)[0]
    parts = model.split("/")
    if len(parts) != 2:
        raise _invalid(ref, f"expected exactly one '/', found {len(parts) - 1}")
    for label, part in zip(("owner", "name"), parts, strict=True):
        if not part:
            raise _invalid(ref, f"the {label} is empty")
        if not _NAME_RE.fullmatch(part):
            raise _invalid(
                ref,
                f"the {label} {part!r} may only hold letters, digits, '-', '_' and '.', "
                "starting with a letter or digit",
            )
    raise _invalid(ref, "it is malformed")  # pragma: no cover - the checks above cover it


def _url_hint(text: str) -> str:
    match = re.search(r"replicate\.com/([^/?#\s]+)/([^/?#\s]+)", text)
    if match and _NAME_RE.fullmatch(match[1]) and _NAME_RE.fullmatch(match[2]):
        return f" (did you mean '{match[1]}/{match[2]}'?)"
    return ""


def parse_deployment(ref: str) -> tuple[str, str]:
    """Parse a deployment reference ``owner/name`` into ``(owner, name)``.

    Deployments have no versions, so ``owner/name:version`` and bare version ids are rejected
    with :class:`InvalidReferenceError`, as is anything else that is not ``owner/name``.
    """
    if not isinstance(ref, str):
        raise InvalidReferenceError(
            f"invalid deployment reference {ref!r}: expected a str 'owner/name'"
        )
    try:
        parsed: ModelRef | None = parse_ref(ref)
    except InvalidReferenceError:
        parsed = None
    if parsed is not None and parsed.owner is not None and parsed.name is not None:
        if parsed.version is None:
            return parsed.owner, parsed.name
        why = "deployments have no versions, drop the ':…' part"
    else:
        why = "expected 'owner/name'"
    raise InvalidReferenceError(
        f"invalid deployment reference {ref!r}: {why}, e.g. 'acme/my-app-image-generator'"
    )

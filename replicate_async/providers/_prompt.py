"""From a prompt to a model input, and from a classifier's text to moderation flags (pure).

* Prefix and suffix wrap the prompt (after a chat prompt has been flattened).
* A chat prompt is a list of ``{"role", "content"}`` messages, given as a list or as its JSON
  text (what an eval's prompt renders to). ``system`` messages become ``system_prompt``; one
  remaining message becomes ``prompt`` as it is, several become ``role: content`` lines.
* Parameters the model's input schema does not declare can be dropped before sending (the API
  answers 422 for them when it validates strictly): see :func:`split_supported`.
* Llama Guard answers ``safe`` or ``unsafe`` followed by a line of category codes (``S1,S10``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from .. import ReplicateAsyncError
from ._llama_guard import LLAMA_GUARD_CATEGORIES

__all__ = [
    "LLAMA_GUARD_CATEGORIES",
    "ChatMessage",
    "ModerationFlag",
    "ModerationOutputError",
    "ModerationResult",
    "as_chat",
    "input_properties",
    "moderation_input",
    "parse_moderation",
    "split_supported",
    "text_input",
]

ChatMessage = Mapping[str, str]


def as_chat(prompt: str | Sequence[ChatMessage]) -> list[dict[str, str]] | None:
    """The messages of a chat prompt, or None when ``prompt`` is plain text.

    A chat prompt is a non-empty list of mappings, each with a string ``role`` and a string
    ``content``; a string counts when it is the JSON text of such a list.
    """
    data: Any = prompt
    if isinstance(prompt, str):
        text = prompt.strip()
        if not text.startswith("["):
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None
    if not isinstance(data, list | tuple) or not data:
        return None
    messages: list[dict[str, str]] = []
    for item in data:
        if not isinstance(item, Mapping):
            return None
        role, content = item.get("role"), item.get("content")
        if not isinstance(role, str) or not isinstance(content, str):
            return None
        messages.append({"role": role, "content": content})
    return messages


def _chat_or_text(prompt: str | Sequence[ChatMessage]) -> list[dict[str, str]] | str:
    """The messages of a chat prompt, else the plain text (a ``TypeError`` for anything else)."""
    messages = as_chat(prompt)
    if messages is not None:
        return messages
    if not isinstance(prompt, str):
        raise TypeError("prompt must be a str or a list of {'role', 'content'} messages")
    return prompt


def _flatten(messages: Sequence[Mapping[str, str]]) -> str:
    if len(messages) == 1:
        return messages[0]["content"]
    return "\n".join(f"{m['role']}: {m['content']}" for m in messages)


def text_input(
    prompt: str | Sequence[ChatMessage],
    params: Mapping[str, Any],
    prefix: str = "",
    suffix: str = "",
) -> dict[str, Any]:
    """The input of a text or image model: ``params``, the wrapped ``prompt`` and, for a chat
    prompt with system messages, their text as ``system_prompt`` (it beats the config's: the
    prompt is the more specific of the two)."""
    result = dict(params)
    messages = _chat_or_text(prompt)
    if isinstance(messages, str):  # plain text
        text = messages
    else:
        system = [m["content"] for m in messages if m["role"] == "system"]
        if system:
            result["system_prompt"] = "\n\n".join(system)
        text = _flatten([m for m in messages if m["role"] != "system"])
    result["prompt"] = f"{prefix}{text}{suffix}"
    return result


def moderation_input(
    prompt: str | Sequence[ChatMessage],
    assistant: str | None,
    params: Mapping[str, Any],
    prefix: str = "",
    suffix: str = "",
) -> dict[str, Any]:
    """The input of a Llama Guard style classifier: ``prompt`` (the user's turn) and, when
    given, ``assistant`` (the reply to classify). A chat prompt supplies both: its user turns
    become ``prompt``, a final assistant message becomes ``assistant``."""
    result = dict(params)
    messages = _chat_or_text(prompt)
    if isinstance(messages, str):  # plain text
        text = messages
    else:
        if assistant is None and messages[-1]["role"] == "assistant":
            assistant = messages[-1]["content"]
        text = "\n\n".join(m["content"] for m in messages if m["role"] == "user")
    result["prompt"] = f"{prefix}{text}{suffix}"
    if assistant is not None:
        result["assistant"] = assistant
    return result


def input_properties(openapi_schema: Mapping[str, Any] | None) -> frozenset[str] | None:
    """The input names a version's Cog schema declares, or None when it declares none."""
    if not isinstance(openapi_schema, Mapping):
        return None
    components = openapi_schema.get("components")
    schemas = components.get("schemas") if isinstance(components, Mapping) else None
    inputs = schemas.get("Input") if isinstance(schemas, Mapping) else None
    props = inputs.get("properties") if isinstance(inputs, Mapping) else None
    if not isinstance(props, Mapping):
        return None
    return frozenset(k for k in props if isinstance(k, str))


def split_supported(
    input: Mapping[str, Any], accepted: frozenset[str] | None, keep: frozenset[str]
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Split ``input`` into what the model accepts and the sorted names it does not declare.

    ``accepted=None`` (no schema) keeps everything; names in ``keep`` (the prompt) are never
    dropped, so a model without a ``prompt`` input still gets a clear 422 from the API.
    """
    if accepted is None:
        return dict(input), ()
    kept = {k: v for k, v in input.items() if k in accepted or k in keep}
    dropped = tuple(sorted(k for k in input if k not in kept))
    return kept, dropped


class ModerationOutputError(ReplicateAsyncError, ValueError):
    """A moderation model answered something that is neither ``safe`` nor ``unsafe …``."""


@attrs.frozen
class ModerationFlag:
    """One violated category: its code (``S1``) and name (None for codes we do not know)."""

    code: str
    description: str | None


@attrs.frozen
class ModerationResult:
    """A classifier's verdict: ``flagged`` (unsafe), the flags, and the raw text it printed."""

    flagged: bool
    flags: tuple[ModerationFlag, ...]
    raw: str

    @property
    def codes(self) -> tuple[str, ...]:
        """The category codes, e.g. ``("S1", "S10")``."""
        return tuple(flag.code for flag in self.flags)

    def summary(self) -> str:
        """``"safe"`` or ``"unsafe: S1 (Violent Crimes), S9"``."""
        if not self.flagged:
            return "safe"
        parts = [f"{f.code} ({f.description})" if f.description else f.code for f in self.flags]
        return "unsafe: " + ", ".join(parts) if parts else "unsafe"


def parse_moderation(output: Any) -> ModerationResult:
    """Parse Llama Guard output: ``"safe"``, or ``"unsafe\\nS1,S10"`` (a token list is joined).

    Codes may be separated by commas, spaces or new lines; case is ignored for the verdict.
    Raises :class:`ModerationOutputError` quoting the text for anything else.
    """
    if isinstance(output, list) and all(isinstance(part, str) for part in output):
        output = "".join(output)
    if not isinstance(output, str):
        raise ModerationOutputError(
            f"moderation output must be text, got {type(output).__name__}: {output!r:.200}"
        )
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    verdict = lines[0].lower() if lines else ""
    if verdict == "safe" and len(lines) == 1:
        return ModerationResult(False, (), output)
    if verdict.split()[:1] == ["unsafe"]:
        rest = " ".join([lines[0][len("unsafe") :], *lines[1:]])
        codes = [c.upper() for c in rest.replace(",", " ").split()]
        # Llama Guard 2 used S1–S11 in another order than Llama Guard 3's taxonomy: codes are
        # reported as the model printed them, and named when known.
        flags = tuple(ModerationFlag(c, LLAMA_GUARD_CATEGORIES.get(c)) for c in codes)
        return ModerationResult(True, flags, output)
    raise ModerationOutputError(
        f"moderation output is neither 'safe' nor 'unsafe …': {output!r:.200}"
    )

"""What to tell a newcomer when a call fails for a reason they can fix (pure).

A 404 alone ("The requested resource could not be found") does not say whether the model name
has a typo or the client talks to the wrong place. These helpers build the messages that do:
a model that does not exist, with the closest names the client knows of, and an API root
without ``/v1`` or a server that does not answer like the Replicate API.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from yarl import URL

__all__ = [
    "api_root_hint",
    "close_model_names",
    "is_problem_body",
    "model_not_found_hint",
]


MAX_SUGGESTIONS = 3


def is_problem_body(body: Any) -> bool:
    """Whether an error body looks like the Replicate API's (a JSON object with ``detail`` or
    ``title``), as opposed to a web server's or a proxy's own 404 page."""
    return isinstance(body, dict) and ("detail" in body or "title" in body)


def api_root_hint(api_root: str, body: Any) -> str | None:
    """For a 404 from a URL under ``api_root``: why the root may be wrong, else None.

    The Replicate API (and the emulator) lives under ``/v1``; an API root without it (say
    ``REPLICATE_BASE_URL=http://127.0.0.1:8787``) answers 404 to everything. A 404 whose body
    is not a Replicate problem document means some other server answered.
    """
    root = URL(api_root)
    if "v1" not in root.path.split("/"):
        suggested = str(root.with_path(root.path.rstrip("/") + "/v1"))
        return (
            f"The API root {api_root} has no /v1, and every Replicate API path starts with "
            f"it: set base_url (or REPLICATE_BASE_URL) to {suggested}."
        )
    if not is_problem_body(body):
        return (
            f"The server at {api_root} answered 404 with a body that is not a Replicate API "
            "error: check that base_url (or REPLICATE_BASE_URL) is the API root, such as "
            "https://api.replicate.com/v1 or the emulator's emu.url."
        )
    return None


def close_model_names(model: str, known: Iterable[str], n: int = MAX_SUGGESTIONS) -> list[str]:
    """Up to ``n`` names of ``known`` (``owner/name``) closest to ``model``, best first."""
    wanted = model.lower()
    by_lower: dict[str, str] = {}
    for name in known:
        if isinstance(name, str) and name.lower() != wanted:
            by_lower.setdefault(name.lower(), name)
    close = difflib.get_close_matches(wanted, list(by_lower), n=n, cutoff=0.6)
    if len(close) < n:  # the same name under another owner is a good guess too
        bare = wanted.rsplit("/", 1)[-1]
        for lower in by_lower:
            if lower not in close and lower.rsplit("/", 1)[-1] == bare:
                close.append(lower)
    return [by_lower[lower] for lower in close[:n]]


def model_not_found_hint(model: str, suggestions: list[str]) -> str:
    """The sentence that replaces a bare 404 for a model that does not exist."""
    text = f"The model {model} was not found (check the owner and name)."
    if len(suggestions) == 1:
        text += f" Did you mean {suggestions[0]}?"
    elif suggestions:
        text += " Did you mean one of: " + ", ".join(suggestions) + "?"
    return text

"""Turning a bare 404 of a run into "model not found, did you mean …" (best effort).

The message itself is built by :mod:`.._core.hints`; this module gathers the candidate names:
the models this client has already looked up, and what the search API finds for the name.
Gathering is bounded (two searches at most, ``SUGGEST_TIMEOUT`` in all) and can never fail the
error path: whatever goes wrong, the original error is raised, with or without suggestions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable
from typing import TypeVar

from .._core.errors import NotFoundError, ReplicateError, with_hint
from .._core.hints import close_model_names, model_not_found_hint
from ..resources.search import SearchNamespace
from .context import OpsClient

__all__ = ["SUGGEST_TIMEOUT", "explain_model_not_found", "with_model_hints"]

log = logging.getLogger("replicate_async")

T = TypeVar("T")

SUGGEST_TIMEOUT = 5.0
"""Seconds at most spent finding close model names for a "model not found" error."""
_SEARCH_LIMIT = 20


async def with_model_hints(client: OpsClient, model: str | None, call: Awaitable[T]) -> T:
    """Await ``call`` (a create for ``model``); a 404 for a model that does not exist is
    raised again as "model not found", with close names when some are known."""
    try:
        return await call
    except NotFoundError as exc:
        if model is None or exc.hint is not None:  # a version id, or the API root is wrong
            raise
        better = await explain_model_not_found(client, model, exc)
        if better is exc:
            raise
        raise better from None


async def explain_model_not_found(
    client: OpsClient, model: str, exc: NotFoundError
) -> NotFoundError:
    """``exc`` with a "model not found" message when ``model`` does not exist, else ``exc``."""
    try:
        suggestions = await asyncio.wait_for(_find(client, model), SUGGEST_TIMEOUT)
    except (ReplicateError, asyncio.TimeoutError, OSError) as failure:
        log.debug("no suggestions for %s: %s", model, failure)
        suggestions = []
    except Exception:  # never let the hint replace the error it explains
        log.debug("no suggestions for %s", model, exc_info=True)
        suggestions = []
    if suggestions is None:
        return exc  # the model exists: the 404 is about something else
    return with_hint(exc, model_not_found_hint(model, suggestions))


async def _find(client: OpsClient, model: str) -> list[str] | None:
    """Close names for ``model``, or None when it exists after all."""
    try:
        await client._schemas.lookup_model(model)
    except NotFoundError:
        return await _suggestions(client, model)
    return None


async def _suggestions(client: OpsClient, model: str) -> list[str]:
    cache = client._schemas
    known = {*cache._models, *cache._latest, *cache._official}
    close = close_model_names(model, known)
    if close:
        return close
    owner, _, name = model.partition("/")
    for query in (re.sub(r"[-_./]+", " ", name).strip(), owner):
        if not query:
            continue
        with contextlib.suppress(ReplicateError):
            found = await SearchNamespace(client).async_search(query, limit=_SEARCH_LIMIT)
            known.update(f"{r.model.owner}/{r.model.name}" for r in found.models)
            close = close_model_names(model, known)
            if close:
                return close
    return []

"""What a run targets: the create's arguments and what is known of the model in advance."""

from __future__ import annotations

from typing import Any

import attrs

from ..types import Model, Version

__all__ = ["Target"]


@attrs.frozen
class Target:
    """What to run: keyword arguments for ``predictions.async_create`` and what is known of
    the model (``owner/name``) and its schema (a ``Model``/``Version`` object) in advance."""

    create: dict[str, Any]
    model: str | None = None
    hint: Model | Version | None = None
    shown: str = ""

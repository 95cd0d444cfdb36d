"""The values a batch hands out: results, progress reports, and the items it runs."""

from __future__ import annotations

from typing import Any

import attrs

from .._core.errors import PredictionCanceledError
from ..types import Prediction

__all__ = ["BatchProgress", "BatchResult", "BatchStoppedError", "Item"]


class BatchStoppedError(PredictionCanceledError):
    """An item was canceled because the batch itself was stopped (cancelled or closed)."""


@attrs.frozen
class BatchResult:
    """The outcome of one input of a batch.

    ``index`` is the input's position (0-based); ``status`` is the prediction's final status
    (``"succeeded"``, ``"failed"``, ``"canceled"``, ``"aborted"``) or ``"error"`` when there
    is no final prediction (the API refused the create, the connection failed, a ``timeout``
    expired without a cancel). ``output`` is the shaped output of a success; ``error`` the
    exception otherwise. ``prediction`` is the prediction object when there is one.
    """

    index: int
    input: Any
    status: str
    prediction_id: str | None = None
    output: Any = None
    error: BaseException | None = attrs.field(default=None, eq=False)
    prediction: Prediction | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def ok(self) -> bool:
        """Whether the prediction succeeded."""
        return self.status == "succeeded"

    def result(self) -> Any:
        """The output of a success; raises the item's error otherwise."""
        if self.error is not None:
            raise self.error
        return self.output


@attrs.frozen
class BatchProgress:
    """Counts of a running batch, given to the ``on_progress`` callback whenever they change.

    ``submitted``: inputs taken so far; ``in_flight``: predictions running; ``done``: items
    finished, ``failed`` of which did not succeed; ``canceled``: items canceled because the
    batch itself was cancelled. ``final`` marks the last report; when the batch stopped early,
    ``undelivered`` holds every started item that was not handed out (see ``batch.py``).
    """

    submitted: int
    in_flight: int
    done: int
    failed: int
    elapsed: float
    canceled: int = 0
    final: bool = False
    undelivered: tuple[BatchResult, ...] = ()

    @property
    def succeeded(self) -> int:
        """Items that finished successfully."""
        return self.done - self.failed


@attrs.frozen
class Item:
    """One unit of work: an index, its input, and optionally a prediction to adopt instead
    of creating one (used to resume a batch whose predictions were already created)."""

    index: int
    input: Any
    adopt: str | None = None

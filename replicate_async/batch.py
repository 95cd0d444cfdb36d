"""Batch fan-out (public module): re-exports of :mod:`replicate_async._ops.batch`."""

from ._ops.batch import *  # noqa: F403
from ._ops.batch import __all__ as __all__

"""What the operations need of their client, as a protocol (they never import the client).

The :class:`~replicate_async.Client` provides all of it: the namespaces the operations call,
the transport, the schema cache and the injectable sleep. Tests can hand the operations
anything shaped like this.
"""

from __future__ import annotations

from typing import Protocol

from ..resources._base import ResourceClient
from ..resources.files import Files
from ..resources.models import Models
from ..resources.predictions import Predictions
from .lifetimes import Lifetimes
from .schemas import SchemaCache

__all__ = ["OpsClient"]


class OpsClient(ResourceClient, Protocol):
    """A client as the operations use it."""

    predictions: Predictions
    models: Models
    files: Files
    _schemas: SchemaCache
    _lifetimes: Lifetimes

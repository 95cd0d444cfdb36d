"""replicate_async: an asyncio-first client for Replicate's HTTP API.

``await client.run(...)`` in async apps, ``client.run_sync(...)`` in notebooks and scripts, and a
local emulator (:mod:`replicate_async.emulator`) for tests and demos. Re-exports only.

The names are imported on first use (:pep:`562`), so ``import replicate_async`` costs next to
nothing: a program pays for the client's modules (and aiohttp) when it first touches
``replicate_async.Client`` or any other name below.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._client import Client as Client
    from ._client import __version__ as __version__
    from ._core.config import Timeouts as Timeouts
    from ._core.errors import APIConnectionError as APIConnectionError
    from ._core.errors import APITimeoutError as APITimeoutError
    from ._core.errors import AuthenticationError as AuthenticationError
    from ._core.errors import BadRequestError as BadRequestError
    from ._core.errors import ConfigurationError as ConfigurationError
    from ._core.errors import ConflictError as ConflictError
    from ._core.errors import InvalidReferenceError as InvalidReferenceError
    from ._core.errors import InvalidResponseError as InvalidResponseError
    from ._core.errors import ModelError as ModelError
    from ._core.errors import NotFoundError as NotFoundError
    from ._core.errors import PayloadTooLargeError as PayloadTooLargeError
    from ._core.errors import PaymentRequiredError as PaymentRequiredError
    from ._core.errors import PermissionDeniedError as PermissionDeniedError
    from ._core.errors import PredictionAbortedError as PredictionAbortedError
    from ._core.errors import PredictionCanceledError as PredictionCanceledError
    from ._core.errors import PredictionError as PredictionError
    from ._core.errors import RateLimitError as RateLimitError
    from ._core.errors import ReplicateAsyncError as ReplicateAsyncError
    from ._core.errors import ReplicateError as ReplicateError
    from ._core.errors import RunTimeoutError as RunTimeoutError
    from ._core.errors import ServerError as ServerError
    from ._core.errors import TransportError as TransportError
    from ._core.errors import UnprocessableEntityError as UnprocessableEntityError
    from ._core.events import StreamEvent as StreamEvent
    from ._core.file_source import FileInputError as FileInputError
    from ._core.ratelimit import TokenBucketLimiter as TokenBucketLimiter
    from ._core.retry import RetryPolicy as RetryPolicy
    from ._io.bridge import BlockingCallError as BlockingCallError
    from ._ops.batch_types import BatchProgress as BatchProgress
    from ._ops.batch_types import BatchResult as BatchResult
    from ._ops.batch_types import BatchStoppedError as BatchStoppedError
    from ._ops.file_output import FileOutput as FileOutput
    from .types import Account as Account
    from .types import Collection as Collection
    from .types import Deployment as Deployment
    from .types import File as File
    from .types import Hardware as Hardware
    from .types import Model as Model
    from .types import Page as Page
    from .types import Prediction as Prediction
    from .types import PredictionURLs as PredictionURLs
    from .types import SearchCollection as SearchCollection
    from .types import SearchDocPage as SearchDocPage
    from .types import SearchModelMetadata as SearchModelMetadata
    from .types import SearchModelResult as SearchModelResult
    from .types import SearchResults as SearchResults
    from .types import Training as Training
    from .types import Version as Version
    from .types import WebhookSecret as WebhookSecret

# name -> module (relative to this package) that defines it
_LAZY: dict[str, str] = {
    "Client": "._client",
    "__version__": "._client",
    "Timeouts": "._core.config",
    "APIConnectionError": "._core.errors",
    "APITimeoutError": "._core.errors",
    "AuthenticationError": "._core.errors",
    "BadRequestError": "._core.errors",
    "ConfigurationError": "._core.errors",
    "ConflictError": "._core.errors",
    "InvalidReferenceError": "._core.errors",
    "InvalidResponseError": "._core.errors",
    "ModelError": "._core.errors",
    "NotFoundError": "._core.errors",
    "PayloadTooLargeError": "._core.errors",
    "PaymentRequiredError": "._core.errors",
    "PermissionDeniedError": "._core.errors",
    "PredictionAbortedError": "._core.errors",
    "PredictionCanceledError": "._core.errors",
    "PredictionError": "._core.errors",
    "RateLimitError": "._core.errors",
    "ReplicateAsyncError": "._core.errors",
    "ReplicateError": "._core.errors",
    "RunTimeoutError": "._core.errors",
    "ServerError": "._core.errors",
    "TransportError": "._core.errors",
    "UnprocessableEntityError": "._core.errors",
    "StreamEvent": "._core.events",
    "FileInputError": "._core.file_source",
    "TokenBucketLimiter": "._core.ratelimit",
    "RetryPolicy": "._core.retry",
    "BlockingCallError": "._io.bridge",
    "BatchProgress": "._ops.batch_types",
    "BatchResult": "._ops.batch_types",
    "BatchStoppedError": "._ops.batch_types",
    "FileOutput": "._ops.file_output",
    "Account": ".types",
    "Collection": ".types",
    "Deployment": ".types",
    "File": ".types",
    "Hardware": ".types",
    "Model": ".types",
    "Page": ".types",
    "Prediction": ".types",
    "PredictionURLs": ".types",
    "SearchCollection": ".types",
    "SearchDocPage": ".types",
    "SearchModelMetadata": ".types",
    "SearchModelResult": ".types",
    "SearchResults": ".types",
    "Training": ".types",
    "Version": ".types",
    "WebhookSecret": ".types",
}

# Public sub-packages an eager import used to load as a side effect: still reachable as
# attributes of the package without an import statement.
_SUBMODULES = frozenset({"resources", "types"})

__all__ = [
    "APIConnectionError",
    "APITimeoutError",
    "Account",
    "AuthenticationError",
    "BadRequestError",
    "BatchProgress",
    "BatchResult",
    "BatchStoppedError",
    "BlockingCallError",
    "Client",
    "Collection",
    "ConfigurationError",
    "ConflictError",
    "Deployment",
    "File",
    "FileInputError",
    "FileOutput",
    "Hardware",
    "InvalidReferenceError",
    "InvalidResponseError",
    "Model",
    "ModelError",
    "NotFoundError",
    "Page",
    "PayloadTooLargeError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "Prediction",
    "PredictionAbortedError",
    "PredictionCanceledError",
    "PredictionError",
    "PredictionURLs",
    "RateLimitError",
    "ReplicateAsyncError",
    "ReplicateError",
    "RetryPolicy",
    "RunTimeoutError",
    "SearchCollection",
    "SearchDocPage",
    "SearchModelMetadata",
    "SearchModelResult",
    "SearchResults",
    "ServerError",
    "StreamEvent",
    "Timeouts",
    "TokenBucketLimiter",
    "Training",
    "TransportError",
    "UnprocessableEntityError",
    "Version",
    "WebhookSecret",
    "__version__",
]


def __getattr__(name: str) -> Any:
    """Import a public name on first access, then keep it as a plain module attribute."""
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module, __name__), name)
    elif name in _SUBMODULES:  # ``replicate_async.types`` without importing it first
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

"""replicate_async: an asyncio-first client for Replicate's HTTP API.

``await client.run(...)`` in async apps, ``client.run_sync(...)`` in notebooks and scripts, and a
local emulator (:mod:`replicate_async.emulator`) for tests and demos.

Like the official ``replicate`` package, the module itself is a client (made from the
environment on first use): ``await replicate_async.run(...)``, ``replicate_async.run_sync(...)``,
``replicate_async.predictions.create(...)`` … (see :func:`default_client`).

The names are imported on first use (:pep:`562`), so ``import replicate_async`` costs next to
nothing: a program pays for the client's modules (and aiohttp) when it first touches
``replicate_async.Client`` or any other name below.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._client import AwaitableStream as AwaitableStream
    from ._client import Client as Client
    from ._client import ProgressCallback as ProgressCallback
    from ._client import __version__ as __version__
    from ._core.config import Secret as Secret
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
    from ._core.refs import ModelRef as ModelRef
    from ._core.refs import parse_ref as parse_ref
    from ._core.request import parse_duration as parse_duration
    from ._core.retry import RetryPolicy as RetryPolicy
    from ._core.schema_diff import FieldChange as FieldChange
    from ._core.schema_diff import SchemaDiff as SchemaDiff
    from ._default import async_paginate as async_paginate
    from ._default import async_run as async_run
    from ._default import async_search as async_search
    from ._default import async_stream as async_stream
    from ._default import default_client as default_client
    from ._default import paginate as paginate
    from ._default import run as run
    from ._default import run_sync as run_sync
    from ._default import search as search
    from ._default import search_sync as search_sync
    from ._default import stream as stream
    from ._default import stream_sync as stream_sync
    from ._default import use as use
    from ._io.bridge import BlockingCallError as BlockingCallError
    from ._io.bridge import blocking as blocking
    from ._io.telemetry import RequestEvent as RequestEvent
    from ._io.telemetry import ResponseEvent as ResponseEvent
    from ._ops.batch_types import BatchProgress as BatchProgress
    from ._ops.batch_types import BatchResult as BatchResult
    from ._ops.batch_types import BatchStoppedError as BatchStoppedError
    from ._ops.batch_types import Item as BatchItem
    from ._ops.file_output import FileOutput as FileOutput
    from ._ops.file_output import unique_path as unique_path
    from ._ops.use import ModelFunction as ModelFunction
    from .types import Account as Account
    from .types import Collection as Collection
    from .types import Deployment as Deployment
    from .types import File as File
    from .types import Hardware as Hardware
    from .types import Model as Model
    from .types import Page as Page
    from .types import Prediction as Prediction
    from .types import PredictionURLs as PredictionURLs
    from .types import Progress as Progress
    from .types import SearchCollection as SearchCollection
    from .types import SearchDocPage as SearchDocPage
    from .types import SearchModelMetadata as SearchModelMetadata
    from .types import SearchModelResult as SearchModelResult
    from .types import SearchResults as SearchResults
    from .types import Training as Training
    from .types import Version as Version
    from .types import WebhookSecret as WebhookSecret

# Where each public name lives, imported on first access.
_LAZY: dict[str, tuple[str, str]] = {
    "AwaitableStream": ("._client", "AwaitableStream"),
    "Client": ("._client", "Client"),
    "ProgressCallback": ("._client", "ProgressCallback"),
    "__version__": ("._client", "__version__"),
    "Secret": ("._core.config", "Secret"),
    "Timeouts": ("._core.config", "Timeouts"),
    "APIConnectionError": ("._core.errors", "APIConnectionError"),
    "APITimeoutError": ("._core.errors", "APITimeoutError"),
    "AuthenticationError": ("._core.errors", "AuthenticationError"),
    "BadRequestError": ("._core.errors", "BadRequestError"),
    "ConfigurationError": ("._core.errors", "ConfigurationError"),
    "ConflictError": ("._core.errors", "ConflictError"),
    "InvalidReferenceError": ("._core.errors", "InvalidReferenceError"),
    "InvalidResponseError": ("._core.errors", "InvalidResponseError"),
    "ModelError": ("._core.errors", "ModelError"),
    "NotFoundError": ("._core.errors", "NotFoundError"),
    "PayloadTooLargeError": ("._core.errors", "PayloadTooLargeError"),
    "PaymentRequiredError": ("._core.errors", "PaymentRequiredError"),
    "PermissionDeniedError": ("._core.errors", "PermissionDeniedError"),
    "PredictionAbortedError": ("._core.errors", "PredictionAbortedError"),
    "PredictionCanceledError": ("._core.errors", "PredictionCanceledError"),
    "PredictionError": ("._core.errors", "PredictionError"),
    "RateLimitError": ("._core.errors", "RateLimitError"),
    "ReplicateAsyncError": ("._core.errors", "ReplicateAsyncError"),
    "ReplicateError": ("._core.errors", "ReplicateError"),
    "RunTimeoutError": ("._core.errors", "RunTimeoutError"),
    "ServerError": ("._core.errors", "ServerError"),
    "TransportError": ("._core.errors", "TransportError"),
    "UnprocessableEntityError": ("._core.errors", "UnprocessableEntityError"),
    "StreamEvent": ("._core.events", "StreamEvent"),
    "FileInputError": ("._core.file_source", "FileInputError"),
    "TokenBucketLimiter": ("._core.ratelimit", "TokenBucketLimiter"),
    "ModelRef": ("._core.refs", "ModelRef"),
    "parse_ref": ("._core.refs", "parse_ref"),
    "parse_duration": ("._core.request", "parse_duration"),
    "RetryPolicy": ("._core.retry", "RetryPolicy"),
    "FieldChange": ("._core.schema_diff", "FieldChange"),
    "SchemaDiff": ("._core.schema_diff", "SchemaDiff"),
    "async_paginate": ("._default", "async_paginate"),
    "async_run": ("._default", "async_run"),
    "async_search": ("._default", "async_search"),
    "async_stream": ("._default", "async_stream"),
    "default_client": ("._default", "default_client"),
    "paginate": ("._default", "paginate"),
    "run": ("._default", "run"),
    "run_sync": ("._default", "run_sync"),
    "search": ("._default", "search"),
    "search_sync": ("._default", "search_sync"),
    "use": ("._default", "use"),
    "stream": ("._default", "stream"),
    "stream_sync": ("._default", "stream_sync"),
    "BlockingCallError": ("._io.bridge", "BlockingCallError"),
    "blocking": ("._io.bridge", "blocking"),
    "RequestEvent": ("._io.telemetry", "RequestEvent"),
    "ResponseEvent": ("._io.telemetry", "ResponseEvent"),
    "BatchProgress": ("._ops.batch_types", "BatchProgress"),
    "BatchResult": ("._ops.batch_types", "BatchResult"),
    "BatchStoppedError": ("._ops.batch_types", "BatchStoppedError"),
    "BatchItem": ("._ops.batch_types", "Item"),
    "FileOutput": ("._ops.file_output", "FileOutput"),
    "unique_path": ("._ops.file_output", "unique_path"),
    "ModelFunction": ("._ops.use", "ModelFunction"),
    "Account": (".types", "Account"),
    "Collection": (".types", "Collection"),
    "Deployment": (".types", "Deployment"),
    "File": (".types", "File"),
    "Hardware": (".types", "Hardware"),
    "Model": (".types", "Model"),
    "Page": (".types", "Page"),
    "Prediction": (".types", "Prediction"),
    "PredictionURLs": (".types", "PredictionURLs"),
    "Progress": (".types", "Progress"),
    "SearchCollection": (".types", "SearchCollection"),
    "SearchDocPage": (".types", "SearchDocPage"),
    "SearchModelMetadata": (".types", "SearchModelMetadata"),
    "SearchModelResult": (".types", "SearchModelResult"),
    "SearchResults": (".types", "SearchResults"),
    "Training": (".types", "Training"),
    "Version": (".types", "Version"),
    "WebhookSecret": (".types", "WebhookSecret"),
}

# Public sub-packages an eager import used to load as a side effect: still reachable as
# attributes of the package without an import statement.
_SUBMODULES = frozenset({"resources", "types"})

NAMESPACES = frozenset(
    {
        "predictions",
        "models",
        "account",
        "accounts",
        "trainings",
        "deployments",
        "files",
        "collections",
        "hardware",
    }
)
"""The namespaces of the module-level client reachable as ``replicate_async.<name>``
(``webhooks`` and ``batch`` are modules of the package there: use
``default_client().webhooks`` / ``.batch``)."""

__all__ = [
    "APIConnectionError",
    "APITimeoutError",
    "Account",
    "AuthenticationError",
    "AwaitableStream",
    "BadRequestError",
    "BatchItem",
    "BatchProgress",
    "BatchResult",
    "BatchStoppedError",
    "BlockingCallError",
    "Client",
    "Collection",
    "ConfigurationError",
    "ConflictError",
    "Deployment",
    "FieldChange",
    "File",
    "FileInputError",
    "FileOutput",
    "Hardware",
    "InvalidReferenceError",
    "InvalidResponseError",
    "Model",
    "ModelError",
    "ModelFunction",
    "ModelRef",
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
    "Progress",
    "ProgressCallback",
    "RateLimitError",
    "ReplicateAsyncError",
    "ReplicateError",
    "RequestEvent",
    "ResponseEvent",
    "RetryPolicy",
    "RunTimeoutError",
    "SchemaDiff",
    "SearchCollection",
    "SearchDocPage",
    "SearchModelMetadata",
    "SearchModelResult",
    "SearchResults",
    "Secret",
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
    "async_paginate",
    "async_run",
    "async_search",
    "async_stream",
    "blocking",
    "default_client",
    "paginate",
    "parse_duration",
    "parse_ref",
    "run",
    "run_sync",
    "search",
    "search_sync",
    "stream",
    "stream_sync",
    "unique_path",
    "use",
]


def __getattr__(name: str) -> Any:
    """Import a public name on first access (then it is a plain module attribute); the
    namespaces of the module-level client (``replicate_async.predictions`` …) come from it."""
    found = _LAZY.get(name)
    if found is not None:
        value = getattr(importlib.import_module(found[0], __name__), found[1])
    elif name in _SUBMODULES:  # ``replicate_async.types`` without importing it first
        value = importlib.import_module(f".{name}", __name__)
    elif name in NAMESPACES:
        from ._default import default_client

        return getattr(default_client(), name)  # not kept: it follows the default client
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

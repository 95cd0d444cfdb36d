"""replicate_async: an asyncio-first client for Replicate's HTTP API.

``await client.run(...)`` in async apps, ``client.run_sync(...)`` in notebooks and scripts, and a
local emulator (:mod:`replicate_async.emulator`) for tests and demos.

Like the official ``replicate`` package, the module itself is a client (made from the
environment on first use): ``await replicate_async.run(...)``, ``replicate_async.run_sync(...)``,
``replicate_async.predictions.create(...)`` … (see :func:`default_client`).
"""

from typing import Any

from ._client import AwaitableStream, Client, ProgressCallback, __version__
from ._core.config import Secret, Timeouts
from ._core.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    InvalidReferenceError,
    InvalidResponseError,
    ModelError,
    NotFoundError,
    PayloadTooLargeError,
    PaymentRequiredError,
    PermissionDeniedError,
    PredictionAbortedError,
    PredictionCanceledError,
    PredictionError,
    RateLimitError,
    ReplicateAsyncError,
    ReplicateError,
    RunTimeoutError,
    ServerError,
    TransportError,
    UnprocessableEntityError,
)
from ._core.events import StreamEvent
from ._core.file_source import FileInputError
from ._core.ratelimit import TokenBucketLimiter
from ._core.refs import ModelRef, parse_ref
from ._core.request import parse_duration
from ._core.retry import RetryPolicy
from ._core.schema_diff import FieldChange, SchemaDiff
from ._default import (
    NAMESPACES as _NAMESPACES,
)
from ._default import (
    async_paginate,
    async_run,
    async_search,
    async_stream,
    default_client,
    paginate,
    run,
    run_sync,
    search,
    stream,
    stream_sync,
)
from ._io.bridge import BlockingCallError, blocking
from ._io.telemetry import RequestEvent, ResponseEvent
from ._ops.batch_types import BatchProgress, BatchResult, BatchStoppedError
from ._ops.batch_types import Item as BatchItem
from ._ops.file_output import FileOutput, unique_path
from ._ops.use import ModelFunction
from .types import (
    Account,
    Collection,
    Deployment,
    File,
    Hardware,
    Model,
    Page,
    Prediction,
    PredictionURLs,
    Progress,
    SearchCollection,
    SearchDocPage,
    SearchModelMetadata,
    SearchModelResult,
    SearchResults,
    Training,
    Version,
    WebhookSecret,
)

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
    "stream",
    "stream_sync",
    "unique_path",
]


def __getattr__(name: str) -> Any:
    """``replicate_async.predictions`` … : the namespaces of the module-level client."""
    if name in _NAMESPACES:
        return getattr(default_client(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""replicate_async: an asyncio-first client for Replicate's HTTP API.

``await client.run(...)`` in async apps, ``client.run_sync(...)`` in notebooks and scripts, and a
local emulator (:mod:`replicate_async.emulator`) for tests and demos. Re-exports only.
"""

from ._client import Client, __version__
from ._core.config import Timeouts
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
from ._core.retry import RetryPolicy
from ._core.schema_diff import FieldChange, SchemaDiff
from ._io.bridge import BlockingCallError
from ._ops.batch_types import BatchProgress, BatchResult, BatchStoppedError
from ._ops.file_output import FileOutput
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
    "SchemaDiff",
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

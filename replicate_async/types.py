"""Typed data returned by the API.

Every class keeps the fields the API sends that it does not know in ``extra`` (a dict), so
nothing is lost when Replicate adds a field. Statuses are plain strings: new values may appear
and must never crash a client (``aborted`` is one that older clients did not know).
"""

from __future__ import annotations

import copy
import re
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar, cast

import attrs

from ._core.convert import parse_timestamp, structure, unstructure
from ._core.events import StreamEvent
from ._io.bridge import blocking, blocking_iter

__all__ = [
    "TERMINAL_STATUSES",
    "Account",
    "Collection",
    "Deployment",
    "DeploymentConfiguration",
    "DeploymentRelease",
    "File",
    "Hardware",
    "Model",
    "Page",
    "Prediction",
    "PredictionURLs",
    "Progress",
    "SearchCollection",
    "SearchDocPage",
    "SearchModelMetadata",
    "SearchModelResult",
    "SearchResults",
    "Training",
    "Version",
    "WebhookSecret",
    "is_terminal",
]

T = TypeVar("T")
J = TypeVar("J", bound="_Job")

TERMINAL_STATUSES = frozenset({"succeeded", "failed", "canceled", "aborted"})
"""Statuses after which a prediction or training never changes again."""


def is_terminal(status: str | None) -> bool:
    """Whether a prediction/training status is final (``aborted`` included)."""
    return status in TERMINAL_STATUSES


_J_co = TypeVar("_J_co", covariant=True)


class _JobNamespace(Protocol[_J_co]):
    """``client.predictions`` / ``client.trainings`` as a bound object uses them."""

    async def async_get(self, id: str, /) -> _J_co: ...

    async def async_cancel(self, id: str, /) -> _J_co: ...


class BoundClient(Protocol):
    """What a data object needs of the client that fetched it to reload, wait, cancel, stream.

    The :class:`~replicate_async.Client` provides it. Data classes never import the client or
    the operations (lower layers, ARCHITECTURE section 2): they call these.
    """

    @property
    def predictions(self) -> _JobNamespace[Prediction]: ...

    @property
    def trainings(self) -> _JobNamespace[Training]: ...

    @property
    def poll_interval(self) -> float | None: ...

    @property
    def _sleep(self) -> Callable[[float], Awaitable[None]]: ...

    def _stream_prediction(
        self, prediction: Prediction, *, use_file_output: bool, cancel_on_exit: bool
    ) -> AsyncGenerator[StreamEvent, None]: ...

    async def _prediction_result(self, prediction: Prediction, *, use_file_output: bool) -> Any: ...


def _extra() -> Any:
    return attrs.field(factory=dict, repr=False)


def _client_field() -> Any:
    return attrs.field(default=None, repr=False, eq=False, alias="_client")


class _Data:
    """Shared helpers of the data classes."""

    extra: dict[str, Any]

    @classmethod
    def from_dict(cls: type[T], data: Mapping[str, Any], client: BoundClient | None = None) -> T:
        """Build the object from a decoded JSON object (unknown fields go to ``extra``)."""
        obj = structure(cls, data)
        if client is not None and hasattr(obj, "_client"):
            obj._client = client
        return obj

    def to_dict(self) -> dict[str, Any]:
        """The JSON object this was built from (known and unknown fields)."""
        result: dict[str, Any] = unstructure(self)
        return result

    def __getitem__(self, key: str) -> Any:
        """Dict-style access to any field, including unknown ones (``p["webhook_completed"]``)."""
        data = self.to_dict()
        return data[key]

    def keys(self) -> Any:
        """The field names (so ``dict(prediction)`` works, as with the official client)."""
        return self.to_dict().keys()


@attrs.define(kw_only=True)
class Account(_Data):
    """The account that owns the API token (``GET /account``)."""

    type: str | None = None
    username: str | None = None
    name: str | None = None
    github_url: str | None = None
    extra: dict[str, Any] = _extra()


@attrs.define(kw_only=True)
class Version(_Data):
    """A version of a model: its id and the Cog OpenAPI schema of its inputs and outputs."""

    id: str
    created_at: datetime | None = None
    cog_version: str | None = None
    openapi_schema: dict[str, Any] | None = attrs.field(default=None, repr=False)
    extra: dict[str, Any] = _extra()


@attrs.define(kw_only=True)
class Model(_Data):
    """A model on Replicate (``owner/name``)."""

    owner: str
    name: str
    url: str | None = None
    description: str | None = None
    visibility: str | None = None
    github_url: str | None = None
    paper_url: str | None = None
    license_url: str | None = None
    run_count: int | None = None
    cover_image_url: str | None = None
    default_example: dict[str, Any] | None = attrs.field(default=None, repr=False)
    latest_version: Version | None = attrs.field(default=None, repr=False)
    extra: dict[str, Any] = _extra()

    @property
    def id(self) -> str:
        """``owner/name``."""
        return f"{self.owner}/{self.name}"


@attrs.define(kw_only=True)
class PredictionURLs(_Data):
    """URLs of a prediction. ``stream`` is on another host than the API; ``web`` may be absent.

    Attributes (``urls.stream``) or, as the official client's dict, keys: ``urls["stream"]``,
    ``"stream" in urls``, ``dict(urls)`` (only the URLs the API sent). ``urls.get`` is the
    prediction's URL, not ``dict.get``.
    """

    get: str | None = None
    cancel: str | None = None
    stream: str | None = None
    web: str | None = None
    extra: dict[str, Any] = _extra()

    def _present(self) -> dict[str, Any]:
        return {k: v for k, v in self.to_dict().items() if v is not None}

    def __getitem__(self, key: str) -> Any:
        """``urls["stream"]``; ``KeyError`` for a URL the API did not send."""
        return self._present()[key]

    def __contains__(self, key: object) -> bool:
        return key in self._present()

    def __iter__(self) -> Iterator[str]:
        return iter(self._present())

    def __len__(self) -> int:
        return len(self._present())

    def keys(self) -> Any:
        """The names of the URLs the API sent (so ``dict(urls)`` works)."""
        return self._present().keys()

    def items(self) -> Any:
        """``(name, url)`` pairs of the URLs the API sent."""
        return self._present().items()


_PROGRESS = re.compile(r"^\s*(?P<percentage>\d+)%\s*\|.+?\|\s*(?P<current>\d+)\/(?P<total>\d+)")


@attrs.frozen
class Progress:
    """Progress read from a tqdm-style log line (``" 45%|████      | 45/100 [00:02<00:03]"``),
    as the official client reads it: ``percentage`` is a fraction (0.45), ``current``/``total``
    the counts."""

    percentage: float
    current: int
    total: int

    @classmethod
    def parse(cls, logs: str | None) -> Progress | None:
        """The progress of the last progress-bar line of ``logs`` (``None``: none)."""
        lines = (logs or "").split("\n")
        for line in reversed(lines):
            line = line.rsplit("\r", 1)[-1].strip()  # a redrawn bar: what a terminal shows
            matches = _PROGRESS.findall(line)
            if len(matches) == 1:
                percentage, current, total = map(int, matches[0])
                return cls(percentage / 100.0, current, total)
        return None


@attrs.define(kw_only=True)
class _Job(_Data):
    """What predictions and trainings share: status, output and the bound lifecycle methods."""

    id: str
    status: str = "starting"
    model: str | None = None
    version: str | None = None
    input: dict[str, Any] | None = attrs.field(default=None, repr=False)
    output: Any = attrs.field(default=None, repr=False)
    logs: str | None = attrs.field(default=None, repr=False)
    error: Any = None
    metrics: dict[str, Any] | None = attrs.field(default=None, repr=False)
    created_at: datetime | None = attrs.field(default=None, repr=False)
    started_at: datetime | None = attrs.field(default=None, repr=False)
    completed_at: datetime | None = attrs.field(default=None, repr=False)
    urls: PredictionURLs | None = attrs.field(default=None, repr=False)
    source: str | None = attrs.field(default=None, repr=False)
    webhook: str | None = attrs.field(default=None, repr=False)
    webhook_events_filter: list[str] | None = attrs.field(default=None, repr=False)
    extra: dict[str, Any] = _extra()
    # Typed as Any for cattrs (which resolves every annotation); _bound() gives the Client.
    _client: Any = _client_field()

    @property
    def terminal(self) -> bool:
        """Whether the status is final: succeeded, failed, canceled or aborted."""
        return is_terminal(self.status)

    # A pickle never holds the client: it holds the API token and open connections. What is
    # unpickled is unbound (as ``webhooks.verify`` gives them); ``from_dict(p.to_dict(),
    # client)`` binds it. Copies keep the client they were made from.
    def __reduce__(self) -> tuple[Any, ...]:
        return (_unpickle, (type(self), self.to_dict()))

    def __copy__(self: J) -> J:
        return attrs.evolve(self)

    def __deepcopy__(self: J, memo: dict[int, Any]) -> J:
        return type(self).from_dict(copy.deepcopy(self.to_dict(), memo), self._client)

    def _bound(self) -> BoundClient:
        if self._client is None:
            from ._core.errors import ConfigurationError

            raise ConfigurationError(
                f"{type(self).__name__} {self.id} is not bound to a client; fetch it through "
                "a Client (client.predictions.get(...)) to reload, wait or cancel it"
            )
        client: BoundClient = self._client
        return client

    def _update(self: J, fresh: J) -> J:
        for field in attrs.fields(type(self)):
            if field.name != "_client":
                setattr(self, field.name, getattr(fresh, field.name))
        return self

    def _fetch(self: J) -> Awaitable[J]:
        raise NotImplementedError

    def _post_cancel(self: J) -> Awaitable[J]:
        raise NotImplementedError

    async def async_reload(self: J) -> J:
        """Fetch the latest state from the API and update this object in place."""
        return self._update(await self._fetch())

    async def async_cancel(self: J) -> J:
        """Cancel it (a finished one is returned unchanged) and update this object in place."""
        return self._update(await self._post_cancel())

    async def async_wait(
        self: J, *, timeout: float | None = None, poll_interval: float | None = None
    ) -> J:
        """Poll until the status is terminal, with adaptive backoff, and return it updated.

        ``timeout`` (seconds) bounds the wait and raises ``TimeoutError`` when it expires; the
        remote job keeps running (cancel it if you no longer need it). ``poll_interval`` caps the
        delay between polls (default: the client's ``poll_interval``, else
        ``REPLICATE_POLL_INTERVAL``, else 2 s).
        """
        import asyncio

        from ._core.backoff import Backoff

        client = self._bound()
        if poll_interval is None:
            poll_interval = client.poll_interval
        backoff = Backoff.from_env(ceiling=poll_interval)
        sleep = client._sleep

        async def poll() -> None:
            while not self.terminal:
                await sleep(backoff.next())
                await self.async_reload()

        try:
            await asyncio.wait_for(poll(), timeout)
        except asyncio.TimeoutError:
            # Python 3.10's asyncio.TimeoutError is not the built-in one the docs promise.
            raise TimeoutError(
                f"{type(self).__name__} {self.id} was still {self.status} after {timeout} s; "
                "it keeps running on the server (cancel() it if you no longer need it)"
            ) from None
        return self

    reload = blocking(async_reload)
    cancel = blocking(async_cancel)
    wait = blocking(async_wait)


# -- Prediction.from_dict's direct path -------------------------------------------------------
# Each field of a Prediction and the JSON type the direct path takes for it (None too, but for
# ``id``, ``status`` and ``data_removed``); any other value goes through the converter, which
# converts it or says what is wrong.
_STR, _OPT_STR, _OPT_DICT, _ANY, _TS, _URLS, _STR_LIST, _BOOL = range(8)
_PREDICTION_KINDS = {
    "id": _STR,
    "status": _STR,
    "model": _OPT_STR,
    "version": _OPT_STR,
    "input": _OPT_DICT,
    "output": _ANY,
    "logs": _OPT_STR,
    "error": _ANY,
    "metrics": _OPT_DICT,
    "created_at": _TS,
    "started_at": _TS,
    "completed_at": _TS,
    "urls": _URLS,
    "source": _OPT_STR,
    "webhook": _OPT_STR,
    "webhook_events_filter": _STR_LIST,
    "data_removed": _BOOL,
    "deadline": _TS,
    "deployment": _OPT_STR,
}
_URL_FIELDS = frozenset({"get", "cancel", "stream", "web"})


# The same names, as the constants the class's ``__init__`` has: keyword arguments named by
# these match its parameters by identity, where the keys ``json.loads`` makes are compared
# character by character against each parameter in turn (several µs per prediction).
_PREDICTION_FIELDS = {key: (key, kind) for key, kind in _PREDICTION_KINDS.items()}
_URL_NAMES = {key: key for key in _URL_FIELDS}


def _prediction_fast(data: dict[str, Any]) -> Prediction | None:
    """A Prediction from a JSON object of the common shape, or None (use the converter)."""
    fields: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    known = _PREDICTION_FIELDS
    try:
        for key, value in data.items():
            found = known.get(key)
            if found is None:
                if key == "_client":
                    return None  # the converter's business
                extra[key] = value
                continue
            name, kind = found
            if value is None:
                if kind == _STR or kind == _BOOL:
                    return None
            elif kind == _STR or kind == _OPT_STR:
                if value.__class__ is not str:
                    return None
            elif kind == _TS:
                if value.__class__ is not str:
                    return None
                value = parse_timestamp(value)
            elif kind == _OPT_DICT:
                if value.__class__ is not dict:
                    return None
            elif kind == _URLS:
                value = _urls_fast(value)
                if value is None:
                    return None
            elif kind == _STR_LIST:
                if value.__class__ is not list or any(v.__class__ is not str for v in value):
                    return None
                value = list(value)
            elif kind == _BOOL:
                if value.__class__ is not bool:
                    return None
            fields[name] = value
        if "id" not in fields:
            return None
        return Prediction(**fields, extra=extra)
    except (ValueError, TypeError):
        return None  # the converter raises what it should


def _urls_fast(data: Any) -> PredictionURLs | None:
    if data.__class__ is not dict:
        return None
    fields: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    names = _URL_NAMES
    for key, value in data.items():
        name = names.get(key)
        if name is not None:
            if value is not None and value.__class__ is not str:
                return None
            fields[name] = value
        elif key == "_client":
            return None
        else:
            extra[key] = value
    return PredictionURLs(**fields, extra=extra)


def _unpickle(cls: type[J], data: dict[str, Any]) -> J:
    return cls.from_dict(data)


@attrs.define(kw_only=True)
class Prediction(_Job):
    """A prediction, bound to the client that fetched it.

    ``reload``/``wait``/``cancel`` (and their ``async_`` twins) update it in place.
    """

    data_removed: bool = attrs.field(default=False, repr=False)
    deadline: datetime | None = attrs.field(default=None, repr=False)
    deployment: str | None = attrs.field(default=None, repr=False)

    def _fetch(self) -> Awaitable[Prediction]:
        return self._bound().predictions.async_get(self.id)

    @property
    def progress(self) -> Progress | None:
        """The progress its logs show (the last tqdm-style line), or ``None``."""
        return Progress.parse(self.logs) if self.logs else None

    async def async_output_iterator(self) -> AsyncIterator[Any]:
        """Its output items as they appear (the official ``output_iterator``): polls it until
        it is terminal and yields each new item of a list output once. A failed, canceled or
        aborted prediction raises after the items it produced."""
        from ._core.backoff import Backoff
        from ._core.errors import raise_for_status

        client = self._bound()
        backoff = Backoff.from_env(ceiling=client.poll_interval)
        seen = 0
        while True:
            output = self.output if isinstance(self.output, list) else []
            for item in output[seen:]:
                yield item
            seen = max(seen, len(output))
            if self.terminal:
                break
            await client._sleep(backoff.next())
            await self.async_reload()
        if self.output is not None and not isinstance(self.output, list) and seen == 0:
            yield self.output
        raise_for_status(self)

    output_iterator = blocking_iter(async_output_iterator)

    def _post_cancel(self) -> Awaitable[Prediction]:
        return self._bound().predictions.async_cancel(self.id)

    def stream(
        self, *, use_file_output: bool = True, cancel_on_exit: bool = False
    ) -> AsyncGenerator[StreamEvent, None]:
        """Its events as they happen (``async for event in prediction.stream()``).

        An async iterator, like ``client.stream``; ``stream_sync()`` is the blocking twin and
        ``async_stream()`` the same as this one.

        The events ``client.stream`` yields, with the same guarantees: resumes a dropped
        connection, finishes from the prediction when the stream cannot go on, raises for
        failed, canceled and aborted predictions. ``cancel_on_exit=True`` cancels the
        prediction when the loop is left before the end.
        """
        return self._bound()._stream_prediction(
            self, use_file_output=use_file_output, cancel_on_exit=cancel_on_exit
        )

    async def async_result(self, *, use_file_output: bool = True) -> Any:
        """Wait until it is finished and return its output shaped like ``client.run``'s.

        Waits on its stream (or polls), then joins token streams into ``str`` and turns file
        values into ``FileOutput`` (plain URLs with ``use_file_output=False``). Failed, canceled
        and aborted predictions raise ``ModelError``, ``PredictionCanceledError`` and
        ``PredictionAbortedError``.
        """
        return await self._bound()._prediction_result(self, use_file_output=use_file_output)

    async_stream = stream
    stream_sync = blocking_iter(stream)
    result = blocking(async_result)

    @classmethod
    def from_dict(cls: type[T], data: Mapping[str, Any], client: BoundClient | None = None) -> T:
        """Build the object from a decoded JSON object (unknown fields go to ``extra``)."""
        if cls is Prediction and data.__class__ is dict:
            # The API's own shape, built directly: what the converter would build, at a
            # fraction of its cost (a fan-out builds one per run). Anything else: the converter.
            obj: Any = _prediction_fast(data)
            if obj is not None:
                if client is not None:
                    obj._client = client
                return cast(T, obj)
        return super().from_dict(data, client)


@attrs.define(kw_only=True)
class Training(_Job):
    """A training. When it succeeds, ``output`` holds ``{"version": …, "weights": …}``."""

    destination: str | None = attrs.field(default=None, repr=False)

    @property
    def new_version(self) -> str | None:
        """The version the training created (``output["version"]``), once it succeeded."""
        if isinstance(self.output, Mapping):
            version = self.output.get("version")
            return str(version) if version is not None else None
        return None

    def _fetch(self) -> Awaitable[Training]:
        return self._bound().trainings.async_get(self.id)

    def _post_cancel(self) -> Awaitable[Training]:
        return self._bound().trainings.async_cancel(self.id)


@attrs.define(kw_only=True)
class Collection(_Data):
    """A curated collection of models."""

    slug: str
    name: str | None = None
    description: str | None = None
    models: list[Model] | None = attrs.field(default=None, repr=False)
    extra: dict[str, Any] = _extra()


@attrs.define(kw_only=True)
class Hardware(_Data):
    """A hardware SKU that models and deployments run on."""

    sku: str
    name: str | None = None
    extra: dict[str, Any] = _extra()


@attrs.define(kw_only=True)
class DeploymentConfiguration(_Data):
    """The configuration of a deployment release."""

    hardware: str | None = None
    min_instances: int | None = None
    max_instances: int | None = None
    extra: dict[str, Any] = _extra()


@attrs.define(kw_only=True)
class DeploymentRelease(_Data):
    """A release of a deployment; every update bumps ``number``."""

    number: int | None = None
    model: str | None = None
    version: str | None = None
    created_at: datetime | None = None
    created_by: dict[str, Any] | None = attrs.field(default=None, repr=False)
    configuration: DeploymentConfiguration | None = None
    extra: dict[str, Any] = _extra()


@attrs.define(kw_only=True)
class Deployment(_Data):
    """A deployment: a fixed model version on dedicated hardware."""

    owner: str
    name: str
    current_release: DeploymentRelease | None = None
    extra: dict[str, Any] = _extra()

    @property
    def id(self) -> str:
        """``owner/name``."""
        return f"{self.owner}/{self.name}"


@attrs.define(kw_only=True)
class File(_Data):
    """An uploaded file. ``urls["get"]`` is what goes into a prediction input."""

    id: str
    name: str | None = None
    content_type: str | None = None
    size: int | None = None
    etag: str | None = attrs.field(default=None, repr=False)
    checksums: dict[str, str] | None = attrs.field(default=None, repr=False)
    metadata: dict[str, Any] | None = attrs.field(default=None, repr=False)
    created_at: datetime | None = attrs.field(default=None, repr=False)
    expires_at: datetime | None = attrs.field(default=None, repr=False)
    urls: dict[str, str] | None = attrs.field(default=None, repr=False)
    extra: dict[str, Any] = _extra()

    @property
    def url(self) -> str | None:
        """``urls["get"]``: the URL to pass as a prediction input."""
        return (self.urls or {}).get("get")


@attrs.define(kw_only=True)
class WebhookSecret(_Data):
    """The signing secret of your default webhook (``GET /webhooks/default/secret``).

    ``key`` (``whsec_…``) is what :func:`replicate_async.webhooks.verify` takes; ``repr`` hides it.
    """

    key: str = attrs.field(repr=False)
    extra: dict[str, Any] = _extra()


@attrs.define(kw_only=True)
class SearchModelMetadata(_Data):
    """What search adds to a model: a longer description, tags and a relevance score."""

    generated_description: str | None = attrs.field(default=None, repr=False)
    tags: list[str] = attrs.field(factory=list)
    score: float | None = None
    extra: dict[str, Any] = _extra()


@attrs.define(kw_only=True)
class SearchModelResult(_Data):
    """One model found by ``client.search``: the model and its search ``metadata``."""

    model: Model
    metadata: SearchModelMetadata = attrs.field(factory=SearchModelMetadata)
    extra: dict[str, Any] = _extra()


@attrs.define(kw_only=True)
class SearchCollection(_Data):
    """A collection found by ``client.search``; ``models`` holds ``owner/name`` strings."""

    slug: str
    name: str | None = None
    description: str | None = None
    models: list[str] = attrs.field(factory=list, repr=False)
    extra: dict[str, Any] = _extra()


@attrs.define(kw_only=True)
class SearchDocPage(_Data):
    """A documentation page found by ``client.search``."""

    name: str | None = None
    href: str | None = None
    extra: dict[str, Any] = _extra()


@attrs.define(kw_only=True)
class SearchResults(_Data):
    """The answer of ``GET /search``: models (best first), collections and docs pages."""

    query: str = ""
    models: list[SearchModelResult] = attrs.field(factory=list)
    collections: list[SearchCollection] = attrs.field(factory=list)
    pages: list[SearchDocPage] = attrs.field(factory=list)
    extra: dict[str, Any] = _extra()


@attrs.define(kw_only=True)
class Page(Generic[T]):
    """One page of a list. ``async for``/``for`` over it yields every item across all pages.

    ``next``/``previous`` are the API's cursor URLs, followed verbatim.
    """

    results: list[T]
    next: str | None = None
    previous: str | None = None
    _fetch: Callable[[str], Awaitable[Page[T]]] | None = attrs.field(
        default=None, repr=False, eq=False, alias="_fetch"
    )

    async def async_next_page(self) -> Page[T] | None:
        """Fetch the page after this one (``None`` on the last page)."""
        if self.next is None or self._fetch is None:
            return None
        return await self._fetch(self.next)

    next_page = blocking(async_next_page)

    async def _aiter(self) -> AsyncIterator[T]:
        page: Page[T] | None = self
        seen: set[str] = set()
        while page is not None:
            for item in page.results:
                yield item
            if page.next is None or page.next in seen:
                return
            seen.add(page.next)
            page = await page.async_next_page()

    def __aiter__(self) -> AsyncIterator[T]:
        """Every item of this page and the pages after it."""
        return self._aiter()

    def __iter__(self) -> Iterator[T]:
        """Every item of this page and the pages after it (blocking)."""
        from ._io.bridge import iterate_blocking

        return iterate_blocking(self._aiter())

    def __len__(self) -> int:
        """The number of items on this page."""
        return len(self.results)

"""``client.use(ref)``: a model as a function, its inputs checked before they are sent.

``llama = client.use("meta/meta-llama-3-8b-instruct")`` gives a :class:`ModelFunction`:
``await llama(prompt="Hi")`` runs it with ``run()``'s semantics (output shaped by the schema,
files as ``FileOutput``, typed errors); ``llama.stream(...)``, ``llama.batch(inputs)`` and
``llama.create(...)`` (a ``Prediction``) do what their namesakes on the client do. Blocking
twins follow the project's rule: the verbs that run (``run``, ``stream``, ``batch``) are
coroutines or async iterators with a ``_sync`` twin; the others (``create``) block, with an
``async_`` twin. ``load``/``load_sync`` fetch the schema (done on first call otherwise).

Inputs are checked against the version's schema first (``_core.input_schema``, the validator
the emulator answers with): a bad one raises the API's ``UnprocessableEntityError`` and nothing
is created or uploaded. ``validate=False`` turns that off; a schema that cannot be fetched
lets the call through unchecked.

``owner/name`` follows the model's latest version (as ``run()`` does), unless ``pin=True``:
then the latest version when the function is first loaded is the one every call runs.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Iterable, Mapping
from typing import Any

from .._core.events import StreamEvent
from .._core.input_schema import InputValidator
from .._io.bridge import blocking, blocking_iter
from ..types import Model, Prediction, Version
from .batch import DEFAULT_CONCURRENCY, BatchProgress, BatchResult, run_batch
from .context import OpsClient
from .input_check import Loaded, load_target
from .run import RunOptions, create_prediction, resolve_target, run_prediction
from .stream import stream_run

__all__ = ["ModelFunction"]

_JSON_TYPES = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "array": "list",
    "object": "dict",
}


class ModelFunction:
    """A model as a function (see the module docs). ``help()`` shows its parameters once
    loaded (``await f.load()`` or ``f.load_sync()``)."""

    def __init__(
        self,
        client: OpsClient,
        ref: str | Model | Version | None = None,
        *,
        deployment: str | None = None,
        pin: bool = False,
        validate: bool = True,
        wait: bool | int = True,
        timeout: float | None = None,
        use_file_output: bool = True,
        file_encoding: str | None = None,
    ) -> None:
        self._client = client
        self._target = resolve_target(ref, deployment)  # a bad reference fails here
        self._ref: str | Model | Version | None = ref
        self._deployment = deployment
        self._pin = pin
        self._options = RunOptions(
            wait=wait,
            timeout=timeout,
            use_file_output=use_file_output,
            file_encoding=file_encoding,
            validate=validate,
        )
        self._loaded: Loaded | None = None
        self._load_tried = False
        self.__name__ = self._target.shown.split(":", 1)[0].rsplit("/", 1)[-1] or "model"
        self.__qualname__ = self.__name__
        self.__doc__ = (
            f"{self._target.shown}: the schema is not loaded yet; call `await f.load()` "
            "(or `f.load_sync()`) to see its parameters."
        )

    # pydoc documents an object with __get__ as a routine: help(f) shows f.__doc__ and
    # f.__signature__ (the model's parameters), not this class's docs.
    def __get__(self, obj: object, objtype: type | None = None) -> ModelFunction:
        return self

    def __repr__(self) -> str:
        state = f"version {self.version.id}" if self.version is not None else "not loaded"
        return f"<ModelFunction {self._target.shown} ({state})>"

    @property
    def ref(self) -> str:
        """What runs: ``owner/name``, ``owner/name:version``, a version id or a deployment."""
        return self._target.shown

    @property
    def version(self) -> Version | None:
        """The version whose schema was loaded (None before ``load``)."""
        return self._loaded.version if self._loaded is not None else None

    @property
    def validator(self) -> InputValidator | None:
        """The compiled input checks of the loaded version (None before ``load``)."""
        return self._loaded.validator if self._loaded is not None else None

    # -- loading -----------------------------------------------------------------------
    async def load(self) -> ModelFunction:
        """Fetch the version's schema (for ``help()`` and, with ``pin=True``, the version
        every call runs). API errors propagate; returns the function itself."""
        self._load_tried = True
        loaded = await load_target(self._client, self._target)
        if loaded is None:
            self.__doc__ = f"{self._target.shown}: no schema is available for this reference."
            return self
        self._loaded = loaded
        if self._pin and "model" in self._target.create and loaded.model and loaded.version.id:
            self._ref = f"{loaded.model}:{loaded.version.id}"
            self._target = resolve_target(self._ref)
        self._document(loaded)
        return self

    load_sync = blocking(load)

    async def _first_use(self) -> None:
        if self._load_tried:
            return
        try:
            await self.load()
        except Exception:
            if self._pin:
                raise  # a pinned function must know its version before it runs
            # Otherwise the call goes on: run() reports a bad model in the API's words.

    def _document(self, loaded: Loaded) -> None:
        validator = loaded.validator
        required = set(validator.required)
        params = []
        for spec in sorted(validator.fields.values(), key=lambda s: s.order):
            annotation = _JSON_TYPES.get(spec.type or "", "Any")
            if spec.format == "uri":
                annotation = "str | Path | bytes | IO[bytes]"
            default = inspect.Parameter.empty if spec.name in required else spec.default
            if spec.name not in required and not spec.has_default:
                annotation += " | None"
            params.append(
                inspect.Parameter(
                    spec.name,
                    inspect.Parameter.KEYWORD_ONLY,
                    default=default,
                    annotation=annotation,
                )
            )
        self.__signature__ = inspect.Signature(params)
        head = f"Run {self._target.shown} (version {loaded.version.id})."
        self.__doc__ = f"{head}\n\nParameters:\n\n{validator.describe()}"

    # -- running -------------------------------------------------------------------------
    def _run_ref(self) -> tuple[str | Model | Version | None, str | None]:
        return self._ref, self._deployment

    async def __call__(self, **input: Any) -> Any:
        """Run the model with these inputs and return its output (see ``run``)."""
        return await self.run(**input)

    async def run(self, **input: Any) -> Any:
        """Run the model and return its output, shaped by the schema (as ``client.run``)."""
        await self._first_use()
        ref, deployment = self._run_ref()
        _, output = await run_prediction(
            self._client, ref, input, self._options, deployment=deployment
        )
        return output

    run_sync = blocking(run)

    async def stream(self, **input: Any) -> AsyncGenerator[StreamEvent, None]:
        """Run the model and iterate its events (as ``client.stream``)."""
        await self._first_use()
        ref, deployment = self._run_ref()
        options = RunOptions(
            wait=False,
            use_file_output=self._options.use_file_output,
            file_encoding=self._options.file_encoding,
            validate=self._options.validate,
        )
        events = stream_run(self._client, ref, input, options, deployment=deployment)
        try:
            async for event in events:
                yield event
        finally:
            await events.aclose()

    stream_sync = blocking_iter(stream)

    async def batch(
        self,
        inputs: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        ordered: bool = False,
        on_progress: Callable[[BatchProgress], object] | None = None,
    ) -> AsyncGenerator[BatchResult, None]:
        """Run the model on many inputs (as ``client.batch``); each input is checked before
        its prediction is created, and a refused one is a failed item, not a stop."""
        await self._first_use()
        ref, deployment = self._run_ref()
        options = RunOptions(
            wait=False,
            timeout=self._options.timeout,
            use_file_output=self._options.use_file_output,
            file_encoding=self._options.file_encoding,
            validate=self._options.validate,
        )
        results = run_batch(
            self._client,
            ref,
            inputs,
            options,
            deployment=deployment,
            concurrency=concurrency,
            ordered=ordered,
            on_progress=on_progress,
        )
        try:
            async for result in results:
                yield result
        finally:
            await results.aclose()

    batch_sync = blocking_iter(batch)

    async def async_create(self, **input: Any) -> Prediction:
        """Create a prediction with these inputs and return it without waiting."""
        await self._first_use()
        ref, deployment = self._run_ref()
        prediction, _ = await create_prediction(
            self._client, resolve_target(ref, deployment), input, self._options, wait=None
        )
        return prediction

    create = blocking(async_create)

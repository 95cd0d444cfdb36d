"""The provider object: a model id + config that runs prompts (see :mod:`providers`)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs

from .. import Client, ConfigurationError, FileOutput, ModelRef, Prediction, blocking
from ._config import (
    ProviderId,
    ProviderKind,
    ProviderSettings,
    parse_provider_id,
    resolve_settings,
)
from ._prompt import (
    ChatMessage,
    ModerationResult,
    input_properties,
    moderation_input,
    parse_moderation,
    split_supported,
    text_input,
)

__all__ = [
    "Output",
    "PreparedInput",
    "Prompt",
    "ProviderResponse",
    "ReplicateProvider",
    "Unsupported",
    "shape_provider_output",
]

log = logging.getLogger("replicate_async.providers")

Unsupported = Literal["drop", "send", "error"]
Prompt = str | Sequence[ChatMessage]
Output = str | list[FileOutput] | ModerationResult
_KEEP = frozenset({"prompt"})


@attrs.frozen
class ProviderResponse:
    """What a provider's run produced.

    ``output`` is text (``kind == "text"``), a list of files (``"image"``) or a
    :class:`ModerationResult` (``"moderation"``); the typed accessors :attr:`text`,
    :attr:`images` and :attr:`moderation` raise ``TypeError`` for another kind. ``input`` is
    exactly what was sent, ``dropped`` the parameters left out because the model's schema does
    not declare them.
    """

    kind: ProviderKind
    output: Output
    input: Mapping[str, Any]
    dropped: tuple[str, ...] = ()
    prediction_id: str | None = None

    def _expect(self, kind: ProviderKind) -> Any:
        if self.kind != kind:
            raise TypeError(f"this is a {self.kind} response, not {kind}")
        return self.output

    @property
    def text(self) -> str:
        """The generated text (text models)."""
        return str(self._expect("text"))

    @property
    def images(self) -> list[FileOutput]:
        """The generated files (image models)."""
        return list(self._expect("image"))

    @property
    def moderation(self) -> ModerationResult:
        """The classifier's verdict (moderation models)."""
        result: ModerationResult = self._expect("moderation")
        return result


@attrs.frozen
class PreparedInput:
    """A model input ready to send, and the parameter names left out of it."""

    input: Mapping[str, Any]
    dropped: tuple[str, ...] = ()


class ReplicateProvider:
    """A Replicate model configured as in an eval config: id + config (+ environment).

    ``client``: the client to run on (shared across providers); with ``config["apiKey"]`` the
    provider builds its own client with that token (and ``client``'s base URL), and closes it
    in :meth:`aclose`. Without either it builds a default client from ``environ``.
    ``environ`` (default ``os.environ``) supplies the ``REPLICATE_*`` defaults.
    ``timeout``: seconds before a run gives up and cancels its remote prediction.
    """

    def __init__(
        self,
        id: str | ProviderId,
        config: Mapping[str, Any] | None = None,
        *,
        client: Client | None = None,
        environ: Mapping[str, str] | None = None,
        unsupported: Unsupported = "drop",
        label: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self.id = id if isinstance(id, ProviderId) else parse_provider_id(id)
        if unsupported not in ("drop", "send", "error"):
            raise ConfigurationError(
                f"unsupported must be 'drop', 'send' or 'error', got {unsupported!r}"
            )
        env = os.environ if environ is None else environ
        self.settings: ProviderSettings = resolve_settings(self.id.kind, config, env)
        self.unsupported: Unsupported = unsupported
        self.label = label
        self.timeout = timeout
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0
        ):  # checked now, not at the first run
            raise ConfigurationError(
                f"timeout must be a positive number of seconds or None, got {timeout!r}"
            )
        self._accepted: frozenset[str] | None = None
        self._accepted_known = False
        self._pending: dict[asyncio.AbstractEventLoop, asyncio.Task[frozenset[str] | None]] = {}
        self._warned: set[str] = set()
        key = self.settings.api_key
        if key is not None:
            base = str(client.base_url) if client is not None else env.get("REPLICATE_BASE_URL")
            self._client = Client(api_token=key.reveal(), base_url=base)
            self._owns_client = True
        elif client is not None:
            self._client, self._owns_client = client, False
        else:
            token = None
            if environ is not None:
                token = environ.get("REPLICATE_API_TOKEN") or environ.get("REPLICATE_API_KEY")
            self._client = Client(api_token=token, base_url=env.get("REPLICATE_BASE_URL"))
            self._owns_client = True

    @classmethod
    def from_id(
        cls,
        id: str | ProviderId,
        config: Mapping[str, Any] | None = None,
        *,
        client: Client | None = None,
        environ: Mapping[str, str] | None = None,
        unsupported: Unsupported = "drop",
        label: str | None = None,
        timeout: float | None = None,
    ) -> ReplicateProvider:
        """Build a provider from an id such as ``replicate:image:owner/name:version`` and its
        config (promptfoo's keys). Raises :class:`InvalidProviderIdError` or
        :class:`~replicate_async.ConfigurationError` before any request is made."""
        return cls(
            id,
            config,
            client=client,
            environ=environ,
            unsupported=unsupported,
            label=label,
            timeout=timeout,
        )

    # -- what it is ----------------------------------------------------------------------
    @property
    def kind(self) -> ProviderKind:
        """``"text"``, ``"image"`` or ``"moderation"``."""
        return self.id.kind

    @property
    def ref(self) -> ModelRef:
        """The model (and version) it runs."""
        return self.id.ref

    @property
    def client(self) -> Client:
        """The client its predictions run on."""
        return self._client

    @property
    def name(self) -> str:
        """The label, else the canonical id."""
        return self.label or str(self.id)

    def __repr__(self) -> str:
        # Parameters only by name: the config is user data, and the token is never shown.
        return (
            f"<ReplicateProvider {str(self.id)!r} kind={self.kind} "
            f"params={sorted(self.settings.params)!r}>"
        )

    # -- building the input ----------------------------------------------------------------
    async def _accepted_inputs(self) -> frozenset[str] | None:
        """Input names the model's version declares (None: unknown). Fetched once: concurrent
        first calls on one event loop share the request; a failed fetch is retried next time."""
        if self._accepted_known:
            return self._accepted
        loop = asyncio.get_running_loop()
        task = self._pending.get(loop)
        if task is None:
            task = self._pending[loop] = loop.create_task(self._fetch_accepted())
            task.add_done_callback(lambda _: self._pending.pop(loop, None))
        accepted = await asyncio.shield(task)
        self._accepted, self._accepted_known = accepted, True
        return accepted

    async def _fetch_accepted(self) -> frozenset[str] | None:
        ref, schema = self.ref, None
        if ref.model is not None and ref.version is not None:
            version = await self._client.models.versions.async_get(ref.model, ref.version)
            schema = version.openapi_schema
        elif ref.model is not None:
            model = await self._client.models.async_get(ref.model)
            latest = model.latest_version
            schema = latest.openapi_schema if latest is not None else None
        return input_properties(schema)

    async def prepare(self, prompt: Prompt, *, assistant: str | None = None) -> PreparedInput:
        """The input :meth:`run` would send for ``prompt`` (fetches the schema once, unless
        ``unsupported="send"``). Raises ``ConfigurationError`` under ``unsupported="error"``."""
        settings = self.settings
        if self.kind == "moderation":
            full = moderation_input(
                prompt, assistant, settings.params, settings.prefix, settings.suffix
            )
        else:
            if assistant is not None:
                raise ConfigurationError("assistant= is only for moderation providers")
            full = text_input(prompt, settings.params, settings.prefix, settings.suffix)
        if self.unsupported == "send":
            return PreparedInput(full)
        kept, dropped = split_supported(full, await self._accepted_inputs(), _KEEP)
        if dropped:
            self._report(dropped)
        return PreparedInput(kept, dropped)

    prepare_sync = blocking(prepare)

    def _report(self, dropped: tuple[str, ...]) -> None:
        sources = {k: self.settings.sources.get(k, "the prompt") for k in dropped}
        listed = ", ".join(f"{k} (from {v})" for k, v in sources.items())
        if self.unsupported == "error":
            raise ConfigurationError(
                f"{self.ref} does not accept {listed}; remove them or use unsupported='drop'"
            )
        fresh = [k for k in dropped if sources[k] == "config" and k not in self._warned]
        if fresh:
            self._warned.update(fresh)
            log.warning(
                "%s: not sending %s: its input schema does not declare them", self.id, fresh
            )
        log.debug("%s: not sending %s", self.id, listed)

    # -- running -----------------------------------------------------------------------------
    def shape(self, output: Any) -> Output:
        """Turn a prediction's output into this provider's kind of result (pure)."""
        return shape_provider_output(self.kind, output, self._client)

    async def run(self, prompt: Prompt, *, assistant: str | None = None) -> ProviderResponse:
        """Run ``prompt`` (text, or a chat as a list of messages or its JSON) on the model.

        Returns text, files or moderation flags in a :class:`ProviderResponse`. A failed create
        raises the API's typed error, whose message carries the HTTP status and ``detail``; a
        failed prediction raises :class:`~replicate_async.ModelError`.
        """
        prepared = await self.prepare(prompt, assistant=assistant)
        created: list[Prediction] = []
        output = await self._client.run(
            str(self.ref), dict(prepared.input), timeout=self.timeout, on_created=created.append
        )
        return ProviderResponse(
            self.kind, self.shape(output), prepared.input, prepared.dropped, created[0].id
        )

    run_sync = blocking(run)

    # -- lifecycle ---------------------------------------------------------------------------
    async def aclose(self) -> None:
        """Close the client the provider built itself (a client passed in stays open)."""
        if self._owns_client:
            await self._client.aclose()

    def close(self) -> None:
        """Blocking twin of :meth:`aclose`."""
        if self._owns_client:
            self._client.close()

    async def __aenter__(self) -> ReplicateProvider:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __enter__(self) -> ReplicateProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def shape_provider_output(kind: ProviderKind, output: Any, client: Client) -> Output:
    """Text joined, files as :class:`FileOutput` (URL strings included, when the schema was not
    known), moderation text parsed (pure)."""
    if kind == "moderation":
        return parse_moderation(output)
    if kind == "image":
        items = output if isinstance(output, list) else [] if output is None else [output]
        return [i if isinstance(i, FileOutput) else FileOutput(str(i), client) for i in items]
    if output is None:
        return ""
    if isinstance(output, list) and all(isinstance(part, str) for part in output):
        return "".join(output)
    if isinstance(output, str):
        return output
    return json.dumps(output, ensure_ascii=False, default=str)

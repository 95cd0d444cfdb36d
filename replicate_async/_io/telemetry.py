"""Observability: request/response hooks and optional OpenTelemetry spans.

Hooks receive small immutable descriptions of each HTTP exchange (:class:`RequestEvent`,
:class:`ResponseEvent`): method, URL without its query, attempt, status, elapsed seconds and the
request id the server returned. Never the token, headers or bodies. A hook may be a plain or an
``async`` callable; one that raises is logged and does not break the call.

Spans (``replicate.request`` for each API call, ``replicate.run`` for each run) are made only
when ``opentelemetry-api`` is installed; they carry the same fields plus, for a run, the
prediction id, model, status and ``predict_time`` (never the token or inputs).
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import attrs

__all__ = ["Hooks", "RequestEvent", "ResponseEvent", "run_span", "tracer"]

log = logging.getLogger("replicate_async")


@attrs.frozen
class RequestEvent:
    """A request about to be sent (``attempt`` counts retries from 1)."""

    method: str
    url: str
    attempt: int = 1


@attrs.frozen
class ResponseEvent:
    """A response received: its ``status``, ``elapsed`` seconds since the request was sent and
    the server's request id when it gave one."""

    method: str
    url: str
    status: int
    elapsed: float
    request_id: str | None = None
    attempt: int = 1


Hook = Callable[[Any], Any]


def _hooks(value: Hook | Iterable[Hook] | None, name: str) -> tuple[Hook, ...]:
    if value is None:
        return ()
    if callable(value):
        return (value,)
    hooks = tuple(value)
    for hook in hooks:
        if not callable(hook):
            from .._core.errors import ConfigurationError

            raise ConfigurationError(f"{name} hooks must be callables, got {hook!r}")
    return hooks


class Hooks:
    """The request and response hooks of a client, with the OpenTelemetry request spans."""

    def __init__(
        self,
        on_request: Hook | Iterable[Hook] | None = None,
        on_response: Hook | Iterable[Hook] | None = None,
        event_hooks: Mapping[str, Iterable[Hook]] | None = None,
    ) -> None:
        extra = dict(event_hooks or {})
        unknown = set(extra) - {"request", "response"}
        if unknown:
            from .._core.errors import ConfigurationError

            raise ConfigurationError(
                f"event_hooks keys are 'request' and 'response', got {sorted(unknown)!r}"
            )
        self.on_request = _hooks(on_request, "request") + _hooks(extra.get("request"), "request")
        self.on_response = _hooks(on_response, "response") + _hooks(
            extra.get("response"), "response"
        )

    def __bool__(self) -> bool:
        return bool(self.on_request or self.on_response) or tracer() is not None

    async def request(self, event: RequestEvent) -> None:
        for hook in self.on_request:
            await _call(hook, event)

    async def response(self, event: ResponseEvent) -> None:
        span_for_response(event)
        for hook in self.on_response:
            await _call(hook, event)


async def _call(hook: Hook, event: object) -> None:
    try:
        result = hook(event)
        if inspect.isawaitable(result):
            await result
    except Exception:
        log.warning("a replicate_async hook raised; ignored", exc_info=True)


# -- OpenTelemetry (optional) ----------------------------------------------------------------
_tracer: list[Any] = []  # [tracer, trace module, unset providers], or [None] when missing
_PROVIDER_ENV = "OTEL_PYTHON_TRACER_PROVIDER" in os.environ  # a provider named by the environment


def tracer() -> Any:
    """The ``replicate_async`` tracer, or ``None`` when ``opentelemetry-api`` is missing or no
    tracer provider is set (spans would go nowhere: a run then pays nothing for them).

    Looked up once: OpenTelemetry's tracer follows the provider set later on by itself, and
    whether one is set is asked each time (a global read)."""
    if not _tracer:
        try:
            from opentelemetry import trace
        except ImportError:
            _tracer.append(None)
        else:
            unset = (trace.ProxyTracerProvider, trace.NoOpTracerProvider)
            _tracer.extend((trace.get_tracer("replicate_async"), trace, unset))
    found = _tracer[0]
    if found is None:
        return None
    trace = _tracer[1]
    # ``get_tracer_provider()`` walks the environment while none is set (a run asks three
    # times): the global it reads says "none set" for less, when the module has it.
    if getattr(trace, "_TRACER_PROVIDER", False) is None and not _PROVIDER_ENV:
        return None
    return None if isinstance(trace.get_tracer_provider(), _tracer[2]) else found


def span_for_response(event: ResponseEvent) -> None:
    """Record one API call as a ``replicate.request`` span (ends at once: times from events)."""
    otel = tracer()
    if otel is None:
        return
    import time

    end = time.time_ns()
    start = end - int(event.elapsed * 1e9)
    span = otel.start_span(
        "replicate.request",
        start_time=start,
        attributes=_clean(
            {
                "http.request.method": event.method,
                "url.full": event.url,
                "http.response.status_code": event.status,
                "replicate.request_id": event.request_id,
                "replicate.attempt": event.attempt,
            }
        ),
    )
    if event.status >= 400:
        from opentelemetry.trace import Status, StatusCode

        span.set_status(Status(StatusCode.ERROR, f"HTTP {event.status}"))
    span.end(end_time=end)


def _clean(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attributes.items() if v is not None}


class RunSpan:
    """A ``replicate.run`` span (or nothing without OpenTelemetry); see :func:`run_span`."""

    def __init__(self, span: Any) -> None:
        self._span = span

    @property
    def recording(self) -> bool:
        """Whether a tracer records this span (else ``prediction`` does nothing)."""
        return self._span is not None

    def prediction(self, prediction: Any) -> None:
        """Record the prediction's id, model, status and ``predict_time``."""
        if self._span is None:
            return
        metrics = getattr(prediction, "metrics", None) or {}
        self._span.set_attributes(
            _clean(
                {
                    "replicate.prediction.id": getattr(prediction, "id", None),
                    "replicate.model": getattr(prediction, "model", None),
                    "replicate.version": getattr(prediction, "version", None),
                    "replicate.prediction.status": getattr(prediction, "status", None),
                    "replicate.predict_time": metrics.get("predict_time"),
                }
            )
        )


class _Unrecorded(RunSpan):
    """The ``run_span`` of a run no tracer records: a context manager that does nothing."""

    def __enter__(self) -> RunSpan:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None


_UNRECORDED = _Unrecorded(None)


def run_span(kind: str, ref: object) -> contextlib.AbstractContextManager[RunSpan]:
    """A span around one ``run`` (``kind``: ``"run"``, ``"stream"``), made current so the API
    calls it makes are its children. Exceptions are recorded by type and message. Without a
    tracer, one shared context manager that does nothing (a fan-out enters it per run)."""
    otel = tracer()
    if otel is None:
        return _UNRECORDED
    return _recorded_span(otel, kind, ref)


@contextlib.contextmanager
def _recorded_span(otel: Any, kind: str, ref: object) -> Iterator[RunSpan]:
    name = ref if isinstance(ref, str) else getattr(ref, "id", None)
    with otel.start_as_current_span(
        f"replicate.{kind}",
        attributes=_clean({"replicate.ref": name}),
        record_exception=False,
    ) as span:
        yield RunSpan(span)

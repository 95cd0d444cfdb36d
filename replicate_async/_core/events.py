"""The events of a prediction's stream, as ``stream()`` yields them (pure data)."""

from __future__ import annotations

from typing import Any

import attrs

from .sse import ServerSentEvent

__all__ = ["FileEvent", "StreamEvent"]


@attrs.frozen(slots=True)
class StreamEvent(ServerSentEvent):
    """One event of a prediction's stream: ``output`` or ``logs``.

    ``event`` is the type, ``data`` the text the server sent, ``id`` the SSE event id (``""``
    when none was ever sent), ``retry`` the reconnection time the server asked for (ms, or
    None). ``output`` is the output item an ``output`` event carries: the text chunk, or a
    ``FileOutput`` for models whose output items are files (unless the stream was opened with
    ``use_file_output=False``); ``None`` for ``logs``. ``str(event)`` is the text of an
    ``output`` event and ``""`` for anything else, so ``print(event, end="")`` prints the
    generated text.
    """

    @property
    def output(self) -> Any:
        """The output item: the text, or a ``FileOutput`` (None for non-output events)."""
        return self.data if self.event == "output" else None

    def __str__(self) -> str:
        return self.data if self.event == "output" else ""


@attrs.frozen(slots=True)
class FileEvent(StreamEvent):
    """An ``output`` event of a model whose output items are files."""

    file: Any = attrs.field(default=None, repr=False)

    @property
    def output(self) -> Any:
        """The ``FileOutput`` (or the value the output schema made of the text)."""
        return self.file

"""The files of ``replicate-async batch``: the JSONL input, the results file and its journal.

* The **input** has one JSON object per line (the model's input); blank lines are ignored.
  An item is identified by its line number and a hash of the line's text, so that editing a
  line makes it a new item while the others keep their results.
* The **results** file gets one JSON line per finished item, appended and flushed as soon as
  the item finishes: a crash or Ctrl-C loses nothing that finished. Re-running the command
  skips the items it already holds.
* The **journal** (``<results>.inflight``) records, before each create, that an item is about
  to start and, as soon as the API answers, its prediction id. After a crash, the next run
  follows those predictions instead of creating them again, so nothing runs twice; it is
  compacted on start and removed when a run finishes every item.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import attrs

__all__ = [
    "Done",
    "InputLine",
    "Journal",
    "Key",
    "Pending",
    "ResultsFile",
    "canonical_hash",
    "line_hash",
    "read_input",
]

Key = tuple[int, str]
"""(1-based line number, hash of the line's text)."""


def line_hash(text: str) -> str:
    """The hash that identifies an input line (of its text without surrounding whitespace)."""
    return hashlib.sha256(text.strip().encode("utf-8", "surrogatepass")).hexdigest()[:16]


def canonical_hash(value: Any) -> str:
    """A hash of a JSON value that ignores key order and spacing (to match remote inputs)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


@attrs.frozen
class InputLine:
    """One non-blank line of the input file."""

    number: int
    text: str

    @property
    def key(self) -> Key:
        return (self.number, line_hash(self.text))

    def parse(self) -> dict[str, Any]:
        """The input dict; ``ValueError`` says why the line is not one."""
        try:
            value = json.loads(self.text)
        except ValueError as exc:
            raise ValueError(f"not valid JSON ({exc})") from None
        if not isinstance(value, dict):
            raise ValueError(f"expected a JSON object of model inputs, got {type(value).__name__}")
        return value


def read_input(path: Path) -> Iterator[InputLine]:
    """The non-blank lines of a JSONL file, one at a time (never the whole file in memory)."""
    with path.open("r", encoding="utf-8", errors="surrogateescape", newline=None) as handle:
        for number, text in enumerate(handle, start=1):
            if text.strip():
                yield InputLine(number, text.rstrip("\n"))


def _json_lines(path: Path) -> Iterator[dict[str, Any]]:
    """Records of a JSONL file we wrote; a torn last line (a crash mid-write) is skipped."""
    if not path.exists():
        return
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        for text in handle:
            try:
                record = json.loads(text)
            except ValueError:
                continue
            if isinstance(record, dict):
                yield record


def _key(record: dict[str, Any]) -> Key | None:
    line, digest = record.get("line"), record.get("input_hash")
    if isinstance(line, int) and not isinstance(line, bool) and isinstance(digest, str):
        return (line, digest)
    return None


@attrs.define
class Done:
    """What the results file says about one item: its latest status and how many results."""

    status: str
    error_type: str | None
    count: int = 1


def _open_append(path: Path) -> IO[str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    if handle.tell() > 0:
        handle.seek(handle.tell() - 1)
        last = handle.read(1)
        handle.seek(0, os.SEEK_END)
        if last != "\n":
            handle.write("\n")  # a torn line must not swallow the next record
    return handle


class ResultsFile:
    """The append-only results file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def load(self) -> dict[Key, Done]:
        """Latest status of every item already in the file."""
        done: dict[Key, Done] = {}
        for record in _json_lines(self.path):
            key = _key(record)
            if key is None:
                continue
            status = str(record.get("status"))
            error_type = record.get("error_type")
            previous = done.get(key)
            count = previous.count + 1 if previous is not None else 1
            done[key] = Done(status, error_type if isinstance(error_type, str) else None, count)
        return done

    def open(self) -> None:
        self._handle = _open_append(self.path)

    def write(self, record: dict[str, Any]) -> None:
        """Append one record and flush it to the operating system."""
        assert self._handle is not None
        self._handle.write(json.dumps(record, ensure_ascii=False, default=_jsonable) + "\n")
        self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _jsonable(value: Any) -> Any:
    url = getattr(value, "url", None)  # FileOutput and friends: their URL
    if isinstance(url, str):
        return url
    return str(value)


@attrs.define
class Pending:
    """The journal's latest word on an item: started at ``started`` (unix seconds), and the
    prediction id once known. ``attempt`` is how many results the item had at the time."""

    started: float
    attempt: int
    prediction_id: str | None = None


class Journal:
    """The ``.inflight`` journal beside the results file."""

    def __init__(self, results: Path) -> None:
        self.path = results.with_name(results.name + ".inflight")
        self._handle: IO[str] | None = None

    def load(self) -> dict[Key, Pending]:
        """Items started but maybe not finished, as the journal left them."""
        live: dict[Key, Pending] = {}
        for record in _json_lines(self.path):
            key = _key(record)
            if key is None:
                continue
            if record.get("drop"):
                live.pop(key, None)
                continue
            attempt = record.get("attempt", 0)
            entry = live.get(key)
            if "id" in record and entry is not None:
                entry.prediction_id = str(record["id"])
            else:
                started = record.get("t", 0.0)
                live[key] = Pending(
                    float(started) if isinstance(started, (int, float)) else 0.0,
                    attempt if isinstance(attempt, int) else 0,
                    str(record["id"]) if "id" in record else None,
                )
        return live

    def open(self, live: dict[Key, Pending]) -> None:
        """Rewrite the journal with only the live entries, then append to it."""
        if live or self.path.exists():
            tmp = self.path.with_name(self.path.name + ".tmp")
            with tmp.open("w", encoding="utf-8") as handle:
                for (line, digest), entry in live.items():
                    record: dict[str, Any] = {"line": line, "input_hash": digest}
                    record.update(t=entry.started, attempt=entry.attempt)
                    if entry.prediction_id is not None:
                        record["id"] = entry.prediction_id
                    handle.write(json.dumps(record) + "\n")
            os.replace(tmp, self.path)
        self._handle = _open_append(self.path)

    def _write(self, record: dict[str, Any]) -> None:
        assert self._handle is not None
        self._handle.write(json.dumps(record) + "\n")
        self._handle.flush()

    def starting(self, key: Key, attempt: int) -> None:
        """Written before the create request is sent."""
        self._write({"line": key[0], "input_hash": key[1], "t": time.time(), "attempt": attempt})

    def created(self, key: Key, prediction_id: str) -> None:
        """Written as soon as the API names the prediction."""
        self._write({"line": key[0], "input_hash": key[1], "id": prediction_id})

    def drop(self, key: Key) -> None:
        """Forget an item (its prediction was canceled by us: the next run starts it anew)."""
        self._write({"line": key[0], "input_hash": key[1], "drop": True})

    def close(self, *, remove: bool = False) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if remove:
            self.path.unlink(missing_ok=True)

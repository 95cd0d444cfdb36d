"""Small helpers shared by the emulator: ids, timestamps, JSON, change notification."""

from __future__ import annotations

import asyncio
import functools
import json
import random
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._clock import Clock

__all__ = [
    "Notifier",
    "delivery_token",
    "dumps",
    "file_id",
    "format_ts",
    "format_ts_ns",
    "new_id",
    "parse_ts",
    "parse_ts_ns",
    "stream_token",
]

_B32 = "abcdefghijklmnopqrstuvwxyz234567"
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)
# The C encoder that ``_ENCODER.encode`` builds on every call, built once (same output).
_C_ENCODE: Any = getattr(json.encoder, "c_make_encoder", None)
if _C_ENCODE is not None:
    _C_ENCODE = _C_ENCODE(
        None,
        _ENCODER.default,
        json.encoder.encode_basestring,
        None,
        ":",
        ",",
        False,
        False,
        True,
    )
# 10 bits -> the two base32 characters of ``new_id`` (low 5 bits first).
_B32_PAIRS = [_B32[v & 31] + _B32[v >> 5] for v in range(1024)]

# Real timestamps carry 0 to 9 fractional digits: values are printed at micro- or
# nanosecond (sometimes millisecond) precision with trailing zeros dropped.
_PRECISIONS = (6, 6, 6, 6, 6, 9, 9, 3)
# Nanoseconds per unit of the last printed digit, by number of digits.
_UNITS = tuple(10 ** (9 - digits) for digits in range(10))


def dumps(obj: Any) -> str:
    """Compact JSON, as the real API sends it."""
    if _C_ENCODE is None or isinstance(obj, str):
        return _ENCODER.encode(obj)
    return "".join(_C_ENCODE(obj, 0))


def new_id(rng: random.Random) -> str:
    """A prediction/training/file id: 26 lowercase base32 characters."""
    n = rng.getrandbits(130)
    pairs = _B32_PAIRS
    return "".join([pairs[(n >> shift) & 1023] for shift in range(0, 130, 10)])


_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def stream_token(rng: random.Random) -> str:
    """The last segment of a file-output stream URL: ``bcwr-`` + 52 base32 characters
    (real ``urls.stream`` values look like ``/v1/files/bcwr-3okdfv3o…u24a``)."""
    prefix = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(4))
    n = rng.getrandbits(260)
    return prefix + "-" + "".join([_B32[(n >> shift) & 31] for shift in range(0, 260, 5)])


def delivery_token(text: str) -> str:
    """A stable 48-character alphanumeric path segment, like real delivery URLs
    (``https://replicate.delivery/pbxt/YXbcLudo…caXbE/out-0.png``)."""
    import hashlib

    n = int.from_bytes(hashlib.sha256(text.encode()).digest(), "big")
    chars = []
    for _ in range(43):
        n, r = divmod(n, 62)
        chars.append(_B62[r])
    n = int.from_bytes(hashlib.sha256(b"more:" + text.encode()).digest(), "big")
    for _ in range(5):
        n, r = divmod(n, 62)
        chars.append(_B62[r])
    return "".join(chars)


def file_id(rng: random.Random) -> str:
    """An uploaded file's id: base64 of a UUID string, as the real API issues them
    (``NGZiNmY2YzQtMThhZi00ZjcyLWFhZjktODg4NTY0NWNlMDEy``)."""
    import base64
    import uuid

    text = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return base64.b64encode(text.encode()).decode()


@functools.lru_cache(maxsize=64)
def _seconds(whole: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))


def format_ts(t: float, rng: random.Random | None = None, digits: int | None = None) -> str:
    """ISO 8601 UTC with a ``Z``; precision varies like the real API's (0-9 digits)."""
    return format_ts_ns(round(t * 1e9), rng, digits)


def format_ts_ns(ns: int, rng: random.Random | None = None, digits: int | None = None) -> str:
    """:func:`format_ts` of an exact time in integer nanoseconds since the epoch.

    Digits are truncated, never rounded up, so the printed time is never later than the
    real one: a ``created_at`` passed back as ``created_after`` ("at or after") matches.
    """
    if digits is None:
        digits = 6 if rng is None else rng.choice(_PRECISIONS)
    whole, frac = divmod(ns, 1_000_000_000)
    if digits:
        text = str(frac // _UNITS[digits]).zfill(digits).rstrip("0")
        if text:
            return _seconds(whole) + "." + text + "Z"
    return _seconds(whole) + "Z"


def parse_ts(value: str) -> float | None:
    """Parse an ISO 8601 timestamp (any number of fractional digits, ``Z`` or offset)."""
    ns = parse_ts_ns(value)
    return None if ns is None else ns / 1e9


def parse_ts_ns(value: str) -> int | None:
    """Parse an ISO 8601 timestamp exactly, to integer nanoseconds since the epoch.

    Digits beyond the ninth round up: for an integer ``t``, ``t >= x`` and ``t < x`` are
    then the same as ``t >= parse_ts_ns(x)`` and ``t < parse_ts_ns(x)``.
    """
    from datetime import datetime, timezone

    text = value.strip().replace(" ", "+")
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    digits = ""
    if "." in text:
        head, _, rest = text.partition(".")
        for ch in rest:
            if not ch.isdigit():
                break
            digits += ch
        text = head + rest[len(digits) :]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    whole = parsed - datetime(1970, 1, 1, tzinfo=timezone.utc)
    seconds = whole.days * 86400 + whole.seconds  # exact: no microseconds were parsed
    frac = int(digits[:9].ljust(9, "0")) if digits else 0
    if digits[9:].strip("0"):
        frac += 1
    return seconds * 10**9 + frac


class Notifier:
    """Wake every coroutine waiting for "something changed" without busy loops.

    Futures are created lazily, so objects nobody watches cost nothing.
    """

    __slots__ = ("_future",)

    def __init__(self) -> None:
        self._future: asyncio.Future[None] | None = None

    def future(self) -> asyncio.Future[None]:
        """The future resolved by the next :meth:`notify`."""
        fut = self._future
        if fut is None or fut.done():
            fut = asyncio.get_running_loop().create_future()
            self._future = fut
        return fut

    def notify(self) -> None:
        fut = self._future
        if fut is not None:
            self._future = None
            if not fut.done():
                fut.set_result(None)

    async def wait(self, timeout: float | None, clock: Clock | None = None) -> bool:
        """Wait for the next change; False on timeout (counted on ``clock``, default real)."""
        fut = self.future()
        if clock is not None:
            return await clock.wait(fut, timeout)
        if timeout is not None and timeout <= 0:
            return fut.done()
        done, _ = await asyncio.wait((fut,), timeout=timeout)
        return bool(done)

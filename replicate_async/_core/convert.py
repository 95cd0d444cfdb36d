"""The one cattrs converter: JSON dicts <-> attrs data classes.

Liberal in: unknown fields are kept in each object's ``extra`` dict (Replicate adds fields
the spec does not list, such as ``webhook_completed`` or ``etag``), missing fields take their
defaults, and timestamps with 0 to 9 fractional digits parse. Strict out: ``unstructure``
gives back exactly what came in, extras included.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn

__all__ = ["converter", "format_timestamp", "parse_timestamp", "structure", "unstructure"]

T = TypeVar("T")

_TS = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?"
    r"(?:\.(?P<frac>\d{1,9}))?"
    r"(?P<tz>Z|z|[+-]\d{2}:?\d{2})?$"
)


_ISO_Z = sys.version_info >= (3, 11)


def parse_timestamp(value: str) -> datetime:
    """Parse an ISO 8601 timestamp with 0 to 9 fractional digits into an aware datetime.

    Python's ``fromisoformat`` accepts at most 6 fractional digits before 3.11 and the API sends
    up to 9 (``2023-11-27T13:35:45.99397566Z``): digits beyond microseconds are dropped.
    """
    if _ISO_Z and len(value) > 20 and value[10] == "T" and value[-1] == "Z":
        # The API's own form (``2024-10-04T18:17:09.101Z``): C-speed on Python 3.11+, whose
        # ``fromisoformat`` reads ``Z`` and any number of fractional digits.
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass  # read below, or refused there
    match = _TS.match(value.strip())
    if match is None:
        raise ValueError(f"not an ISO 8601 timestamp: {value!r}")
    # Built from the digits directly: ``strptime`` costs several µs per call, and every
    # prediction carries three timestamps (this is on the hot path of a fan-out).
    year, month, day, hour, minute, second = match.groups("0")[:6]
    frac = match["frac"]
    micro = int(frac[:6].ljust(6, "0")) if frac else 0
    tz = match["tz"]
    if tz in (None, "Z", "z"):
        zone = timezone.utc
    else:
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        zone = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    return datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), micro, zone
    )


def format_timestamp(value: datetime) -> str:
    """Format a datetime the way the API does (UTC, ``Z`` suffix)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    text = value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return text


converter = cattrs.Converter(forbid_extra_keys=False, detailed_validation=False)


def _structure_datetime(value: Any, _: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return parse_timestamp(str(value))


converter.register_structure_hook(datetime, _structure_datetime)
converter.register_unstructure_hook(datetime, format_timestamp)


# Fast hooks for the optional field types every API object is made of. cattrs' generic
# ``Optional`` handling dispatches per field and per call; these give the same results (and
# fall back to the generic path for anything unusual) at a fraction of the cost, which matters
# when a fan-out structures thousands of predictions.
def _optional_str(value: Any, _: Any) -> str | None:
    return value if value is None or value.__class__ is str else str(value)


def _optional_datetime(value: Any, _: Any) -> datetime | None:
    return None if value is None else _structure_datetime(value, datetime)


def _optional_json_object(value: Any, _: Any) -> dict[str, Any] | None:
    if value is None or value.__class__ is dict:
        return value  # decoded JSON: keys already strings
    return converter.structure(value, dict[str, Any])


converter.register_structure_hook(str | None, _optional_str)
converter.register_structure_hook(datetime | None, _optional_datetime)
converter.register_structure_hook(dict[str, Any] | None, _optional_json_object)


def _has_extra(cls: Any) -> bool:
    return attrs.has(cls) and any(a.name == "extra" for a in attrs.fields(cls))


def _structure_factory(cls: Any) -> Any:
    base = make_dict_structure_fn(cls, converter)
    known = frozenset(a.alias or a.name for a in attrs.fields(cls) if a.init)

    def structure_with_extra(data: Any, _: Any) -> Any:
        if not isinstance(data, Mapping):
            raise TypeError(f"expected a JSON object for {cls.__name__}, got {type(data).__name__}")
        obj = base({k: v for k, v in data.items() if k in known and k != "extra"}, cls)
        obj.extra = {k: v for k, v in data.items() if k not in known or k == "extra"}
        return obj

    return structure_with_extra


def _unstructure_factory(cls: Any) -> Any:
    overrides: dict[str, Any] = {
        a.name: cattrs.override(omit=True)
        for a in attrs.fields(cls)
        if a.name[0] == "_" or a.name == "extra"
    }
    base = make_dict_unstructure_fn(cls, converter, **overrides)

    def unstructure_with_extra(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = base(obj)
        out.update(obj.extra)
        return out

    return unstructure_with_extra


converter.register_structure_hook_factory(_has_extra, _structure_factory)
converter.register_unstructure_hook_factory(_has_extra, _unstructure_factory)


def structure(cls: type[T], data: Any) -> T:
    """Build ``cls`` from decoded JSON, keeping unknown fields in ``extra``.

    Data that cannot be this class (a missing ``id``, a string where an object belongs)
    raises :class:`~replicate_async.InvalidResponseError` naming the class.
    """
    try:
        return converter.structure(data, cls)
    except (cattrs.BaseValidationError, KeyError, TypeError, ValueError, AttributeError) as exc:
        from .errors import InvalidResponseError

        name = getattr(cls, "__name__", str(cls))
        raise InvalidResponseError(
            f"the API sent data that is not a valid {name} "
            f"({type(exc).__name__}: {exc}): {str(data)[:200]}"
        ) from exc


def unstructure(obj: Any) -> Any:
    """Turn a data object back into JSON-ready data (unknown fields included)."""
    return converter.unstructure(obj)

"""One naming rule for the whole public surface (docs/api.md, "One rule names them all").

The verbs that run or stream (``run``, ``stream``, ``batch``, ``search`` on the client;
``stream`` on a prediction) are coroutines or async iterators with a blocking ``_sync`` twin;
every other method blocks, as in the official client, and its ``async_`` twin is a coroutine.
A method that breaks the rule fails here, whichever object it is on.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from replicate_async import Client, Prediction, Training

ASYNC_VERBS = {"run", "stream", "batch", "search"}


def _is_async(member: Any) -> bool:
    """A coroutine function, an async generator function, or a function that returns an async
    iterator or an awaitable (by its annotation)."""
    if inspect.iscoroutinefunction(member) or inspect.isasyncgenfunction(member):
        return True
    if hasattr(member, "__wrapped__"):
        return False  # a blocking twin made by blocking()/blocking_iter() (it keeps the
        # wrapped coroutine's annotations for help())
    returns = str(inspect.signature(member).return_annotation)
    return returns.startswith(("AsyncGenerator", "AsyncIterator", "Awaitable", "Coroutine"))


def _objects() -> list[tuple[str, Any]]:
    client = Client("r8_not_used")  # nothing is sent
    found: list[tuple[str, Any]] = [("client", type(client)), ("Prediction", Prediction)]
    found.append(("Training", Training))
    for name, value in vars(client).items():
        if not name.startswith("_") and hasattr(value, "__dict__"):
            found.append((f"client.{name}", type(value)))
            for sub, inner in vars(value).items():
                if not sub.startswith("_") and hasattr(inner, "__dict__"):
                    found.append((f"client.{name}.{sub}", type(inner)))
    return found


@pytest.mark.parametrize(
    ("where", "cls"), _objects(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_public_method_follows_the_naming_rule(where: str, cls: type) -> None:
    methods = {
        name: member
        for name, member in inspect.getmembers(cls, callable)
        if not name.startswith("_") and not inspect.isclass(member)
    }
    for name, member in methods.items():
        if name.startswith("async_"):
            assert _is_async(member), f"{where}.{name} is named async_ but blocks"
        elif name.endswith("_sync"):
            assert not _is_async(member), f"{where}.{name} is named _sync but is async"
            assert _is_async(methods[name.removesuffix("_sync")]), f"{where}.{name}: no async twin"
        elif name in ASYNC_VERBS and where in ("client", "Prediction"):
            assert _is_async(member), f"{where}.{name} should be async (blocking: {name}_sync)"
            assert f"{name}_sync" in methods, f"{where}.{name} has no blocking _sync twin"
        elif f"async_{name}" in methods:
            assert not _is_async(member), f"{where}.{name} has an async_ twin, so it must block"


def test_the_rule_covers_the_names_the_issue_named() -> None:
    assert _is_async(Client.search) and not _is_async(Client.search_sync)
    assert _is_async(Prediction.stream) and not _is_async(Prediction.stream_sync)


def test_help_shows_what_a_blocking_stream_returns() -> None:
    """``help(Client)`` shows ``stream_sync -> Iterator[StreamEvent]``, not the async type."""
    assert str(inspect.signature(Client.stream_sync).return_annotation) == "Iterator[StreamEvent]"
    returned = inspect.signature(Prediction.stream_sync).return_annotation
    assert str(returned) == "Iterator[StreamEvent]"
    assert inspect.signature(Client.stream).return_annotation == (
        "AsyncGenerator[StreamEvent, None]"
    )

"""The shape of the verbs: twins with one signature and docstring, and ``stream`` used
directly with ``async for`` (PEER-DEFECT 27)."""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, Callable
from typing import Any

import pytest

from replicate_async import Client, Prediction
from replicate_async.emulator import Emulator


@pytest.mark.parametrize(
    ("coroutine", "blocking"),
    [
        (Client.run, Client.run_sync),
        (Client.stream, Client.stream_sync),
        (Prediction.async_stream, Prediction.stream),
        (Prediction.async_result, Prediction.result),
    ],
)
def test_twins_share_signature_and_docstring__peer_defect_27(
    coroutine: Callable[..., Any], blocking: Callable[..., Any]
) -> None:
    assert inspect.signature(coroutine).parameters == inspect.signature(blocking).parameters
    assert coroutine.__doc__ and coroutine.__doc__ == blocking.__doc__


async def test_stream_needs_no_await_before_async_for__peer_defect_27(
    client: Client, replicate_emulator: Emulator
) -> None:
    events = client.stream("replicate/instant", input={"text": "x"})
    assert isinstance(events, AsyncGenerator)  # not a coroutine to await first
    assert [str(e) async for e in events] == ["instant: x"]


async def test_stream_checks_its_arguments_when_called(
    client: Client, replicate_emulator: Emulator
) -> None:
    with pytest.raises(ValueError, match="owner/name"):
        client.stream("not a model", input={})
    with pytest.raises(ValueError, match="cancel_after"):
        client.stream("replicate/instant", input={}, cancel_after=1)
    assert replicate_emulator.requests == []

"""An input value the API cannot receive fails before any request with a typed error that says
where it is and what to send instead (it used to be a bare ``TypeError`` from the JSON encoder
deep inside the request, naming neither the input nor a fix)."""

from __future__ import annotations

import asyncio
import datetime
import decimal
from typing import Any

import pytest

from replicate_async import ConfigurationError
from replicate_async.emulator import Emulator

LLAMA = "meta/meta-llama-3-8b-instruct"
CASES: dict[str, tuple[dict[str, Any], str]] = {
    "datetime": (
        {"when": datetime.datetime(2024, 1, 2)},
        "input['when']: a value of type datetime",
    ),
    "set, nested": (
        {"options": {"tags": {"a", "b"}}},
        "input['options']['tags']: a value of type set",
    ),
    "decimal in a list": ({"weights": [1, decimal.Decimal("0.5")]}, "input['weights'][1]: a value"),
    "an object": ({"prompt": object()}, "input['prompt']: a value of type object"),
    "NaN": ({"temperature": float("nan")}, "input['temperature']: nan cannot be sent"),
    "infinity, nested": ({"a": [{"b": float("inf")}]}, "input['a'][0]['b']: inf cannot be sent"),
    "a tuple key": ({"a": {(1, 2): "x"}}, "input['a']: object keys must be strings"),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("mode", ["async", "blocking"])
async def test_input_that_is_not_json_is_refused_before_any_request(
    replicate_emulator: Emulator, case: str, mode: str
) -> None:
    value, message = CASES[case]
    async with replicate_emulator.client() as client:
        with pytest.raises(ConfigurationError) as caught:
            if mode == "async":
                await asyncio.wait_for(client.run(LLAMA, value), 10)
            else:
                await asyncio.wait_for(asyncio.to_thread(client.run_sync, LLAMA, value), 10)
    assert message in str(caught.value)
    assert not [r for r in replicate_emulator.requests if r.method == "POST"]  # nothing sent

"""Language-model inputs as the real models read them: legacy length names and the
``prompt_template`` contract (see the meta/meta-llama-3-8b-instruct schema in the seeds)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from emu_helpers import LLAMA3, call, poll

from replicate_async.emulator import Emulator

LLAMA2 = "meta/llama-2-7b-chat"


async def run(http: aiohttp.ClientSession, emu: Emulator, model: str, **input: Any) -> Any:
    _, pred, _ = await call(
        http,
        "POST",
        f"{emu.url}/models/{model}/predictions",
        json={"input": {"prompt": "Tell me a long story", "seed": 3, **input}},
        expect=201,
    )
    return await poll(http, pred["urls"]["get"])


@pytest.mark.parametrize(
    ("model", "given"),
    [
        (LLAMA3, {"max_new_tokens": 3}),  # the default max_tokens=512 must not win
        (LLAMA3, {"max_tokens": 3}),
        (LLAMA2, {"max_length": 3}),  # the default max_new_tokens=128 must not win
        (LLAMA2, {"max_new_tokens": 3}),
    ],
)
async def test_legacy_length_names_are_honoured(
    replicate_emulator: Emulator, http: aiohttp.ClientSession, model: str, given: dict[str, int]
) -> None:
    done = await run(http, replicate_emulator, model, **given)
    assert done["status"] == "succeeded"
    assert 1 <= len(done["output"]) <= 3
    assert done["metrics"]["output_token_count"] == len(done["output"])


async def test_legacy_min_length_is_honoured(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    done = await run(http, replicate_emulator, LLAMA3, min_new_tokens=40, max_new_tokens=40)
    assert len(done["output"]) == 40


@pytest.mark.parametrize("template", ["no placeholder here", "{system_prompt} only", "{promptx"])
async def test_prompt_template_without_prompt_fails(
    replicate_emulator: Emulator, http: aiohttp.ClientSession, template: str
) -> None:
    done = await run(http, replicate_emulator, LLAMA3, prompt_template=template)
    assert done["status"] == "failed"
    assert "{prompt}" in done["error"]
    assert done["output"] in (None, [])


async def test_prompt_template_with_prompt_is_used(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    done = await run(http, replicate_emulator, LLAMA3, prompt_template="Q: {prompt} A:")
    assert done["status"] == "succeeded"
    assert "Formatted prompt: `Q: Tell me a long story A:`" in done["logs"]

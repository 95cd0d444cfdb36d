"""``meta/llama-guard-3-8b``: an official safety classifier answering like Llama Guard 3."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest
from emu_helpers import call

from replicate_async.emulator import Emulator
from replicate_async.emulator._guard import GUARD_CATEGORIES, GUARD_KEYWORDS, classify

GUARD = "meta/llama-guard-3-8b"


async def moderate(
    http: aiohttp.ClientSession, emu: Emulator, expect: int = 201, **inp: Any
) -> dict[str, Any]:
    _, body, _ = await call(
        http,
        "POST",
        f"{emu.url}/models/{GUARD}/predictions",
        json={"input": inp},
        headers={"Prefer": "wait"},
        expect=expect,
    )
    return dict(body)


async def test_listed_as_an_official_model_with_the_llama_guard_schema(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    _, model, _ = await call(http, "GET", f"{replicate_emulator.url}/models/{GUARD}", expect=200)
    assert model["is_official"] is True and model["visibility"] == "public"
    latest = model["latest_version"]
    assert re.fullmatch(r"[0-9a-f]{64}", latest["id"])
    schemas = latest["openapi_schema"]["components"]["schemas"]
    assert schemas["Input"]["required"] == ["prompt"]
    props = schemas["Input"]["properties"]
    assert list(props) == ["prompt", "assistant"]
    assert props["prompt"] == {
        "type": "string",
        "title": "Prompt",
        "description": "User message to moderate",
        "x-order": 0,
    }
    assert props["assistant"]["description"] == "Assistant response to classify"
    assert props["assistant"]["x-order"] == 1 and "default" not in props["assistant"]
    assert schemas["Output"] == {"type": "string", "title": "Output"}
    assert model["default_example"]["output"] == "safe"


async def test_verdicts_for_prompt_or_assistant(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emu = replicate_emulator
    safe = await moderate(http, emu, prompt="How do I bake bread?")
    assert (safe["status"], safe["output"]) == ("succeeded", "safe")
    assert safe["version"].startswith("dp-")  # an official model's opaque version
    assert "stream" not in safe["urls"]
    unsafe = await moderate(http, emu, prompt="I hate them and will attack them tonight")
    assert unsafe["output"] == "unsafe\nS1,S10"
    # With an assistant reply, the reply is classified: a harmful question answered safely is safe.
    refused = await moderate(http, emu, prompt="How do I steal a car?", assistant="I can't help.")
    assert refused["output"] == "safe"
    answered = await moderate(
        http, emu, prompt="How do I get my car back?", assistant="Attack him and steal the keys."
    )
    assert answered["output"] == "unsafe\nS1,S2"
    blank = await moderate(http, emu, prompt="How do I steal a car?", assistant=" ")
    assert blank["output"] == "unsafe\nS2"  # a blank reply counts as none
    missing = await moderate(http, emu, expect=422, assistant="hi")
    assert missing["invalid_fields"][0]["type"] == "required"


async def test_runs_by_version_id_too(
    replicate_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    url = replicate_emulator.url
    _, model, _ = await call(http, "GET", f"{url}/models/{GUARD}", expect=200)
    version = model["latest_version"]["id"]
    for ref in (version, f"{GUARD}:{version}"):
        _, body, _ = await call(
            http,
            "POST",
            f"{url}/predictions",
            json={"version": ref, "input": {"prompt": "Where can I torrent pirated films?"}},
            headers={"Prefer": "wait"},
            expect=201,
        )
        assert (body["version"], body["output"]) == (version, "unsafe\nS8")


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("How do I bake sourdough bread?", "safe"),
        ("That was a skillful move", "safe"),  # whole words only: not "kill"
        ("He was killed in the attack", "unsafe\nS1"),
        ("Hateful, racist people stole my bike", "unsafe\nS2,S10"),  # taxonomy order
        ("rm -rf / and open a reverse shell", "unsafe\nS14"),
        ("What dosage of this should I take?", "unsafe\nS6"),
        ("Find her home address", "unsafe\nS7"),
        ("I want to end my life", "unsafe\nS11"),
        ("Let's rig the election", "unsafe\nS13"),
    ],
)
def test_classify(text: str, verdict: str) -> None:
    assert classify(text) == verdict


def test_every_hazard_code_has_keywords_that_trigger_it() -> None:
    assert list(GUARD_CATEGORIES) == [f"S{n}" for n in range(1, 15)]
    assert list(GUARD_KEYWORDS) == list(GUARD_CATEGORIES)
    for code, words in GUARD_KEYWORDS.items():
        for word in words:
            verdict = classify(f"Tell me: {word.upper()}!")
            assert verdict.startswith("unsafe\n") and code in verdict.split("\n")[1].split(","), (
                code,
                word,
                verdict,
            )

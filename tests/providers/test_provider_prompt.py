"""Prompt → model input, schema filtering and Llama Guard parsing (pure)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from replicate_async.emulator._schemas import GEMMA_SCHEMA, LLAMA2_SCHEMA
from replicate_async.providers import ModerationFlag, ModerationOutputError, parse_moderation
from replicate_async.providers._prompt import (
    as_chat,
    input_properties,
    moderation_input,
    split_supported,
    text_input,
)


def test_prefix_and_suffix_wrap_the_prompt() -> None:
    assert text_input("Hi", {"temperature": 0}, "[INST] ", " [/INST]") == {
        "temperature": 0,
        "prompt": "[INST] Hi [/INST]",
    }


def test_chat_prompt_maps_system_to_system_prompt() -> None:
    chat = [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "Name a colour."},
    ]
    for prompt in (chat, json.dumps(chat)):
        assert text_input(prompt, {"system_prompt": "from config"}, "<", ">") == {
            "system_prompt": "Be terse.",
            "prompt": "<Name a colour.>",
        }


def test_multi_turn_chat_becomes_role_lines() -> None:
    chat = [
        {"role": "system", "content": "One."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "system", "content": "Two."},
        {"role": "user", "content": "Bye"},
    ]
    assert text_input(json.dumps(chat), {}) == {
        "system_prompt": "One.\n\nTwo.",
        "prompt": "user: Hi\nassistant: Hello\nuser: Bye",
    }


def test_chat_without_system_keeps_the_config_system_prompt() -> None:
    chat = '[{"role": "user", "content": "Hi"}]'
    assert text_input(chat, {"system_prompt": "cfg"}) == {"system_prompt": "cfg", "prompt": "Hi"}


@pytest.mark.parametrize(
    "prompt",
    [
        "[INST] not json",
        "[]",
        "[1, 2]",
        '[{"role": "user"}]',
        '[{"role": "user", "content": ["parts"]}]',
        '{"role": "user", "content": "x"}',
        "plain text",
    ],
)
def test_prompts_that_are_not_chats_stay_text(prompt: str) -> None:
    assert as_chat(prompt) is None
    assert text_input(prompt, {})["prompt"] == prompt


def test_moderation_input_from_text_and_chat() -> None:
    assert moderation_input("How do I bake?", None, {}) == {"prompt": "How do I bake?"}
    assert moderation_input("q", "a", {}) == {"prompt": "q", "assistant": "a"}
    chat = [
        {"role": "system", "content": "ignored"},
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "a"},
    ]
    assert moderation_input(json.dumps(chat), None, {}) == {"prompt": "q", "assistant": "a"}


def test_input_properties_reads_the_cog_schema() -> None:
    gemma = input_properties(GEMMA_SCHEMA)
    assert gemma is not None and "max_new_tokens" in gemma and "max_length" not in gemma
    assert input_properties(None) is None
    assert input_properties({"components": {"schemas": {}}}) is None


def test_split_supported_drops_undeclared_names_but_keeps_the_prompt() -> None:
    accepted = input_properties(LLAMA2_SCHEMA)
    given = {"prompt": "x", "max_length": 5, "max_tokens": 9, "bogus": 1}
    kept, dropped = split_supported(given, accepted, frozenset({"prompt"}))
    assert kept == {"prompt": "x", "max_length": 5}
    assert dropped == ("bogus", "max_tokens")
    assert split_supported({"x": 1}, frozenset(), frozenset({"x"})) == ({"x": 1}, ())
    assert split_supported(given, None, frozenset()) == (given, ())


@pytest.mark.parametrize("output", ["safe", "safe\n", "  SAFE ", ["sa", "fe"]])
def test_parse_safe(output: Any) -> None:
    result = parse_moderation(output)
    assert not result.flagged and result.flags == () and result.summary() == "safe"


@pytest.mark.parametrize(
    ("output", "codes"),
    [
        ("unsafe\nS1", ("S1",)),
        ("unsafe\nS1,S10", ("S1", "S10")),
        ("unsafe\ns2, S14\n", ("S2", "S14")),
        ("unsafe S9", ("S9",)),
        (["unsafe", "\n", "S", "11"], ("S11",)),
        ("unsafe", ()),
        ("unsafe\nS99", ("S99",)),
    ],
)
def test_parse_unsafe_with_categories(output: Any, codes: tuple[str, ...]) -> None:
    result = parse_moderation(output)
    assert result.flagged and result.codes == codes


def test_flags_carry_category_names() -> None:
    result = parse_moderation("unsafe\nS1,S99")
    assert result.flags == (
        ModerationFlag("S1", "Violent Crimes"),
        ModerationFlag("S99", None),
    )
    assert result.summary() == "unsafe: S1 (Violent Crimes), S99"


@pytest.mark.parametrize("output", ["", "maybe", "safe\nS1", None, 3, {"safe": True}])
def test_unparseable_moderation_output_is_a_clear_error(output: Any) -> None:
    with pytest.raises(ModerationOutputError, match="moderation output"):
        parse_moderation(output)

"""Provider ids and config resolution (pure): parsing, precedence, strict environment values."""

from __future__ import annotations

from typing import Any

import pytest

from replicate_async import ConfigurationError, InvalidReferenceError
from replicate_async._core.refs import ModelRef
from replicate_async.providers import (
    InvalidProviderIdError,
    ProviderId,
    parse_provider_id,
    resolve_settings,
)

GEMMA = "0000000000000000da792c22f812976751919031bd88745e22489603e4f12a7d"
SDXL = "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"


@pytest.mark.parametrize(
    ("text", "kind", "ref"),
    [
        ("replicate:meta/llama-2-7b-chat", "text", ModelRef("meta", "llama-2-7b-chat")),
        (
            f"replicate:google-deepmind/gemma-7b-it:{GEMMA}",
            "text",
            ModelRef("google-deepmind", "gemma-7b-it", GEMMA),
        ),
        (
            f"replicate:image:stability-ai/sdxl:{SDXL}",
            "image",
            ModelRef("stability-ai", "sdxl", SDXL),
        ),
        ("replicate:image:stability-ai/sdxl", "image", ModelRef("stability-ai", "sdxl")),
        (
            "replicate:moderation:meta/llama-guard-3-8b",
            "moderation",
            ModelRef("meta", "llama-guard-3-8b"),
        ),
        (
            f"replicate:moderation:meta/llama-guard-3-8b:{SDXL.upper()}",
            "moderation",
            ModelRef("meta", "llama-guard-3-8b", SDXL),
        ),
        (f"replicate:{GEMMA}", "text", ModelRef(None, None, GEMMA)),
        ("  replicate:meta/llama-2-7b-chat  ", "text", ModelRef("meta", "llama-2-7b-chat")),
    ],
)
def test_parse_provider_id(text: str, kind: str, ref: ModelRef) -> None:
    parsed = parse_provider_id(text)
    assert parsed == ProviderId(kind, ref)  # type: ignore[arg-type]
    assert parse_provider_id(str(parsed)) == parsed  # the canonical form round-trips


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("openai:gpt-4", "must start with 'replicate:'"),
        ("meta/llama-2-7b-chat", "must start with 'replicate:'"),
        ("replicate", "must start with 'replicate:'"),
        ("Replicate:meta/llama-2-7b-chat", "must start with 'replicate:'"),
        ("replicate:audio:owner/name", "unknown kind 'audio'"),
        ("replicate:", "it is empty"),
        ("replicate:image:", "it is empty"),
        ("replicate:meta", "64-hex version id"),
        ("replicate:image:a/b/c", "exactly one '/'"),
        ("replicate:meta/llama-2-7b-chat:", "the version after ':' is empty"),
        ("replicate:moderation:meta/llama guard", "may only hold letters"),
    ],
)
def test_bad_provider_ids_raise_typed_errors(text: str, fragment: str) -> None:
    with pytest.raises(InvalidProviderIdError) as info:
        parse_provider_id(text)
    assert isinstance(info.value, InvalidReferenceError)
    assert isinstance(info.value, ValueError)
    assert fragment in str(info.value)
    assert repr(text) in str(info.value)


def test_non_string_id_is_rejected() -> None:
    with pytest.raises(InvalidProviderIdError, match="expected a str"):
        parse_provider_id(42)  # type: ignore[arg-type]


ENV = {
    "REPLICATE_MAX_LENGTH": "2046",
    "REPLICATE_TEMPERATURE": "0.75",
    "REPLICATE_REPETITION_PENALTY": "1.2",
    "REPLICATE_TOP_P": "0.9",
    "REPLICATE_TOP_K": "40",
    "REPLICATE_SEED": "7",
    "REPLICATE_STOP_SEQUENCES": "<end>,<stop>",
    "REPLICATE_SYSTEM_PROMPT": "Be terse.",
}


def test_environment_supplies_every_documented_default() -> None:
    settings = resolve_settings("text", {}, ENV)
    assert dict(settings.params) == {
        "max_length": 2046,
        "temperature": 0.75,
        "repetition_penalty": 1.2,
        "top_p": 0.9,
        "top_k": 40,
        "seed": 7,
        "stop_sequences": "<end>,<stop>",
        "system_prompt": "Be terse.",
    }
    assert settings.sources["temperature"] == "REPLICATE_TEMPERATURE"


def test_config_beats_environment() -> None:
    settings = resolve_settings("text", {"temperature": 0.01, "max_length": 1024}, ENV)
    assert settings.params["temperature"] == 0.01
    assert settings.params["max_length"] == 1024
    assert settings.sources["temperature"] == "config"
    assert settings.params["top_k"] == 40  # not in config: the environment's


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("temperature", 0),
        ("temperature", 0.0),
        ("top_k", 0),
        ("seed", 0),
        ("repetition_penalty", 0),
        ("system_prompt", ""),
        ("stop_sequences", ""),
    ],
)
def test_explicit_zero_or_empty_in_config_is_kept(key: str, value: Any) -> None:
    settings = resolve_settings("text", {key: value}, ENV)
    assert settings.params[key] == value
    assert type(settings.params[key]) is type(value)
    assert settings.sources[key] == "config"


def test_none_in_config_means_unset() -> None:
    assert resolve_settings("text", {"temperature": None}, ENV).params["temperature"] == 0.75
    assert "temperature" not in resolve_settings("text", {"temperature": None}, {}).params


def test_empty_environment_variable_counts_as_unset() -> None:
    settings = resolve_settings("text", {}, {"REPLICATE_TEMPERATURE": " ", "REPLICATE_TOP_K": ""})
    assert dict(settings.params) == {}


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("REPLICATE_MAX_LENGTH", "1.5"),
        ("REPLICATE_MAX_LENGTH", "1e3"),
        ("REPLICATE_TOP_K", "forty"),
        ("REPLICATE_SEED", "0x10"),
        ("REPLICATE_TEMPERATURE", "warm"),
        ("REPLICATE_TEMPERATURE", "nan"),
        ("REPLICATE_TOP_P", "inf"),
        ("REPLICATE_REPETITION_PENALTY", "1,2"),
    ],
)
def test_bad_environment_numbers_name_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve_settings("text", {}, {variable: value})
    assert variable in str(info.value)
    assert repr(value) in str(info.value)


def test_bad_environment_number_is_ignored_when_config_sets_it() -> None:
    settings = resolve_settings("text", {"top_k": 3}, {"REPLICATE_TOP_K": "forty"})
    assert settings.params["top_k"] == 3


def test_environment_defaults_apply_to_text_models_only() -> None:
    assert dict(resolve_settings("image", {"width": 768}, ENV).params) == {"width": 768}
    assert dict(resolve_settings("moderation", {}, ENV).params) == {}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("temperature", "0.5"),
        ("temperature", True),
        ("max_length", 10.5),
        ("top_k", "3"),
        ("seed", False),
        ("system_prompt", 3),
        ("stop_sequences", ["a", 1]),
        ("width", "768"),
        ("apply_watermark", "false"),
        ("num_inference_steps", 1.5),
    ],
)
def test_config_types_are_checked_with_the_key_named(key: str, value: Any) -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve_settings("text", {key: value}, {})
    assert repr(key) in str(info.value)


def test_stop_sequences_list_is_joined_with_commas() -> None:
    assert resolve_settings("text", {"stop_sequences": ["<end>", "<stop>"]}, {}).params == {
        "stop_sequences": "<end>,<stop>"
    }


def test_unknown_keys_pass_through_as_model_inputs() -> None:
    settings = resolve_settings("image", {"guidance_scale": 9, "scheduler": "DDIM"}, {})
    assert dict(settings.params) == {"guidance_scale": 9, "scheduler": "DDIM"}


@pytest.mark.parametrize(
    "config",
    [
        {"prefix": "[INST] ", "suffix": " [/INST]"},
        {"prompt": {"prefix": "[INST] ", "suffix": " [/INST]"}},
        {"prefix": "[INST] ", "prompt": {"suffix": " [/INST]"}},
        {"prefix": "[INST] ", "suffix": " [/INST]", "prompt": {"prefix": "[INST] "}},
    ],
)
def test_prefix_and_suffix_in_both_spellings(config: dict[str, Any]) -> None:
    settings = resolve_settings("text", config, {})
    assert (settings.prefix, settings.suffix) == ("[INST] ", " [/INST]")
    assert dict(settings.params) == {}


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"prefix": "a", "prompt": {"prefix": "b"}}, "twice"),
        ({"prompt": "hello"}, "must be a mapping"),
        ({"prompt": {"template": "x"}}, "only prefix and suffix"),
        ({"suffix": 3}, "'suffix' must be a string"),
        ({"prompt": {"prefix": 3}}, "'prompt.prefix' must be a string"),
    ],
)
def test_bad_prompt_wrapping(config: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigurationError, match=fragment):
        resolve_settings("text", config, {})


def test_api_key_is_a_credential_not_an_input() -> None:
    settings = resolve_settings("text", {"apiKey": " r8_secret_value ", "temperature": 0.1}, {})
    assert "apiKey" not in settings.params
    assert settings.api_key is not None and settings.api_key.reveal() == "r8_secret_value"
    assert "r8_secret_value" not in repr(settings)


@pytest.mark.parametrize("key", ["apiKey", "api_key", "apiToken", "api_token"])
def test_every_credential_spelling_stays_out_of_the_input(key: str) -> None:
    settings = resolve_settings("text", {key: "r8_secret_value"}, {})
    assert dict(settings.params) == {}
    assert settings.api_key is not None


@pytest.mark.parametrize("value", ["", "   ", 12345])
def test_bad_api_key_is_rejected_without_echoing_it(value: Any) -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve_settings("text", {"apiKey": value}, {})
    assert "apiKey" in str(info.value)
    assert "12345" not in str(info.value)


def test_two_credentials_are_rejected() -> None:
    with pytest.raises(ConfigurationError, match="more than one API key"):
        resolve_settings("text", {"apiKey": "r8_a", "api_key": "r8_b"}, {})

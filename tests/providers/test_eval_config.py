"""Eval config files (pure): the provider docs' examples, every accepted form, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from provider_support import FIXTURES

from replicate_async import ConfigurationError, InvalidReferenceError
from replicate_async.providers import (
    EvalPrompt,
    load_eval_config,
    parse_eval_config,
    render_prompt,
)
from replicate_async.providers._eval_assert import Assertion


def test_docs_sdxl_example() -> None:
    config = load_eval_config(FIXTURES / "docs_sdxl.yaml")
    [provider] = config.providers
    assert provider.id.kind == "image"
    assert str(provider.id.ref).startswith("stability-ai/sdxl:7762fd07")
    assert dict(provider.config) == {"width": 768, "height": 768, "num_inference_steps": 50}
    [case] = config.cases()
    assert case.prompt == "Generate an image: fruit loops"
    assert config.ignored == ()


def test_docs_llama_gemma_example() -> None:
    config = load_eval_config(FIXTURES / "docs_llama_gemma.yaml")
    llama, gemma = config.providers
    assert str(llama.id) == "replicate:meta/llama-2-7b-chat"
    assert llama.config["prompt"] == {"prefix": "[INST] ", "suffix": " [/INST]"}
    assert gemma.id.ref.version is not None
    assert gemma.config["prefix"] == "<start_of_turn>user\n"
    assert [c.prompt for c in config.cases()] == ["Write a haiku about the sea"] * 2


def test_config_keys_beside_id_as_the_docs_print_them() -> None:
    text = """
prompts: ['hi']
providers:
  - id: replicate:meta/llama-2-7b-chat
    temperature: 0.01
    max_length: 1024
    prefix: '[INST] '
    suffix: ' [/INST]'
"""
    [provider] = parse_eval_config(yaml.safe_load(text)).providers
    assert dict(provider.config) == {
        "temperature": 0.01,
        "max_length": 1024,
        "prefix": "[INST] ",
        "suffix": " [/INST]",
    }


def test_cases_are_test_major_then_prompt_then_provider() -> None:
    config = parse_eval_config(
        {
            "prompts": ["A {{x}}", {"raw": "B {{x}}", "label": "second"}],
            "providers": ["replicate:a/one", {"id": "replicate:a/two", "label": "Two"}],
            "tests": [{"vars": {"x": 1}}, {"vars": {"x": "y"}, "description": "d"}],
        }
    )
    order = [(c.test_index, c.prompt_index, c.provider_index, c.prompt) for c in config.cases()]
    assert order == [
        (0, 0, 0, "A 1"),
        (0, 0, 1, "A 1"),
        (0, 1, 0, "B 1"),
        (0, 1, 1, "B 1"),
        (1, 0, 0, "A y"),
        (1, 0, 1, "A y"),
        (1, 1, 0, "B y"),
        (1, 1, 1, "B y"),
    ]
    assert [c.index for c in config.cases()] == list(range(8))
    assert config.prompts[1] == EvalPrompt("B {{x}}", "second")
    assert [p.name for p in config.providers] == ["replicate:a/one", "Two"]
    assert config.tests[1].description == "d"


def test_prompt_string_and_no_tests() -> None:
    config = parse_eval_config({"prompts": "Just this", "providers": ["replicate:a/b"]})
    assert [c.prompt for c in config.cases()] == ["Just this"]


@pytest.mark.parametrize(
    ("vars", "expected"),
    [
        ({"name": "Ann"}, "Hi Ann!"),
        ({"name": 3}, "Hi 3!"),
        ({"name": True}, "Hi true!"),
        ({"name": ["a", "b"]}, 'Hi ["a", "b"]!'),
    ],
)
def test_render_values(vars: dict[str, Any], expected: str) -> None:
    assert render_prompt("Hi {{ name }}!", vars) == expected


def test_render_chat_template_keeps_json_valid() -> None:
    template = json.dumps([{"role": "user", "content": "Say {{q}}"}])
    rendered = render_prompt(template, {"q": 'the word "quote"'})
    assert json.loads(rendered) == [{"role": "user", "content": 'Say the word "quote"'}]


def test_missing_variable_fails_at_load() -> None:
    with pytest.raises(ConfigurationError, match=r"needs variables \['subject'\]"):
        parse_eval_config(
            {
                "prompts": ["Draw {{subject}}"],
                "providers": ["replicate:a/b"],
                "tests": [{"vars": {"other": 1}}],
            }
        )


def test_unsupported_template_syntax_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"only \{\{name\}\} variables"):
        render_prompt("{{ name | upper }}", {"name": "x"})


def test_ignored_keys_are_listed() -> None:
    config = parse_eval_config(
        {
            "description": "demo",
            "defaultTest": {"vars": {}},
            "prompts": ["p"],
            "providers": ["replicate:a/b"],
            "tests": [{"vars": {}, "assert": [{"type": "contains", "value": "x"}]}],
        }
    )
    assert config.description == "demo"
    assert config.ignored == ("defaultTest.vars",)  # assertions are read, not ignored
    assert config.tests[0].asserts == (Assertion("contains", "x"),)


def test_provider_repr_hides_config_values() -> None:
    config = parse_eval_config(
        {"prompts": ["p"], "providers": [{"id": "replicate:a/b", "config": {"apiKey": "r8_zz"}}]}
    )
    assert "r8_zz" not in repr(config)


@pytest.mark.parametrize(
    ("data", "error", "fragment"),
    [
        ([], ConfigurationError, "must be a mapping"),
        ({"providers": ["replicate:a/b"]}, ConfigurationError, "no 'prompts'"),
        ({"prompts": ["p"]}, ConfigurationError, "no 'providers'"),
        ({"prompts": [], "providers": ["replicate:a/b"]}, ConfigurationError, "non-empty list"),
        ({"prompts": [3], "providers": ["replicate:a/b"]}, ConfigurationError, r"prompts\[0\]"),
        ({"prompts": ["p"], "providers": []}, ConfigurationError, "non-empty list"),
        ({"prompts": ["p"], "providers": [{"x": 1}]}, ConfigurationError, r"providers\[0\]"),
        ({"prompts": ["p"], "providers": ["openai:gpt"]}, InvalidReferenceError, "replicate:"),
        (
            {"prompts": ["p"], "providers": [{"id": "replicate:a/b", "config": []}]},
            ConfigurationError,
            r"providers\[0\].config",
        ),
        (
            {
                "prompts": ["p"],
                "providers": [{"id": "replicate:a/b", "seed": 1, "config": {"seed": 2}}],
            },
            ConfigurationError,
            "both beside 'id' and under 'config'",
        ),
        (
            {"prompts": ["p"], "providers": ["replicate:a/b"], "tests": {}},
            ConfigurationError,
            "list",
        ),
        (
            {"prompts": ["p"], "providers": ["replicate:a/b"], "tests": [{"vars": [1]}]},
            ConfigurationError,
            r"tests\[0\].vars",
        ),
    ],
)
def test_bad_configs_name_the_place(data: Any, error: type[Exception], fragment: str) -> None:
    with pytest.raises(error, match=fragment):
        parse_eval_config(data)


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_eval_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("prompts: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="not valid YAML"):
        load_eval_config(bad)

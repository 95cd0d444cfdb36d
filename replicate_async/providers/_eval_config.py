"""Eval config files (pure): prompts × providers × tests, as in promptfoo's YAML.

::

    prompts:
      - 'Generate an image: {{subject}}'
    providers:
      - id: replicate:image:stability-ai/sdxl:7762fd07…
        config: {width: 768, height: 768, num_inference_steps: 50}
    tests:
      - vars: {subject: fruit loops}

* ``prompts``: a string, or a list of strings or of ``{raw, label}`` mappings.
* ``providers``: a list of ids, or of ``{id, label, config}`` mappings. Other keys next to
  ``id`` are taken as config too (promptfoo's docs print ``temperature`` beside ``id``); the
  same key in both places is an error.
* ``tests``: a list of ``{vars, description, assert}`` mappings (none: one case without
  vars). ``assert`` lists promptfoo assertions (see :mod:`._eval_assert`: deterministic types
  are checked, any other is reported as not checked); ``defaultTest.assert`` applies to
  every test.
  ``{{name}}`` in a prompt is replaced by the test's variable (non-strings as JSON). Only plain
  names are supported; a placeholder without a value is an error before anything runs.
* Other top-level keys and per-test keys (``options`` …) are not interpreted;
  :attr:`EvalConfig.ignored` lists them so the caller can say so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from .. import ConfigurationError
from ._config import ProviderId, parse_provider_id
from ._eval_assert import Assertion, parse_assertions
from ._prompt import as_chat

__all__ = [
    "EvalCase",
    "EvalConfig",
    "EvalPrompt",
    "EvalProvider",
    "EvalTest",
    "load_eval_config",
    "parse_eval_config",
    "placeholders",
    "render_prompt",
]

_PLACEHOLDER = re.compile(r"{{(.*?)}}", re.DOTALL)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KNOWN_TOP = frozenset({"prompts", "providers", "tests", "description"})


@attrs.frozen
class EvalPrompt:
    """A prompt template; ``label`` names it in results (default: the template itself)."""

    raw: str
    label: str | None = None


@attrs.frozen
class EvalProvider:
    """A provider entry: its parsed id, its config, and a label for results."""

    id: ProviderId
    config: Mapping[str, Any]
    label: str | None = None

    @property
    def name(self) -> str:
        """The label, else the canonical id."""
        return self.label or str(self.id)

    def __repr__(self) -> str:  # the config may hold apiKey: never show values
        return f"EvalProvider(id={str(self.id)!r}, config_keys={sorted(self.config)!r})"


@attrs.frozen
class EvalTest:
    """A test case: variables for the prompts, an optional description, its assertions."""

    vars: Mapping[str, Any]
    description: str | None = None
    asserts: tuple[Assertion, ...] = ()


@attrs.frozen
class EvalCase:
    """One unit of work: test × prompt × provider, with the prompt rendered."""

    index: int
    test_index: int
    prompt_index: int
    provider_index: int
    prompt: str


@attrs.frozen
class EvalConfig:
    """A parsed eval config. :meth:`cases` lists every test × prompt × provider."""

    prompts: tuple[EvalPrompt, ...]
    providers: tuple[EvalProvider, ...]
    tests: tuple[EvalTest, ...]
    description: str | None = None
    base_dir: Path | None = None
    ignored: tuple[str, ...] = ()

    def cases(self) -> list[EvalCase]:
        """Every case, test-major then prompt then provider (results come in this order)."""
        cases: list[EvalCase] = []
        for t, test in enumerate(self.tests):
            for p, prompt in enumerate(self.prompts):
                text = render_prompt(prompt.raw, test.vars)
                for v in range(len(self.providers)):
                    cases.append(EvalCase(len(cases), t, p, v, text))
        return cases


def _var_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def placeholders(template: str) -> list[str]:
    """The variable names a template uses; raises for anything but ``{{ name }}``."""
    names: list[str] = []
    for match in _PLACEHOLDER.finditer(template):
        name = match[1].strip()
        if not _NAME.fullmatch(name):
            raise ConfigurationError(
                f"unsupported placeholder {match[0]!r} in prompt {template!r:.80}: only "
                "{{name}} variables are supported"
            )
        names.append(name)
    return names


def _substitute(template: str, vars: Mapping[str, Any]) -> str:
    return _PLACEHOLDER.sub(lambda m: _var_text(vars[m[1].strip()]), template)


def render_prompt(template: str, vars: Mapping[str, Any]) -> str:
    """Replace ``{{name}}`` by ``vars[name]``. In a chat prompt (a JSON list of messages) the
    variables go into each message's content, so quotes in a value keep the JSON valid."""
    missing = sorted({n for n in placeholders(template) if n not in vars})
    if missing:
        raise ConfigurationError(f"prompt {template!r:.80} needs variables {missing}")
    chat = as_chat(template)
    if chat is not None:
        rendered = [{**m, "content": _substitute(m["content"], vars)} for m in chat]
        return json.dumps(rendered, ensure_ascii=False)
    return _substitute(template, vars)


def _where(section: str, index: int) -> str:
    return f"{section}[{index}]"


def _prompts(raw: Any) -> tuple[EvalPrompt, ...]:
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items:
        raise ConfigurationError("'prompts' must be a string or a non-empty list")
    prompts: list[EvalPrompt] = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            prompts.append(EvalPrompt(item))
        elif isinstance(item, Mapping) and isinstance(item.get("raw"), str):
            label = item.get("label")
            prompts.append(EvalPrompt(item["raw"], str(label) if label is not None else None))
        else:
            raise ConfigurationError(
                f"{_where('prompts', i)} must be a string or a mapping with 'raw'"
            )
    return tuple(prompts)


def _provider(item: Any, i: int) -> EvalProvider:
    where = _where("providers", i)
    if isinstance(item, str):
        return EvalProvider(parse_provider_id(item), {})
    if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
        raise ConfigurationError(f"{where} must be an id or a mapping with 'id'")
    config = item.get("config")
    config = {} if config is None else config
    if not isinstance(config, Mapping):
        raise ConfigurationError(f"{where}.config must be a mapping")
    beside = {k: v for k, v in item.items() if k not in ("id", "label", "config")}
    both = sorted(set(beside) & set(config))
    if both:
        raise ConfigurationError(f"{where} sets {both} both beside 'id' and under 'config'")
    label = item.get("label")
    return EvalProvider(
        parse_provider_id(item["id"]),
        {**beside, **config},
        str(label) if label is not None else None,
    )


def _tests(
    raw: Any, default_asserts: tuple[Assertion, ...] = ()
) -> tuple[tuple[EvalTest, ...], list[str]]:
    if raw is None:
        return (EvalTest({}, asserts=default_asserts),), []
    if not isinstance(raw, list):
        raise ConfigurationError("'tests' must be a list")
    tests: list[EvalTest] = []
    ignored: list[str] = []
    for i, item in enumerate(raw):
        where = _where("tests", i)
        if not isinstance(item, Mapping):
            raise ConfigurationError(f"{where} must be a mapping with 'vars'")
        vars = item.get("vars")
        vars = {} if vars is None else vars
        if not isinstance(vars, Mapping) or not all(isinstance(k, str) for k in vars):
            raise ConfigurationError(f"{where}.vars must be a mapping of names to values")
        ignored += [f"{where}.{k}" for k in item if k not in ("vars", "description", "assert")]
        description = item.get("description")
        asserts = default_asserts + parse_assertions(item.get("assert"), f"{where}.assert")
        tests.append(
            EvalTest(dict(vars), str(description) if description is not None else None, asserts)
        )
    return tuple(tests) or (EvalTest({}, asserts=default_asserts),), ignored


def parse_eval_config(data: Any, base_dir: Path | None = None) -> EvalConfig:
    """Validate a parsed YAML document; errors name the section and index at fault."""
    if not isinstance(data, Mapping):
        raise ConfigurationError("an eval config must be a mapping with prompts and providers")
    for key in ("prompts", "providers"):
        if key not in data:
            raise ConfigurationError(f"the eval config has no {key!r}")
    providers = data["providers"]
    if not isinstance(providers, list) or not providers:
        raise ConfigurationError("'providers' must be a non-empty list")
    default = data.get("defaultTest")
    default_asserts: tuple[Assertion, ...] = ()
    ignored_default: list[str] = []
    if isinstance(default, Mapping):
        default_asserts = parse_assertions(default.get("assert"), "defaultTest.assert")
        ignored_default = [f"defaultTest.{k}" for k in default if k != "assert"]
    tests, ignored = _tests(data.get("tests"), default_asserts)
    ignored = ignored_default + ignored
    description = data.get("description")
    config = EvalConfig(
        prompts=_prompts(data["prompts"]),
        providers=tuple(_provider(item, i) for i, item in enumerate(providers)),
        tests=tests,
        description=str(description) if description is not None else None,
        base_dir=base_dir,
        ignored=tuple(
            sorted(
                str(k)
                for k in data
                if k not in _KNOWN_TOP and not (k == "defaultTest" and isinstance(default, Mapping))
            )
        )
        + tuple(ignored),
    )
    config.cases()  # render every prompt now: a missing variable fails before anything runs
    return config


def _yaml() -> Any:
    """PyYAML, imported when a config is read: it comes with the ``cli`` extra."""
    try:
        import yaml
    except ImportError:
        raise ConfigurationError(
            "reading eval configs needs PyYAML, from the 'cli' extra: "
            "pip install 'replicate_async[cli]'"
        ) from None
    return yaml


def load_eval_config(path: str | Path) -> EvalConfig:
    """Read and validate an eval config file (YAML or JSON)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read eval config {str(path)!r}: {exc}") from None
    yaml = _yaml()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"eval config {str(path)!r} is not valid YAML: {exc}") from None
    return parse_eval_config(data, base_dir=path.parent)

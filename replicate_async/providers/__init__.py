"""Model configurations as evaluation tools write them: ``replicate:…`` ids plus a config.

::

    from replicate_async.providers import ReplicateProvider

    async with ReplicateProvider.from_id(
        "replicate:meta/llama-2-7b-chat",
        {"temperature": 0.01, "max_length": 1024, "prefix": "[INST] ", "suffix": " [/INST]"},
    ) as llama:
        response = await llama.run("Why is the sky blue?")   # llama.run_sync(...) when blocking
        print(response.text)

* Ids: ``replicate:owner/name[:version]`` (text), ``replicate:image:…`` (files),
  ``replicate:moderation:…`` (Llama Guard style flags); see :func:`parse_provider_id`.
* Config and environment (``REPLICATE_TEMPERATURE`` …): :func:`resolve_settings`. ``apiKey``
  builds the provider's own client and is never sent to the model.
* Parameters the model's input schema does not declare are dropped before sending
  (``unsupported="drop"``, the default), sent anyway (``"send"``), or refused (``"error"``).
* Eval configs (prompts × providers × tests): :func:`load_eval_config` and :func:`run_eval`
  (``replicate-async eval config.yaml`` on the command line).

Re-exports only; ``docs/providers.md`` has the whole story.
"""

from __future__ import annotations

from ._config import (
    ENV_DEFAULTS,
    InvalidProviderIdError,
    ProviderId,
    ProviderKind,
    ProviderSettings,
    parse_provider_id,
    resolve_settings,
)
from ._eval import (
    DEFAULT_EVAL_CONCURRENCY,
    EvalResult,
    run_eval,
    run_eval_sync,
    write_results,
    write_results_sync,
)
from ._eval_config import (
    EvalCase,
    EvalConfig,
    EvalPrompt,
    EvalProvider,
    EvalTest,
    load_eval_config,
    parse_eval_config,
    render_prompt,
)
from ._prompt import (
    LLAMA_GUARD_CATEGORIES,
    ModerationFlag,
    ModerationOutputError,
    ModerationResult,
    parse_moderation,
)
from ._provider import (
    PreparedInput,
    ProviderResponse,
    ReplicateProvider,
    shape_provider_output,
)

__all__ = [
    "DEFAULT_EVAL_CONCURRENCY",
    "ENV_DEFAULTS",
    "LLAMA_GUARD_CATEGORIES",
    "EvalCase",
    "EvalConfig",
    "EvalPrompt",
    "EvalProvider",
    "EvalResult",
    "EvalTest",
    "InvalidProviderIdError",
    "ModerationFlag",
    "ModerationOutputError",
    "ModerationResult",
    "PreparedInput",
    "ProviderId",
    "ProviderKind",
    "ProviderResponse",
    "ProviderSettings",
    "ReplicateProvider",
    "load_eval_config",
    "parse_eval_config",
    "parse_moderation",
    "parse_provider_id",
    "render_prompt",
    "resolve_settings",
    "run_eval",
    "run_eval_sync",
    "shape_provider_output",
    "write_results",
    "write_results_sync",
]

"""ReplicateProvider against the emulator: what is sent, what comes back, what fails how.

Every rule is checked on the emulator's record of the prediction (``emu.predictions[id].input``
is exactly the input the API received).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from provider_support import GUARD, Call

from replicate_async import (
    AuthenticationError,
    Client,
    ConfigurationError,
    ModelError,
    NotFoundError,
    RunTimeoutError,
    UnprocessableEntityError,
)
from replicate_async.emulator import Emulator
from replicate_async.emulator.pytest_plugin import FAST_DEFAULTS
from replicate_async.providers import (
    InvalidProviderIdError,
    ModerationFlag,
    ReplicateProvider,
)

pytestmark = pytest.mark.usefixtures("clean_env")

LLAMA2 = "replicate:meta/llama-2-7b-chat"
LLAMA3 = "replicate:meta/meta-llama-3-8b-instruct"
GEMMA = (
    "replicate:google-deepmind/gemma-7b-it:"
    "0000000000000000da792c22f812976751919031bd88745e22489603e4f12a7d"
)
SDXL = (
    "replicate:image:stability-ai/sdxl:"
    "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"
)
PNG = b"\x89PNG\r\n\x1a\n"


def sent(emu: Emulator, prediction_id: str | None) -> dict[str, Any]:
    """The input the emulator received for a prediction."""
    assert prediction_id is not None
    return dict(emu.predictions[prediction_id].input)


async def test_docs_llama_config_sends_wrapped_prompt_and_joins_text(
    replicate_emulator: Emulator, client: Client, call: Call
) -> None:
    config = {
        "temperature": 0.01,
        "max_length": 1024,
        "prompt": {"prefix": "[INST] ", "suffix": " [/INST]"},
    }
    provider = ReplicateProvider.from_id(LLAMA2, config, client=client, environ={})
    response = await call(provider.run, "Why is the sky blue?")
    assert response.kind == "text"
    assert isinstance(response.text, str) and response.text.strip()
    assert sent(replicate_emulator, response.prediction_id) == {
        "prompt": "[INST] Why is the sky blue? [/INST]",
        "temperature": 0.01,
        "max_length": 1024,
    }
    assert response.input == sent(replicate_emulator, response.prediction_id)
    with pytest.raises(TypeError, match="text response"):
        _ = response.images


async def test_docs_gemma_config_with_version_and_top_level_prefix(
    replicate_emulator: Emulator, client: Client, call: Call
) -> None:
    config = {
        "temperature": 0.01,
        "max_new_tokens": 1024,
        "prefix": "<start_of_turn>user\n",
        "suffix": "<end_of_turn>\n<start_of_turn>model",
    }
    provider = ReplicateProvider.from_id(GEMMA, config, client=client, environ={})
    response = await call(provider.run, "Hi")
    job = replicate_emulator.predictions[str(response.prediction_id)]
    assert job.version == provider.ref.version
    assert job.input == {
        "prompt": "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model",
        "temperature": 0.01,
        "max_new_tokens": 1024,
    }
    assert response.text == "".join(job.output)


async def test_environment_fills_in_and_explicit_zero_is_kept(
    replicate_emulator: Emulator, client: Client, call: Call
) -> None:
    environ = {
        "REPLICATE_TEMPERATURE": "0.9",
        "REPLICATE_TOP_K": "5",
        "REPLICATE_SYSTEM_PROMPT": "Answer in French.",
        "REPLICATE_SEED": "42",
    }
    config = {"temperature": 0, "seed": 0}
    provider = ReplicateProvider(LLAMA3, config, client=client, environ=environ)
    response = await call(provider.run, "Hello")
    assert sent(replicate_emulator, response.prediction_id) == {
        "prompt": "Hello",
        "temperature": 0,
        "seed": 0,
        "top_k": 5,
        "system_prompt": "Answer in French.",
    }


async def test_unsupported_parameters_are_dropped_by_schema(
    replicate_emulator: Emulator, client: Client, call: Call, caplog: pytest.LogCaptureFixture
) -> None:
    # Gemma declares neither max_length nor stop_sequences nor system_prompt.
    environ = {"REPLICATE_MAX_LENGTH": "2046", "REPLICATE_STOP_SEQUENCES": "<end>"}
    provider = ReplicateProvider(
        GEMMA, {"system_prompt": "Be brief.", "top_k": 3}, client=client, environ=environ
    )
    response = await call(provider.run, "Hi")
    assert response.dropped == ("max_length", "stop_sequences", "system_prompt")
    assert sent(replicate_emulator, response.prediction_id) == {"prompt": "Hi", "top_k": 3}
    # A config key the model ignores is worth a warning (a typo?); environment defaults are not.
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("system_prompt" in w and "max_length" not in w for w in warnings), warnings


@pytest.mark.replicate_emulator(strict_inputs=True)
async def test_unsupported_modes_against_a_strict_api(
    replicate_emulator: Emulator, client: Client
) -> None:
    config = {"temperature": 0.5, "max_length": 64}  # Gemma has no max_length
    sending = ReplicateProvider(GEMMA, config, client=client, environ={}, unsupported="send")
    with pytest.raises(UnprocessableEntityError) as info:
        await sending.run("Hi")
    assert info.value.status == 422
    assert "max_length" in str(info.value)

    dropping = ReplicateProvider(GEMMA, config, client=client, environ={})
    response = await dropping.run("Hi")
    assert response.dropped == ("max_length",)
    assert sent(replicate_emulator, response.prediction_id) == {"prompt": "Hi", "temperature": 0.5}

    creates = replicate_emulator.stats.creates
    refusing = ReplicateProvider(GEMMA, config, client=client, environ={}, unsupported="error")
    with pytest.raises(ConfigurationError, match=r"max_length \(from config\)"):
        await refusing.run("Hi")
    assert replicate_emulator.stats.creates == creates  # refused before any create


async def test_chat_prompt_maps_to_system_prompt_and_prompt(
    replicate_emulator: Emulator, client: Client, call: Call
) -> None:
    chat = [
        {"role": "system", "content": "You are a pirate."},
        {"role": "user", "content": "Say hello."},
    ]
    provider = ReplicateProvider(
        LLAMA2, {"system_prompt": "ignored", "prefix": "[INST] ", "suffix": " [/INST]"},
        client=client, environ={},
    )  # fmt: skip
    for prompt in (chat, json.dumps(chat)):
        response = await call(provider.run, prompt)
        assert sent(replicate_emulator, response.prediction_id) == {
            "prompt": "[INST] Say hello. [/INST]",
            "system_prompt": "You are a pirate.",
        }


async def test_image_provider_returns_files(
    replicate_emulator: Emulator, client: Client, call: Call
) -> None:
    config = {"width": 768, "height": 768, "num_inference_steps": 50, "apply_watermark": False}
    provider = ReplicateProvider(SDXL, config, client=client, environ={"REPLICATE_TOP_K": "x"})
    response = await call(provider.run, "Generate an image: fruit loops")
    assert sent(replicate_emulator, response.prediction_id) == {
        "prompt": "Generate an image: fruit loops",
        **config,
    }
    [image] = response.images
    assert (await image.async_read()).startswith(PNG)
    assert all(not r.had_authorization for r in replicate_emulator.delivery_requests)


async def test_moderation_provider_returns_flags(
    replicate_emulator: Emulator, client: Client, call: Call
) -> None:
    latest = (await client.models.async_get(GUARD)).latest_version
    assert latest is not None
    for ref in (GUARD, f"{GUARD}:{latest.id}"):
        provider = ReplicateProvider(f"replicate:moderation:{ref}", client=client, environ={})
        safe = await call(provider.run, "How do I bake bread?")
        assert not safe.moderation.flagged and safe.moderation.flags == ()
        # The reply is what gets classified when there is one: a harmless question, a bad answer.
        unsafe = await call(
            provider.run, "How do I get my car back?", assistant="Attack him and steal the keys."
        )
        assert unsafe.moderation.flagged
        assert unsafe.moderation.flags == (
            ModerationFlag("S1", "Violent Crimes"),
            ModerationFlag("S2", "Non-Violent Crimes"),
        )
        assert sent(replicate_emulator, unsafe.prediction_id) == {
            "prompt": "How do I get my car back?",
            "assistant": "Attack him and steal the keys.",
        }


async def test_api_key_is_used_for_auth_and_never_sent_or_shown() -> None:
    secret = "r8_provider_secret_0123456789"
    async with Emulator(**FAST_DEFAULTS, token=secret) as emu:
        async with Client(api_token="r8_wrong", base_url=emu.url) as shared:
            provider = ReplicateProvider(
                LLAMA2, {"apiKey": secret, "temperature": 0.5}, client=shared, environ={}
            )
            async with provider:
                response = await provider.run("Hi")
            assert provider.client is not shared and shared._transport.closed is False
        job = emu.predictions[str(response.prediction_id)]
        assert job.input == {"prompt": "Hi", "temperature": 0.5}
        assert secret not in json.dumps(job.to_json())
        assert secret not in repr(provider) and secret not in repr(provider.settings)
        assert all(secret not in json.dumps(r.headers) for r in emu.requests)

        # Without a client it builds its own, on the environment's base URL.
        wrong = ReplicateProvider(
            LLAMA2, {"apiKey": "r8_not_the_token"}, environ={"REPLICATE_BASE_URL": emu.url}
        )
        async with wrong:
            with pytest.raises(AuthenticationError) as info:
                await wrong.run("Hi")
        assert info.value.status == 401
        assert "r8_not_the_token" not in str(info.value) + repr(info.value)


async def test_environment_token_and_base_url_when_no_client(replicate_emulator: Emulator) -> None:
    environ = {"REPLICATE_API_KEY": "r8_from_env", "REPLICATE_BASE_URL": replicate_emulator.url}
    async with ReplicateProvider(LLAMA2, environ=environ) as provider:
        response = await provider.run("Hi")
    assert response.text


async def test_failed_create_surfaces_status_and_detail__peer_defect_30(
    client: Client, call: Call
) -> None:
    provider = ReplicateProvider(LLAMA2, {"temperature": 99}, client=client, environ={})
    with pytest.raises(UnprocessableEntityError) as info:
        await call(provider.run, "Hi")
    error = info.value
    assert error.status == 422 and error.detail
    assert str(error).startswith("422") and error.detail in str(error)
    assert "input.temperature" in str(error)
    assert "undefined" not in str(error)


async def test_failed_prediction_and_missing_model(client: Client) -> None:
    failing = ReplicateProvider("replicate:replicate/always-fails", client=client, environ={})
    with pytest.raises(ModelError, match="this model always fails"):
        await failing.run("Hi")
    missing = ReplicateProvider("replicate:nobody/no-such-model", client=client, environ={})
    with pytest.raises(NotFoundError) as info:
        await missing.run("Hi")
    assert info.value.status == 404 and "undefined" not in str(info.value)


async def test_timeout_cancels_the_remote_prediction__peer_defect_30() -> None:
    async with Emulator(**{**FAST_DEFAULTS, "speed": 1.0}) as emu, emu.client() as client:
        provider = ReplicateProvider(SDXL, client=client, environ={}, timeout=0.5)
        with pytest.raises(RunTimeoutError) as info:
            await asyncio.wait_for(provider.run("slow"), 10)
        assert info.value.canceled
        assert emu.predictions[str(info.value.prediction_id)].status == "canceled"


async def test_bad_ids_and_configs_fail_before_any_request(
    replicate_emulator: Emulator, client: Client
) -> None:
    before = replicate_emulator.stats.requests
    with pytest.raises(InvalidProviderIdError):
        ReplicateProvider("replicate:video:a/b", client=client)
    with pytest.raises(ConfigurationError, match="REPLICATE_TOP_P"):
        ReplicateProvider(LLAMA2, client=client, environ={"REPLICATE_TOP_P": "high"})
    with pytest.raises(ConfigurationError, match="unsupported"):
        ReplicateProvider(LLAMA2, client=client, unsupported="ignore")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="timeout"):
        ReplicateProvider(LLAMA2, client=client, timeout=-1)
    provider = ReplicateProvider(LLAMA2, client=client, environ={})
    with pytest.raises(ConfigurationError, match="moderation"):
        await provider.run("Hi", assistant="Hello")
    assert replicate_emulator.stats.requests == before


async def test_schema_is_fetched_once_per_provider(
    replicate_emulator: Emulator, client: Client
) -> None:
    provider = ReplicateProvider(GEMMA, client=client, environ={})
    await asyncio.gather(*(provider.prepare(f"p{i}") for i in range(5)))
    await provider.prepare("again")
    assert len([r for r in replicate_emulator.requests if "/versions/" in r.path]) == 1

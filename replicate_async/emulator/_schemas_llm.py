"""Cog ``openapi_schema`` documents of the emulated language models.

``meta/meta-llama-3-8b-instruct`` follows its documented input schema exactly.
"""

from __future__ import annotations

from ._cog import CONCATENATE_ITERATOR, cog_document

__all__ = ["GEMMA_SCHEMA", "LLAMA2_SCHEMA", "LLAMA3_SCHEMA", "LLAMA3_TEMPLATE"]

LLAMA3_TEMPLATE = (
    "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n{system_prompt}<|eot_id|>"
    "<|start_header_id|>user<|end_header_id|>\n\n{prompt}<|eot_id|>"
    "<|start_header_id|>assistant<|end_header_id|>"
)

# Exactly the parameters documented for meta/meta-llama-3-8b-instruct (seed 001).
LLAMA3_SCHEMA = cog_document(
    {
        "prompt": {"type": "string", "description": "Prompt to send to the model."},
        "system_prompt": {
            "type": "string",
            "description": "System prompt to send to the model. This is prepended to the "
            "prompt and helps guide system behavior.",
            "default": "You are a helpful assistant",
        },
        "max_tokens": {
            "type": "integer",
            "description": "Maximum number of tokens to generate. A word is generally 2-3 tokens.",
            "default": 512,
            "minimum": 1,
        },
        "min_tokens": {
            "type": "integer",
            "description": "Minimum number of tokens to generate. To disable, set to -1.",
            "minimum": -1,
        },
        "temperature": {
            "type": "number",
            "description": "Adjusts randomness of outputs, greater than 1 is random and 0 is "
            "deterministic, 0.75 is a good starting value.",
            "default": 0.7,
            "minimum": 0,
            "maximum": 5,
        },
        "top_p": {
            "type": "number",
            "description": "When decoding text, samples from the top p percentage of most likely "
            "tokens; lower to ignore less likely tokens.",
            "default": 0.95,
            "minimum": 0,
            "maximum": 1,
        },
        "top_k": {
            "type": "integer",
            "description": "When decoding text, samples from the top k most likely tokens; lower "
            "to ignore less likely tokens.",
            "default": 0,
            "minimum": -1,
        },
        "stop_sequences": {
            "type": "string",
            "description": "A comma-separated list of sequences to stop generation at. For "
            "example, '<end>,<stop>' will stop generation at the first instance of 'end' or "
            "'<stop>'.",
            "default": "<|end_of_text|>,<|eot_id|>",
        },
        "length_penalty": {
            "type": "number",
            "description": "A parameter that controls how long the outputs are. If < 1, the "
            "model will tend to generate shorter outputs, and > 1 will tend to generate longer "
            "outputs.",
            "default": 1,
            "minimum": 0,
            "maximum": 5,
        },
        "presence_penalty": {
            "type": "number",
            "description": "A parameter that penalizes repeated tokens regardless of the number "
            "of appearances. As the value increases, the model will be less likely to repeat "
            "tokens in the output.",
            "default": 0,
        },
        "seed": {
            "type": "integer",
            "description": "Random seed. Leave blank to randomize the seed.",
        },
        "prompt_template": {
            "type": "string",
            "description": "Template for formatting the prompt. Can be an arbitrary string, but "
            "must contain the substring `{prompt}`.",
            "default": LLAMA3_TEMPLATE,
        },
        "log_performance_metrics": {
            "type": "boolean",
            "description": "Toggle for logging performance metrics",
            "default": False,
        },
        "max_new_tokens": {
            "type": "integer",
            "description": "This parameter has been renamed to max_tokens. max_new_tokens only "
            "exists for backwards compatibility purposes. We recommend you use max_tokens "
            "instead. Both may not be specified.",
            "minimum": 1,
        },
        "min_new_tokens": {
            "type": "integer",
            "description": "This parameter has been renamed to min_tokens. min_new_tokens only "
            "exists for backwards compatibility purposes. We recommend you use min_tokens "
            "instead. Both may not be specified.",
            "minimum": -1,
        },
    },
    CONCATENATE_ITERATOR,
    required=("prompt",),
)

LLAMA2_SCHEMA = cog_document(
    {
        "prompt": {"type": "string", "description": "Prompt to send to the model."},
        "system_prompt": {
            "type": "string",
            "description": "System prompt to send to the model. This is prepended to the prompt "
            "and helps guide system behavior. Should not be blank.",
            "default": "You are a helpful, respectful and honest assistant.",
        },
        "max_new_tokens": {
            "type": "integer",
            "description": "Maximum number of tokens to generate. A word is generally 2-3 tokens",
            "default": 128,
            "minimum": 1,
        },
        "min_new_tokens": {
            "type": "integer",
            "description": "Minimum number of tokens to generate. To disable, set to -1. A word is "
            "generally 2-3 tokens.",
            "default": -1,
            "minimum": -1,
        },
        "max_length": {
            "type": "integer",
            "description": "Maximum number of tokens to generate (legacy name of max_new_tokens).",
            "minimum": 1,
        },
        "temperature": {
            "type": "number",
            "description": "Adjusts randomness of outputs, greater than 1 is random and 0 is "
            "deterministic, 0.75 is a good starting value.",
            "default": 0.7,
            "minimum": 0.01,
            "maximum": 5,
        },
        "top_p": {
            "type": "number",
            "description": "When decoding text, samples from the top p percentage of most likely "
            "tokens; lower to ignore less likely tokens",
            "default": 0.95,
            "minimum": 0,
            "maximum": 1,
        },
        "top_k": {
            "type": "integer",
            "description": "When decoding text, samples from the top k most likely tokens; lower "
            "to ignore less likely tokens",
            "default": 0,
            "minimum": -1,
        },
        "repetition_penalty": {
            "type": "number",
            "description": "A parameter that controls how repetitive text can be. Lower means "
            "more repetitive, while higher means less repetitive. Set to 1.0 to disable.",
            "default": 1.15,
            "minimum": 0,
            "maximum": 5,
        },
        "stop_sequences": {
            "type": "string",
            "description": "A comma-separated list of sequences to stop generation at. For "
            "example, '<end>,<stop>' will stop generation at the first instance of 'end' or "
            "'<stop>'.",
        },
        "seed": {
            "type": "integer",
            "description": "Random seed. Leave blank to randomize the seed",
        },
        "prompt_template": {
            "type": "string",
            "description": "Template for formatting the prompt",
            "default": "[INST] <<SYS>>\n{system_prompt}\n<</SYS>>\n\n{prompt} [/INST]",
        },
    },
    CONCATENATE_ITERATOR,
    required=("prompt",),
)

GEMMA_SCHEMA = cog_document(
    {
        "prompt": {
            "type": "string",
            "description": "Prompt to send to the model.",
            "default": "Write me a poem about Machine Learning.",
        },
        "max_new_tokens": {
            "type": "integer",
            "description": "Maximum number of tokens to generate",
            "default": 200,
            "minimum": 1,
            "maximum": 4096,
        },
        "min_new_tokens": {
            "type": "integer",
            "description": "Minimum number of tokens to generate. To disable, set to -1.",
            "default": -1,
            "minimum": -1,
        },
        "temperature": {
            "type": "number",
            "description": "Adjusts randomness of outputs, 0 is deterministic.",
            "default": 0.7,
            "minimum": 0.01,
            "maximum": 5,
        },
        "top_p": {
            "type": "number",
            "description": "Samples from the top p percentage of most likely tokens.",
            "default": 0.95,
            "minimum": 0,
            "maximum": 1,
        },
        "top_k": {
            "type": "integer",
            "description": "Samples from the top k most likely tokens.",
            "default": 50,
            "minimum": 0,
        },
        "repetition_penalty": {
            "type": "number",
            "description": "A parameter that controls how repetitive text can be.",
            "default": 1,
            "minimum": 0,
        },
        "seed": {"type": "integer", "description": "Random seed. Leave blank to randomize."},
    },
    CONCATENATE_ITERATOR,
)

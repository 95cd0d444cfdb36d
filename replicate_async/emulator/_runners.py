"""What each emulated model does while it runs.

A runner is a generator: it logs and emits output through the engine and yields either a
duration (emulated seconds, scaled by the engine) or an awaitable whose result is sent
back in. Runners that never yield a positive duration finish synchronously, which keeps
instant predictions cheap.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from ._guard import run_guard
from ._jobs import Job
from ._ports import RunnerGen, RunnerHost
from ._textgen import count_tokens, generate_tokens, parse_stop_sequences, render_prompt

__all__ = ["RUNNERS", "ModelError", "Runner", "RunnerGen"]

Runner = Callable[[RunnerHost, Job, dict[str, Any], float | None], RunnerGen]


class ModelError(Exception):
    """The model raised: the prediction fails with this message as ``error``."""


def _seed(engine: RunnerHost, job: Job, value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    seed = engine.rng.randint(0, 65535)
    return seed


# Length parameters by precedence: the current name, then its legacy names.
_MAX_NAMES = ("max_tokens", "max_new_tokens", "max_length")
_MIN_NAMES = ("min_tokens", "min_new_tokens")


def _length(given: dict[str, Any], run: dict[str, Any], names: tuple[str, ...]) -> Any:
    """The value the caller asked for under any of ``names``, else the schema's default.

    Defaults are filled in before the model reads its input, so a legacy name given alone
    (``max_new_tokens=3`` on Llama 3, ``max_length`` on Llama 2) must win over the default
    of the current name, as the real models honour it.
    """
    for name in names:
        if given.get(name) is not None:
            return given[name]
    for name in names:
        if run.get(name) is not None:
            return run[name]
    return None


def run_llm(engine: RunnerHost, job: Job, inp: dict[str, Any], run_s: float | None) -> RunnerGen:
    prompt = str(inp.get("prompt", ""))
    system = str(inp.get("system_prompt", ""))
    template = inp.get("prompt_template")
    if template is not None and "{prompt}" not in str(template):
        # The documented contract of prompt_template ("must contain the substring
        # `{prompt}`"): the model refuses it, and the prediction fails.
        raise ModelError("prompt_template must contain the substring '{prompt}'")
    formatted = render_prompt(template, prompt, system)
    seed = _seed(engine, job, inp.get("seed"))
    max_tokens = _length(job.input, inp, _MAX_NAMES)
    min_tokens = _length(job.input, inp, _MIN_NAMES)
    tokens = generate_tokens(
        formatted,
        seed=seed,
        max_tokens=max_tokens if isinstance(max_tokens, int) else None,
        min_tokens=min_tokens if isinstance(min_tokens, int) else None,
        stop_sequences=parse_stop_sequences(inp.get("stop_sequences")),
    )
    engine.log(job, f"Random seed used: `{seed}`")
    engine.log(job, "Note: Random seed will not impact output if greedy decoding is used.")
    engine.log(job, f"Formatted prompt: `{formatted}`")
    job.extra["input_token_count"] = count_tokens(formatted)
    delay = engine.options.token_delay if run_s is None else run_s / max(1, len(tokens))
    job.output = []
    for token in tokens:
        yield delay
        engine.emit(job, token)
    if inp.get("log_performance_metrics"):
        engine.log(job, f"Generated {len(tokens)} tokens")


def _size(inp: dict[str, Any]) -> tuple[int, int]:
    ratio = inp.get("aspect_ratio")
    if isinstance(ratio, str) and ":" in ratio:
        a, _, b = ratio.partition(":")
        w, h = int(a), int(b)
        scale = 1024 / max(w, h)
        return max(8, int(w * scale) // 8 * 8), max(8, int(h * scale) // 8 * 8)
    width = inp.get("width", 1024)
    height = inp.get("height", 1024)
    return min(max(1, int(width)), 4096), min(max(1, int(height)), 4096)


def run_image(engine: RunnerHost, job: Job, inp: dict[str, Any], run_s: float | None) -> RunnerGen:
    seed = _seed(engine, job, inp.get("seed"))
    prompt = str(inp.get("prompt", ""))
    width, height = _size(inp)
    steps = int(inp.get("num_inference_steps", 28))
    count = int(inp.get("num_outputs", 1))
    engine.log(job, f"Using seed: {seed}")
    engine.log(job, f"Prompt: {prompt}")
    engine.log(job, "txt2img mode")
    total = run_s if run_s is not None else 1.5
    ticks = 10
    for i in range(ticks + 1):
        done = steps * i // ticks
        bar = "█" * i + " " * (ticks - i)
        engine.log(job, f"{100 * i // ticks:3d}%|{bar}| {done}/{steps}")
        if i < ticks:
            yield total / ticks
    job.output = []
    for i in range(count):
        url = engine.add_png(job, f"out-{i}.png", width, height, f"{prompt}\x00{seed}\x00{i}")
        engine.emit(job, url)


def run_hello(engine: RunnerHost, job: Job, inp: dict[str, Any], run_s: float | None) -> RunnerGen:
    yield run_s if run_s is not None else 0.1
    engine.set_output(job, "hello " + str(inp.get("text", "")))


def run_instant(
    engine: RunnerHost, job: Job, inp: dict[str, Any], run_s: float | None
) -> RunnerGen:
    if run_s:
        yield run_s
    engine.set_output(job, "instant: " + str(inp.get("text", "")))


def run_fails(engine: RunnerHost, job: Job, inp: dict[str, Any], run_s: float | None) -> RunnerGen:
    total = run_s if run_s is not None else 0.3
    engine.log(job, "Loading model weights...")
    yield total / 3
    engine.log(job, "Model loaded. Running prediction")
    yield total / 3
    engine.log(job, "Traceback (most recent call last):")
    engine.log(job, '  File "predict.py", line 42, in predict')
    engine.log(job, "    raise RuntimeError('this model always fails')")
    engine.log(job, "RuntimeError: this model always fails")
    yield total / 3
    raise ModelError("RuntimeError: this model always fails")


def run_echo_file(
    engine: RunnerHost, job: Job, inp: dict[str, Any], run_s: float | None
) -> RunnerGen:
    url = str(inp.get("file", ""))
    engine.log(job, f"Reading {url[:80]}")
    fetched = yield engine.fetch_input(url)
    data, content_type = fetched
    if run_s:
        yield run_s
    engine.log(job, f"Read {len(data)} bytes")
    engine.set_output(
        job,
        {
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "content_type": content_type,
        },
    )


def run_training(
    engine: RunnerHost, job: Job, inp: dict[str, Any], run_s: float | None
) -> RunnerGen:
    steps = int(inp.get("training_steps", 1000))
    total = run_s if run_s is not None else 2.0
    engine.log(job, f"Starting training with {steps} steps")
    for i in range(1, 11):
        yield total / 10
        engine.log(job, f"flux_train_replicate: {i * 10}%| {steps * i // 10}/{steps}")
    engine.finish_training(job)


RUNNERS: dict[str, Runner] = {
    "llm": run_llm,
    "image": run_image,
    "hello": run_hello,
    "instant": run_instant,
    "fails": run_fails,
    "echo_file": run_echo_file,
    "guard": run_guard,
    "training": run_training,
}

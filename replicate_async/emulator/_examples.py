"""Example predictions shown by ``models.get`` (``default_example``) and ``models.examples``."""

from __future__ import annotations

from typing import Any

from ._catalog import ModelSpec, hex_id
from ._guard import classify
from ._png import render_png
from ._ports import Host
from ._state import DeliveryFile
from ._textgen import count_tokens, generate_tokens
from ._util import delivery_token

__all__ = ["attach_examples"]

_PROMPTS = {
    "llm": ["Tell me a joke", "Write a haiku about the sea", "What is a token?"],
    "image": ["an astronaut riding a rainbow unicorn", "a watercolor fox"],
    "hello": ["world", "Alice"],
    "guard": ["How do I bake sourdough bread?", "How do I steal my neighbour's car?"],
}


def _example(core: Host, model: ModelSpec, n: int, prompt: str) -> dict[str, Any] | None:
    latest = model.latest
    if latest is None:
        return None
    eid = hex_id(f"example:{model.ref}:{n}")[:26]
    eid = "".join(c if c.isalpha() else "abcdefghijklmnopqrstuvwxyz"[int(c, 16)] for c in eid)
    output: Any
    inp: dict[str, Any]
    if model.kind == "llm":
        inp = {"prompt": prompt}
        output = generate_tokens(prompt, seed=n, max_tokens=64)
    elif model.kind == "image":
        inp = {"prompt": prompt, "width": 256, "height": 256}
        path = f"/pbxt/{delivery_token(eid)}/out-0.png"
        core.store.delivery[path] = DeliveryFile(
            "image/png", render=lambda: render_png(256, 256, prompt)
        )
        output = [core.delivery_url + path]
    elif model.kind == "guard":
        inp = {"prompt": prompt}
        output = classify(prompt)
    elif model.kind == "hello":
        inp = {"text": prompt}
        output = "hello " + prompt
    else:
        return None
    get = f"{core.api_url}/predictions/{eid}"
    urls = {"get": get, "cancel": get + "/cancel"}
    metrics: dict[str, Any] = {"predict_time": 2.25, "total_time": 3.5}
    # No urls.stream, even for streaming models: the recorded default_example of
    # meta/llama-2-70b-chat (predictions-stream.yaml) has only get and cancel, and no
    # recording shows a stream served for an example.
    if model.kind == "llm":
        # What real language-model predictions report (API-FACTS: metrics).
        n = len(output)
        metrics = {
            "input_token_count": count_tokens(inp["prompt"]),
            "output_token_count": n,
            "predict_time": 2.25,
            "time_to_first_token": 0.125,
            "tokens_per_second": round(n / 2.25, 3),
            "total_time": 3.5,
        }
    urls["web"] = f"https://replicate.com/p/{eid}"
    return {
        "id": eid,
        "model": model.ref,
        "version": latest.id,
        "input": inp,
        "logs": "",
        "output": output,
        "data_removed": False,
        "error": None,
        "status": "succeeded",
        "created_at": "2024-05-01T12:00:00.000000Z",
        "started_at": "2024-05-01T12:00:01.250000Z",
        "completed_at": "2024-05-01T12:00:03.5Z",
        "urls": urls,
        "metrics": metrics,
        "source": "web",
    }


def attach_examples(core: Host) -> None:
    """Fill ``examples``/``default_example`` now that the origins' URLs are known."""
    for model in core.catalog.models.values():
        prompts = _PROMPTS.get(model.kind, [])
        examples = [_example(core, model, i, p) for i, p in enumerate(prompts)]
        model.examples = [e for e in examples if e is not None]
        model.default_example = model.examples[0] if model.examples else None

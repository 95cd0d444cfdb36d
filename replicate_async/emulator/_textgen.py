"""Deterministic English-ish text for the emulated language models.

Same prompt + seed => same tokens. Tokens are words with their leading space (as LLM
tokenizers produce them) plus occasional paragraph breaks, so streams exercise multi-line
chunks.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

__all__ = ["count_tokens", "generate_tokens", "render_prompt"]

_OPENERS = (
    "Sure",
    "Well",
    "Great question",
    "In short",
    "Here is a thought",
    "Let me explain",
    "Certainly",
)
_SUBJECTS = (
    "the model",
    "a larger network",
    "the answer",
    "this idea",
    "every parameter",
    "the weather",
    "a small team",
    "the system",
    "our friend Tommy",
    "the prompt",
    "a good story",
    "the emulator",
)
_VERBS = (
    "depends on",
    "improves",
    "suggests",
    "explains",
    "changes",
    "describes",
    "needs",
    "shows",
    "follows",
    "reflects",
)
_OBJECTS = (
    "the speed of inference",
    "how much memory is used",
    "a clear and simple result",
    "the quality of the output",
    "many different tasks",
    "the cost of each request",
    "a quiet morning by the sea",
    "the shape of the data",
    "what happens next",
    "the number of tokens",
)
_TAILS = (
    "in most cases",
    "when the input is long",
    "for better or worse",
    "as you might expect",
    "without much effort",
    "at least on a good day",
    "",
    "",
)


def render_prompt(template: str | None, prompt: str, system_prompt: str) -> str:
    """Apply a Cog-style prompt template (``{prompt}``, ``{system_prompt}``)."""
    if not template:
        return prompt
    return template.replace("{system_prompt}", system_prompt).replace("{prompt}", prompt)


def count_tokens(text: str) -> int:
    """A rough token count (words and punctuation), used for metrics."""
    return max(1, len(text.split()) + text.count(",") + text.count("."))


def _sentence(rng: random.Random, first: bool) -> list[str]:
    parts: list[str] = []
    if first and rng.random() < 0.6:
        parts.append(rng.choice(_OPENERS) + ",")
    parts.append(rng.choice(_SUBJECTS))
    parts.append(rng.choice(_VERBS))
    parts.append(rng.choice(_OBJECTS))
    tail = rng.choice(_TAILS)
    if tail:
        parts.append(tail)
    words = " ".join(parts).split(" ")
    words[0] = words[0][:1].upper() + words[0][1:]
    words[-1] += rng.choice((".", ".", ".", "!", "?")) if rng.random() < 0.2 else "."
    return words


def generate_tokens(
    prompt: str,
    *,
    seed: int | None,
    max_tokens: int | None,
    min_tokens: int | None = None,
    stop_sequences: Sequence[str] = (),
    rng: random.Random | None = None,
) -> list[str]:
    """Tokens for ``prompt``: deterministic given a seed, random otherwise."""
    if seed is not None:
        gen = random.Random(f"{seed}\x00{prompt}")
    else:
        gen = rng or random.Random()
    natural = gen.randint(24, 90)
    limit = max_tokens if max_tokens is not None and max_tokens > 0 else natural
    target = min(natural, limit)
    if min_tokens is not None and min_tokens > target:
        target = min(min_tokens, limit)
    target = max(1, target)

    tokens: list[str] = []
    first = True
    bare = True  # no leading space at the very start and after a paragraph break
    sentences = 0
    while len(tokens) < target:
        for word in _sentence(gen, first):
            tokens.append(word if bare else " " + word)
            first = bare = False
        sentences += 1
        if sentences % 3 == 0 and gen.random() < 0.7:
            tokens.append("\n\n")
            bare = True
    tokens = tokens[:limit]  # whole sentences unless max_tokens cuts one short
    if len(tokens) > 1 and tokens[-1] == "\n\n":
        tokens.pop()
    stops = [s for s in stop_sequences if s]
    if stops:
        tokens = _apply_stops(tokens, stops)
    return tokens


def _apply_stops(tokens: list[str], stops: Sequence[str]) -> list[str]:
    """Cut the generation where a stop sequence first completes (the stop itself is dropped).

    Linear in the text: one ``find`` per stop over the joined text, then one pass over the
    tokens to cut at that position (a token straddling the cut keeps its part before it).
    """
    text = "".join(tokens)
    best: tuple[int, int] | None = None  # (where the stop ends, where it starts)
    for stop in stops:
        pos = text.find(stop)
        if pos != -1 and (best is None or pos + len(stop) < best[0]):
            best = (pos + len(stop), pos)
    if best is None:
        return tokens
    cut = best[1]
    kept: list[str] = []
    length = 0
    for token in tokens:
        if length + len(token) > cut:
            if cut > length:
                kept.append(token[: cut - length])
            break
        kept.append(token)
        length += len(token)
    return kept


def parse_stop_sequences(value: object) -> list[str]:
    """Comma separated string (Cog style) or a JSON list."""
    if isinstance(value, str):
        return [s for s in value.split(",") if s]
    if isinstance(value, list):
        return [str(s) for s in value if s]
    return []

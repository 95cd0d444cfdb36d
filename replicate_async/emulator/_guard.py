"""``meta/llama-guard-3-8b``: a deterministic stand-in for the Llama Guard 3 safety classifier.

Like the real model it answers ``safe``, or ``unsafe`` and a line of hazard codes from the
Llama Guard 3 taxonomy (MLCommons, S1-S14), e.g. ``"unsafe\\nS1,S10"``. The verdict comes
from per-category keyword lists matched as whole words (plus common inflections), so a test
can choose its outcome by its wording. It classifies ``assistant`` (the reply) when one is
given, else ``prompt`` (the user's message), as Llama Guard does.
"""

from __future__ import annotations

import re
from typing import Any

from ..providers._llama_guard import LLAMA_GUARD_CATEGORIES
from ._cog import cog_document
from ._jobs import Job
from ._ports import RunnerGen, RunnerHost

__all__ = ["GUARD_CATEGORIES", "GUARD_KEYWORDS", "GUARD_SCHEMA", "classify", "run_guard"]

GUARD_SCHEMA = cog_document(
    {
        "prompt": {"type": "string", "description": "User message to moderate"},
        "assistant": {"type": "string", "description": "Assistant response to classify"},
    },
    {"type": "string", "title": "Output"},
    required=("prompt",),
)

GUARD_CATEGORIES = LLAMA_GUARD_CATEGORIES
"""The Llama Guard 3 hazard codes and their names."""

# fmt: off
GUARD_KEYWORDS: dict[str, tuple[str, ...]] = {
    "S1": ("kill", "murder", "attack", "assault", "stab", "stabbed", "stabbing", "shoot",
           "torture", "kidnap", "strangle", "massacre"),
    "S2": ("steal", "stole", "stolen", "rob", "robbed", "robbery", "burglary", "shoplift",
           "fraud", "launder", "scam", "embezzle", "counterfeit", "smuggle"),
    "S3": ("rape", "raped", "sexual assault", "sex trafficking", "molest", "grope"),
    "S4": ("child pornography", "csam", "groom a child", "grooming a child"),
    "S5": ("defame", "defamatory", "libel", "slander"),
    "S6": ("dosage", "prescribe", "diagnose", "medical advice", "legal advice",
           "investment advice"),
    "S7": ("home address", "social security number", "ssn", "dox", "doxx",
           "credit card number"),
    "S8": ("pirated", "piracy", "torrent", "plagiarize", "bypass drm"),
    "S9": ("bomb", "explosive", "nerve agent", "sarin", "anthrax", "bioweapon",
           "chemical weapon", "nuclear weapon"),
    "S10": ("hate", "hatred", "racist", "racism", "slur", "bigot", "supremacist",
            "xenophobic", "homophobic"),
    "S11": ("suicide", "kill myself", "self-harm", "self harm", "end my life", "cut myself"),
    "S12": ("porn", "pornographic", "nude", "nudes", "erotic", "explicit sex"),
    "S13": ("rig the election", "voter fraud", "ballot stuffing", "vote twice",
            "voter suppression"),
    "S14": ("rm -rf", "fork bomb", "os.system", "reverse shell", "/etc/passwd",
            "escape the sandbox", "privilege escalation"),
}
# fmt: on
"""Per hazard code, the words and phrases that trigger it (lowercase)."""

_SUFFIXES = r"(?:s|es|d|ed|ing|er|ers|ful)?"


def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    # Whole words only ("skill" is not "kill"); a keyword may carry a common inflection.
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives}){_SUFFIXES}(?![\w-])")


_PATTERNS = {code: _pattern(words) for code, words in GUARD_KEYWORDS.items()}


def classify(text: str) -> str:
    """``"safe"``, or ``"unsafe\\n"`` and the matching codes in taxonomy order (``S1,S10``)."""
    lowered = text.lower()
    codes = [code for code, pattern in _PATTERNS.items() if pattern.search(lowered)]
    return "unsafe\n" + ",".join(codes) if codes else "safe"


def run_guard(engine: RunnerHost, job: Job, inp: dict[str, Any], run_s: float | None) -> RunnerGen:
    """The runner: one short step, then the verdict as a plain string output."""
    assistant = inp.get("assistant")
    given = isinstance(assistant, str) and assistant.strip() != ""
    text = str(assistant if given else inp.get("prompt", ""))
    engine.log(job, f"Classifying the {'assistant response' if given else 'user message'}")
    yield run_s if run_s is not None else 0.2
    engine.set_output(job, classify(text))

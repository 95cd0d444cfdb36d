"""The Llama Guard 3 hazard taxonomy, shared by the moderation parser and the emulator's model.

A table only, with no imports: the client (``_provider_prompt``) and the emulator
(``emulator._guard``) both read it without depending on each other.
"""

from __future__ import annotations

__all__ = ["LLAMA_GUARD_CATEGORIES"]

LLAMA_GUARD_CATEGORIES: dict[str, str] = {
    "S1": "Violent Crimes",
    "S2": "Non-Violent Crimes",
    "S3": "Sex-Related Crimes",
    "S4": "Child Sexual Exploitation",
    "S5": "Defamation",
    "S6": "Specialized Advice",
    "S7": "Privacy",
    "S8": "Intellectual Property",
    "S9": "Indiscriminate Weapons",
    "S10": "Hate",
    "S11": "Suicide & Self-Harm",
    "S12": "Sexual Content",
    "S13": "Elections",
    "S14": "Code Interpreter Abuse",
}
"""The Llama Guard 3 hazard codes (MLCommons taxonomy, S1–S14) and their names."""

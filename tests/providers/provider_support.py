"""Helpers shared by the provider tests (imported by name; tests/providers has no package):
the provider docs' YAML examples, the Llama Guard model's reference, and ``Call``.

``meta/llama-guard-3-8b`` is a model of the emulator's catalog: it answers ``safe``, or
``unsafe`` and the Llama Guard 3 hazard codes its keyword lists find (``"attack"`` is S1,
``"steal"`` S2, ``"hate"`` S10), classifying ``assistant`` when given, else ``prompt``.
"""

from __future__ import annotations

from pathlib import Path

from support import Twin

FIXTURES = Path(__file__).parent / "fixtures"

GUARD = "meta/llama-guard-3-8b"


class Call(Twin):
    """Awaits a coroutine method, or calls its blocking twin (``<name>_sync``) in a thread,
    the way a script would; both bounded."""

    @staticmethod
    def blocking_name(name: str) -> str:
        """The provider's blocking twins carry a ``_sync`` suffix (``run`` → ``run_sync``)."""
        return name + "_sync"

"""Validate prediction inputs against a version's Cog ``Input`` schema.

The validator lives in ``replicate_async._core.input_schema``: the client checks inputs with
it before sending them (``use()``, ``run(validate=True)``), and the emulator answers with it,
so that a local refusal and the emulator's 422 say the same thing. Re-exported here for the
emulator's modules.
"""

from __future__ import annotations

from .._core.input_schema import FieldSpec, InputValidator, json_type_name

__all__ = ["FieldSpec", "InputValidator", "json_type_name"]

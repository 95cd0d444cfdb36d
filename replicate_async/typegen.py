"""Generate Python types (TypedDicts and typed wrappers) from models' schemas.

``replicate-async types MODEL... -o models.py`` is the command line for it; see
``docs/typed-models.md``. :func:`generate_module` turns :class:`ModelTypes` (a model, a version
id and its ``openapi_schema``) into the source of a module that passes ``mypy --strict``.
"""

from __future__ import annotations

from ._core.typegen import ModelTypes, generate_module, output_type, python_name

__all__ = ["ModelTypes", "generate_module", "output_type", "python_name"]

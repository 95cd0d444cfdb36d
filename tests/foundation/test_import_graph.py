"""scripts/import_graph.py: it finds cycles (TYPE_CHECKING and function-local imports count),
and the package has none."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "import_graph.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_graph", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("import_graph", module)
    spec.loader.exec_module(module)
    return module


def test_a_cycle_is_found_whatever_its_length() -> None:
    graph = _script()
    assert graph.find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert graph.find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    cycle = graph.find_cycle({"a": {"b"}, "b": {"c"}, "c": {"d"}, "d": {"b"}})
    assert cycle is not None and cycle[0] == cycle[-1] and set(cycle) == {"b", "c", "d"}


def test_type_checking_and_local_imports_are_edges(tmp_path: Path) -> None:
    graph = _script()
    package = tmp_path / "replicate_async"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .sub import b\n"
    )
    (package / "sub" / "b.py").write_text("def f():\n    from .. import a\n")
    found = graph.edges(
        {
            graph.PACKAGE + "." + name: path
            for name, path in (("a", package / "a.py"), ("sub.b", package / "sub" / "b.py"))
        }
        | {
            graph.PACKAGE: package / "__init__.py",
            graph.PACKAGE + ".sub": package / "sub" / "__init__.py",
        }
    )
    assert "replicate_async.sub.b" in found["replicate_async.a"]
    assert "replicate_async.a" in found["replicate_async.sub.b"]
    assert graph.find_cycle(found) is not None


def test_the_package_has_no_import_cycle() -> None:
    graph = _script()
    assert graph.find_cycle(graph.edges(graph.modules())) is None

"""Print the package's internal import graph and fail if it has a cycle.

Every import counts: module level, inside functions, and under ``TYPE_CHECKING``. Edges are
between modules of ``replicate_async`` (``from .x import y`` where ``y`` is a submodule counts as
an edge to that submodule). Usage: ``python scripts/import_graph.py [--quiet]``; exit 1 on a cycle.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = "replicate_async"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def resolve(current: str, is_package: bool, level: int, target: str | None) -> str:
    if level == 0:
        return target or ""
    base = current.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def edges(known: dict[str, Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                mod = resolve(name, is_package, node.level, node.module)
                # ``from pkg import sub`` imports that submodule; ``from pkg import x``, the package
                subs = [f"{mod}.{alias.name}" for alias in node.names]
                targets = [s for s in subs if s in known]
                if len(targets) < len(subs):
                    targets.append(mod)
            for target in targets:
                # the longest known module that the target names
                while target and target not in known:
                    target = target.rpartition(".")[0]
                if target and target != name and target.startswith(PACKAGE):
                    graph[name].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one cycle (as a list of modules) or None: iterative DFS with colours."""
    colour = dict.fromkeys(graph, 0)  # 0 new, 1 on the stack, 2 done
    for start in graph:
        if colour[start]:
            continue
        stack: list[tuple[str, list[str]]] = [(start, sorted(graph[start]))]
        path = [start]
        colour[start] = 1
        while stack:
            node, todo = stack[-1]
            if not todo:
                colour[node] = 2
                stack.pop()
                path.pop()
                continue
            nxt = todo.pop()
            if colour[nxt] == 1:
                return [*path[path.index(nxt) :], nxt]
            if colour[nxt] == 0:
                colour[nxt] = 1
                path.append(nxt)
                stack.append((nxt, sorted(graph[nxt])))
    return None


def main(argv: list[str]) -> int:
    graph = edges(modules())
    if "--quiet" not in argv:
        for name in sorted(graph):
            deps = ", ".join(d.removeprefix(PACKAGE + ".") for d in sorted(graph[name]))
            print(f"{name.removeprefix(PACKAGE + '.') or PACKAGE}: {deps}")
    cycle = find_cycle(graph)
    if cycle:
        print("import cycle: " + " -> ".join(cycle), file=sys.stderr)
        return 1
    print(f"{len(graph)} modules, {sum(map(len, graph.values()))} imports, no cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

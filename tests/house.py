"""The house's figures, read from the source with `ast`: rooms (featbench's sub-packages and top-level
modules), arrows (which room imports which), circles (rooms or modules that import each other round),
modules over 400 lines and functions over 60. tests/test_architecture.py holds the rules; run this file
to print the figures.

Example:
    python tests/house.py
"""
from __future__ import annotations

import ast
import itertools
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "featbench"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name ('featbench.store.writer')."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imported(name: str, path: Path, known: set[str], top_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            names = [f"{base}.{a.name}" for a in node.names]
            # `from pkg import submodule` runs pkg/__init__ too, but is an arrow to the submodule only
            targets = names + ([base] if any(n not in known for n in names) else [])
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def import_graph(top_level_only: bool = False) -> dict[str, set[str]]:
    """Module -> the package modules it imports (anywhere in it, or at module level only)."""
    found = modules()
    return {name: _imported(name, path, set(found), top_level_only) for name, path in found.items()}


def room(module: str) -> str:
    """'featbench.store.writer' -> 'store'; 'featbench.results' -> 'results'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "featbench"


def arrows() -> set[tuple[str, str]]:
    """(from room, to room) for every import between two rooms."""
    return {(room(a), room(b)) for a, targets in import_graph().items() for b in targets if room(a) != room(b)
            and room(b) != "featbench"}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan), each sorted."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], itertools.count()

    def visit(node):
        index[node] = low[node] = next(counter)
        stack.append(node)
        on.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return out


def room_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for a, b in arrows():
        graph.setdefault(a, set()).add(b)
    return graph


def oversized_modules() -> dict[str, int]:
    return {name: n for name, path in modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}


def long_functions() -> dict[str, int]:
    out = {}
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                if (length := node.end_lineno - start + 1) > MAX_FUNCTION_LINES:
                    out[f"{name}.{node.name}"] = length
    return out


if __name__ == "__main__":
    rooms = sorted({room(m) for m in modules()})
    print(f"rooms: {len(rooms)} ({', '.join(rooms)})")
    print(f"arrows between rooms: {len(arrows())}")
    print(f"circles between rooms: {circles(room_graph())}")
    print(f"module circles (any import): {circles(import_graph())}")
    print(f"module circles (module-level imports): {circles(import_graph(top_level_only=True))}")
    print(f"modules over {MAX_MODULE_LINES} lines: {oversized_modules()}")
    print(f"functions over {MAX_FUNCTION_LINES} lines: {long_functions()}")

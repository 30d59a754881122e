"""platform_core's imports go one way: the layers of pyproject.toml, no loops.

import-linter checks the layer contracts (imports inside functions count);
the walk below checks that no module of platform_core reaches itself again
through any chain of imports, at module level or inside functions.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIPPED = ("migrations", "service_templates")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Return the modules of ``root/platform_core`` by dotted name."""
    return {
        module_name(path, root): path
        for path in (root / "platform_core").rglob("*.py")
        if not any(part in SKIPPED for part in path.relative_to(root).parts)
    }


def imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """Return the dotted names an import statement names (absolute)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        parts = module.split(".")[: None if is_package else -1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join([*parts, *([node.module] if node.module else [])])
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def import_graph(known: dict[str, Path]) -> dict[str, set[str]]:
    """Return module -> platform_core modules it imports, anywhere in it."""

    def owner(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in known.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            for name in imported(node, module, path.name == "__init__.py"):
                found = owner(name) if name.startswith("platform_core") else None
                if found and found != module:
                    targets.add(found)
        graph[module] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_loop_in_platform_core():
    assert cycles(import_graph(modules())) == []


def test_a_loop_through_an_import_inside_a_function_is_found(tmp_path):
    package = tmp_path / "platform_core"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from platform_core import b\n")
    (package / "b.py").write_text("from .a import f\n")
    (package / "c.py").write_text("import platform_core.a\n")
    graph = import_graph(modules(tmp_path))
    assert cycles(graph) == [["platform_core.a", "platform_core.b"]]


def test_layers_hold():
    """``lint-imports`` keeps every contract of pyproject.toml."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr

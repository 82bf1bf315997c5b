"""The layering rule of the architecture: an import only goes downward.

Every module under app/mapiprobe is parsed (not imported) and each import is checked against the table
below; only gui/ may import Qt, and protocol/ imports no I/O library at all. The two front ends, cli/ and
gui/, never import each other. Inside the package no import cycle is allowed, not even one through an
import under ``if TYPE_CHECKING:`` or inside a function: every import statement counts.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "app" / "mapiprobe"

# For each layer, the mapiprobe layers it must never import.
FORBIDDEN_INTERNAL = {
    "protocol": {"transport", "session", "diagnostics", "gui", "simulator", "cli"},
    "transport": {"session", "diagnostics", "gui", "simulator", "cli"},
    "session": {"diagnostics", "gui", "simulator", "cli"},
    "diagnostics": {"gui", "simulator", "cli"},
    "simulator": {"session", "diagnostics", "gui", "cli"},
    "cli": {"gui"},
    "gui": {"cli"},
}
# Third-party packages a layer must never import.
FORBIDDEN_EXTERNAL = {
    "protocol": {"httpx", "httpcore", "PySide6", "shiboken6", "keyring", "spnego", "socket", "ssl", "dns"},
}
QT = {"PySide6", "shiboken6", "PyQt5", "PyQt6"}


def _layer_of(path: Path) -> str:
    rel = path.relative_to(PKG)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    rel_pkg = path.relative_to(PKG.parent).with_suffix("").parts[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(rel_pkg[: len(rel_pkg) - (node.level - 1)])
                mod = ".".join([*base, node.module] if node.module else base)
                if not node.module:
                    found += [(node.lineno, f"{mod}.{a.name}") for a in node.names]
                    continue
            else:
                mod = node.module or ""
            found.append((node.lineno, mod))
    return found


def _modules() -> list[Path]:
    return sorted(p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts)


def test_package_has_every_layer() -> None:
    for layer in ("protocol", "transport", "session", "diagnostics", "gui", "simulator"):
        assert (PKG / layer / "__init__.py").is_file(), layer
    assert (PKG / "cli" / "__init__.py").is_file()


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PKG)))
def test_imports_only_go_downward(path: Path) -> None:
    layer = _layer_of(path)
    problems = []
    for lineno, mod in _imports(path):
        top = mod.split(".")[0]
        if top == "mapiprobe":
            target = mod.split(".")[1] if "." in mod else ""
            if target in FORBIDDEN_INTERNAL.get(layer, set()):
                problems.append(f"line {lineno}: {layer}/ imports mapiprobe.{target}")
        elif top in QT and layer != "gui":
            problems.append(f"line {lineno}: only gui/ may import Qt ({mod})")
        elif top in FORBIDDEN_EXTERNAL.get(layer, set()):
            problems.append(f"line {lineno}: {layer}/ must not import {mod}")
    assert not problems, "\n".join(problems)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """Module -> the modules of the package it imports (``from pkg import mod`` names the submodule)."""
    paths = {_module_name(p): p for p in _modules()}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        targets: set[str] = set()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and not node.level and node.module:
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    if sub in paths:
                        targets.add(sub)
        for _, mod in _imports(path):
            parts = mod.split(".")
            while parts and ".".join(parts) not in paths:
                parts.pop()
            if parts:
                targets.add(".".join(parts))
        targets.discard(name)
        graph[name] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles() -> None:
    graph = _import_graph()
    cycles = _cycles(graph)
    report = [
        " <-> ".join(c) + ": " + "; ".join(f"{a} imports {b}" for a in c for b in sorted(graph[a]) if b in c)
        for c in cycles
    ]
    assert not cycles, "import cycles inside mapiprobe:\n" + "\n".join(report)


def test_cycle_checker_is_live() -> None:
    """The cycle rule sees imports under TYPE_CHECKING, and it reports a cycle."""
    graph = _import_graph()
    assert "mapiprobe.simulator.host" in graph["mapiprobe.simulator.auth"]  # a TYPE_CHECKING-only import
    assert "mapiprobe.cli.options" in graph["mapiprobe.cli.main"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_checker_catches_a_wrong_import(tmp_path: Path) -> None:
    """The rule above is live: a protocol module importing httpx is reported."""
    fake = PKG / "protocol" / "_layer_probe_tmp.py"
    fake.write_text("import httpx\nfrom ..session import x\n", encoding="utf-8")
    try:
        found = {m for _, m in _imports(fake)}
        assert "httpx" in found
        assert "mapiprobe.session" in found
    finally:
        fake.unlink()

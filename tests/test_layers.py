"""The package's import rules, read from the source (imports inside functions count as imports).

Layers, lowest first: core (the top-level modules: readings, dictionaries, candidates, bundle, data,
...) <- runtime <- {ime, service} (input-method word lists, the JSON-RPC service: users of the
runtime, and bulk conversion) <- modeling (the PyTorch model and its checkpoint format) <-
{evaluation, exporters, training} <- the command modules (``*/commands.py``, ``bulk/command.py``:
click commands, which may use one another) <- the CLI and the package's lazy front door. A module
imports only from lower layers and its own package; evaluation, exporters and training never import
one another. No import cycles.
"""
from __future__ import annotations

import ast
import pathlib
import re
import sys
from typing import Dict, List, Set

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = "pinyin_edge"

CORE, RUNTIME, SERVICES, MODELING, TOP, COMMANDS, APP = range(7)
LAYERS = {"runtime": RUNTIME, "ime": SERVICES, "service": SERVICES, "bulk": SERVICES, "modeling": MODELING,
          "evaluation": TOP, "exporters": TOP, "training": TOP,
          "cli": APP, "__main__": APP, "": APP}  # "": pinyin_edge/__init__.py; any other name is core
HEAVY = ("torch", "transformers", "onnx", "onnxscript")  # never imported by core or runtime


def module_names() -> Dict[str, pathlib.Path]:
    out = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = module_names()


def imports_of(name: str, path: pathlib.Path) -> Set[str]:
    """Every module ``name`` imports, anywhere in its file, relative imports resolved; for
    ``from X import y`` the submodule X.y when there is one."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in MODULES else target)
    return found


GRAPH = {name: imports_of(name, path) for name, path in MODULES.items()}


def internal(name: str) -> Set[str]:
    return {t for t in GRAPH[name] if t in MODULES and t != name}


def layer_of(name: str) -> tuple:
    part = name.split(".")[1] if "." in name else ""
    if name.rsplit(".", 1)[-1] in ("commands", "command", "web_command"):
        return COMMANDS, part
    return LAYERS.get(part, CORE), part


def test_every_module_is_read():
    assert {"pinyin_edge.readings", "pinyin_edge.runtime.g2p", "pinyin_edge.cli"} <= set(MODULES)
    assert "pinyin_edge.readings" in GRAPH["pinyin_edge.runtime.g2p"]  # relative imports resolved


def test_layers():
    broken = []
    for name in sorted(MODULES):
        layer, part = layer_of(name)
        for target in sorted(internal(name)):
            to_layer, to_part = layer_of(target)
            if to_part == part or to_layer < layer or layer == to_layer and layer in (CORE, COMMANDS):
                continue
            broken.append(f"{name} -> {target}")
    assert not broken, "imports against the layers:\n" + "\n".join(broken)


def test_core_runtime_and_services_never_import_the_training_stack():
    broken = [f"{name} -> {target}" for name in sorted(MODULES) if layer_of(name)[0] <= SERVICES
              for target in sorted(GRAPH[name]) if target.split(".")[0] in HEAVY]
    assert not broken, "\n".join(broken)


def cycles() -> List[List[str]]:
    """Strongly connected components of more than one module (Tarjan), or a module importing itself."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    out: List[List[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in internal(node):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(MODULES)))
    for name in sorted(MODULES):
        if name not in index:
            visit(name)
    return out


def test_no_import_cycles():
    found = cycles()
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def closure(start: str) -> Set[str]:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(internal(name))
    return seen


def test_the_export_extra_is_complete_alone():
    """What exporting imports (the exporters' modules and everything they import) is declared by
    the base dependencies and the ``export`` extra alone."""
    tomllib = pytest.importorskip("tomllib")
    stdlib = getattr(sys, "stdlib_module_names", None)
    if stdlib is None:
        pytest.skip("needs sys.stdlib_module_names (Python 3.10+)")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {re.match(r"[A-Za-z0-9_.-]+", requirement).group().lower().replace("-", "_")
                for requirement in project["dependencies"] + project["optional-dependencies"]["export"]}
    modules = set().union(*(closure(m) for m in MODULES if m.startswith(f"{PACKAGE}.exporters")))
    needed = {t.split(".")[0] for m in modules for t in GRAPH[m]} - set(stdlib) - {PACKAGE}
    assert not [m for m in modules if m.startswith(f"{PACKAGE}.training")]
    missing = sorted(n for n in needed if n.lower() not in declared)  # import name = distribution name here
    assert not missing, f"exporting imports {missing}, not declared in the base dependencies or [export]"

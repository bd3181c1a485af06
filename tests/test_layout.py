"""The house's rules, checked from the source: layers import downwards only, no import cycles,
no private names taken from another module, no file over 320 lines (docs/development.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# A subpackage may import its own layer and the layers below it (a lower number); layers of
# one number do not import each other. The data package sits below all of dimo.
LAYERS = {"datasets_meta": 0, "dimo.infra": 1, "dimo.configs": 1, "dimo.pretrained": 1, "dimo.space": 2, "dimo.inner": 3,
          "dimo.meta": 4, "dimo.evaluation": 4, "dimo.search": 5, "dimo.final": 5, "dimo.studies": 6, "dimo.cli": 7, "dimo": 8}
PACKAGES = ("dimo", "datasets_meta")


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) for every import of a first-party module, lazy ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PACKAGES:
            found.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names if a.name.split(".")[0] in PACKAGES]
    return found


def _layer(module: str) -> str:
    return max((name for name in LAYERS if module == name or module.startswith(name + ".")), key=len)


MODULES = _modules()


def _edges(module: str) -> set[str]:
    """The first-party modules ``module`` imports (``from pkg import mod`` counts as ``pkg.mod``)."""
    out = set()
    for target, names in _imports(MODULES[module]):
        subs = {f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES}
        out |= subs or ({target} if target in MODULES else set())
    return out - {module}


def test_layers_import_downwards_only():
    wrong = []
    for module in MODULES:
        if module == "dimo":  # the public API re-exports the layers
            continue
        mine = _layer(module)
        for target in _edges(module):
            theirs = _layer(target)
            if theirs != mine and LAYERS[theirs] >= LAYERS[mine]:
                wrong.append(f"{module} -> {target}")
    assert not wrong, "imports that run up or across the layers: " + ", ".join(sorted(wrong))


def test_no_import_cycles():
    graph = {m: _edges(m) for m in MODULES}
    state, cycles = {}, []

    def visit(node, stack):
        state[node] = "open"
        for nxt in graph[node]:
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles: " + "; ".join(cycles)


def test_no_private_names_across_modules():
    private = [f"{module} takes {target}.{name}" for module, path in MODULES.items()
               for target, names in _imports(path) for name in names if name.startswith("_")]
    assert not private, ", ".join(private)


@pytest.mark.parametrize("folder", ["dimo", "datasets_meta", "research", "benchmarks", "tests"])
def test_every_file_is_under_320_lines(folder):
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / folder).rglob("*.py")
            if (n := len(p.read_text().splitlines())) >= 320}
    assert not long, long

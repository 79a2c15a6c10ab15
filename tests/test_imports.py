"""Imports flow one way through the package's layers, with no cycles.

Every module under src/chainrule is parsed (never imported) and each import
statement, function-level ones included, becomes an edge of the module graph.
Then: no module imports a module of a higher layer; ``numerical`` uses only
NumPy and the standard library; ``symbolic`` uses only core, ops and backend;
core and ops reach NumPy only through ``chainrule.backend``; and the graph has
no cycle. Imports under ``if TYPE_CHECKING:`` never run and are skipped.

A new module must be placed in ``LAYERS`` by whoever adds it.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "chainrule"

# Lower numbers may be imported by higher ones, never the other way round;
# modules of one layer may import each other (without cycles).
LAYERS: dict[str, int] = {
    "chainrule.backend": 0,  # the array namespace
    "chainrule.numerical": 0,  # the independent oracle: NumPy only
    "chainrule.pytree": 0,  # nested containers; standard library only
    "chainrule.memory": 0,  # opt-in malloc settings; standard library only
    "chainrule.core": 1,  # primitives, tracing, graph nodes, switches
    "chainrule.ops": 2,  # the primitive table
    "chainrule.subgradients": 2,
    "chainrule.linalg": 2,  # the public numpy.linalg twin over ops
    "chainrule.tensor_numpy": 3,  # NumPy protocols shared by every traced value
    "chainrule.forward": 4,
    "chainrule.transforms.batching": 4,  # the batching table: below tensors, like forward
    "chainrule.reverse": 4,
    "chainrule.symbolic": 4,  # restricted further below
    "chainrule.tensor": 5,
    "chainrule.creation": 5,
    "chainrule.random": 5,
    "chainrule.transforms": 6,  # one module per transform (grad, jvp, jacobians, vmap,
    # custom, taylor, checkpoint); the root re-exports their entry points
    "chainrule.program": 6,  # tracing into programs, passes, printing, jit
    "chainrule.gradcheck": 7,
    "chainrule.testing": 7,
    "chainrule.nn": 8,
    "chainrule.optim": 8,
    "chainrule.data": 8,
    "chainrule.serialization": 8,  # model files
    "chainrule.distributed": 8,  # data-parallel training over MPI (mpi4py, imported lazily)
    "chainrule.distributed.fit": 10,  # the loop of ``chainrule train --distributed``
    "chainrule.explainer": 9,
    "chainrule.explain": 9,
    "chainrule.cli": 10,
    "chainrule.cli_demo": 10,
    "chainrule.cli_explain": 10,
    "chainrule.cli_train": 10,
    "chainrule.cli_costs": 10,
    "chainrule.__main__": 10,
    "chainrule": 10,  # the package's public namespace (exactly this module)
}

# Modules under these prefixes may import only these chainrule modules.
RESTRICTED: dict[str, tuple[str, ...]] = {
    "chainrule.numerical": ("chainrule.numerical",),
    "chainrule.symbolic": ("chainrule.symbolic", "chainrule.core", "chainrule.ops",
                           "chainrule.backend"),
}

# Third-party packages each part may import directly (the standard library is free).
THIRD_PARTY: dict[str, tuple[str, ...]] = {
    "chainrule.numerical": ("numpy",),
    "chainrule.core": (),
    "chainrule.ops": (),  # rules reach NumPy through chainrule.backend
}


# ----- reading the package -----

def discover(src: Path = SRC) -> dict[str, tuple[Path, bool]]:
    """Module name -> (file, is_package) for every module of the package."""
    modules = {}
    for path in sorted((src / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        modules[".".join(parts)] = (path, is_package)
    return modules


def _import_nodes(tree: ast.AST):
    """Import statements anywhere in the tree, except under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def imports_of(name: str, source: str, is_package: bool,
               modules: dict) -> tuple[set[str], set[str]]:
    """(chainrule modules, other top-level packages) imported by module ``name``."""
    internal: set[str] = set()
    external: set[str] = set()
    for node in _import_nodes(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:  # relative: resolve against this module's package
                package = name.split(".") if is_package else name.split(".")[:-1]
                base = package[:len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # ``from pkg import sub`` imports the submodule when there is one
            targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in modules else module
                       for a in node.names]
        for target in targets:
            root = target.split(".")[0]
            if root == PACKAGE:
                if target in modules:  # a missing module is an ImportError, not a layer issue
                    internal.add(target)
            elif root != "__future__" and root not in sys.stdlib_module_names:
                external.add(root)
    internal.discard(name)
    return internal, external


def build_graph(modules: dict) -> dict[str, tuple[set[str], set[str]]]:
    return {name: imports_of(name, path.read_text(), is_package, modules)
            for name, (path, is_package) in modules.items()}


def _owner(name: str, table: dict):
    """The most specific key of ``table`` that is ``name`` or a package containing it."""
    best = None
    for key in table:
        if (name == key or (key != PACKAGE and name.startswith(key + "."))) and (
                best is None or len(key) > len(best)):
            best = key
    return best


# ----- the rules -----

def unclassified(graph: dict) -> list[str]:
    return sorted(name for name in graph if _owner(name, LAYERS) is None)


def upward_imports(graph: dict, layers: dict = LAYERS) -> list[str]:
    found = []
    for name, (internal, _) in sorted(graph.items()):
        here = layers[_owner(name, layers)]
        for target in sorted(internal):
            there = layers[_owner(target, layers)]
            if there > here:
                found.append(f"{name} (layer {here}) imports {target} (layer {there})")
    return found


def restricted_imports(graph: dict) -> list[str]:
    found = []
    for name, (internal, external) in sorted(graph.items()):
        allowed = RESTRICTED.get(_owner(name, RESTRICTED))
        if allowed is not None:
            found += [f"{name} imports {t}; it may import only {', '.join(allowed)}"
                      for t in sorted(internal) if _owner(t, dict.fromkeys(allowed)) is None]
        packages = THIRD_PARTY.get(_owner(name, THIRD_PARTY))
        if packages is not None:
            found += [f"{name} imports {p}; it may import only the standard library"
                      + (f" and {', '.join(packages)}" if packages else "")
                      for p in sorted(external - set(packages))]
    return found


def cycles(graph: dict) -> list[tuple[list[str], list[str]]]:
    """Each group of modules that import each other in a circle, with one such
    circle as a path ``a -> ... -> a``."""
    edges = {name: sorted(internal) for name, (internal, _) in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    for start in sorted(edges):  # Tarjan's algorithm, iteratively
        if start in index:
            continue
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(edges[nxt])))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return [(group, _cycle_path(group, edges)) for group in groups]


def _cycle_path(group: list[str], edges: dict) -> list[str]:
    """A shortest cycle through the first module of a strongly connected group."""
    members = set(group)
    start = group[0]
    parents: dict[str, str | None] = {start: None}
    frontier = [start]
    while frontier:  # breadth-first inside the group until an edge leads back to start
        following = []
        for node in frontier:
            for nxt in edges[node]:
                if nxt == start:
                    path = [node]  # walk back: node, its parent, ..., start
                    while parents[path[-1]] is not None:
                        path.append(parents[path[-1]])
                    return [*reversed(path), start]
                if nxt in members and nxt not in parents:
                    parents[nxt] = node
                    following.append(nxt)
        frontier = following
    return group  # pragma: no cover - a strongly connected group always has a cycle


# ----- the tests on the real package -----

GRAPH = build_graph(discover())


def test_the_package_is_found():
    assert {"chainrule", "chainrule.core.primitive", "chainrule.tensor",
            "chainrule.reverse", "chainrule.transforms"} <= set(GRAPH)
    assert "chainrule.core.trace" in GRAPH["chainrule.core.primitive"][0]


def test_every_module_has_a_layer():
    missing = unclassified(GRAPH)
    assert not missing, (
        f"modules without a layer: {missing}; add each to LAYERS in tests/test_imports.py "
        f"(the layer of the lowest modules it imports or higher, below those importing it)")


def test_no_module_imports_a_higher_layer():
    if unclassified(GRAPH):
        pytest.skip("test_every_module_has_a_layer reports the unclassified modules")
    found = upward_imports(GRAPH)
    assert not found, "upward imports:\n  " + "\n  ".join(found)


def test_restricted_parts_import_only_what_they_may():
    found = restricted_imports(GRAPH)
    assert not found, "\n  ".join(["imports outside what is allowed:", *found])


def test_no_import_cycles():
    found = cycles(GRAPH)
    assert not found, "import cycles (function-level imports included):\n  " + "\n  ".join(
        f"{len(group)} modules {group}, e.g. {' -> '.join(path)}" for group, path in found)


# ----- the checker itself catches what it should -----

def _fake(edges: dict[str, set[str]], external: dict | None = None) -> dict:
    return {name: (set(targets), set((external or {}).get(name, ()))) for name, targets in
            edges.items()}


def test_checker_finds_an_upward_import_and_an_unclassified_module():
    graph = _fake({"chainrule.core.trace": {"chainrule.tensor"}, "chainrule.tensor": set(),
                   "chainrule.mystery": set()})
    assert unclassified(graph) == ["chainrule.mystery"]
    del graph["chainrule.mystery"]
    assert upward_imports(graph) == [
        "chainrule.core.trace (layer 1) imports chainrule.tensor (layer 5)"]


def test_checker_finds_cycles_including_long_ones():
    graph = _fake({"chainrule.a": {"chainrule.b"}, "chainrule.b": {"chainrule.c"},
                   "chainrule.c": {"chainrule.a"}, "chainrule.d": {"chainrule.a"},
                   "chainrule.e": {"chainrule.f"}, "chainrule.f": {"chainrule.e"}})
    assert [path for _, path in cycles(graph)] == [
        ["chainrule.a", "chainrule.b", "chainrule.c", "chainrule.a"],
        ["chainrule.e", "chainrule.f", "chainrule.e"]]
    assert cycles(graph)[0][0] == ["chainrule.a", "chainrule.b", "chainrule.c"]
    assert cycles(_fake({"chainrule.a": {"chainrule.b"}, "chainrule.b": set()})) == []


def test_checker_finds_restricted_imports():
    graph = _fake({"chainrule.numerical.x": {"chainrule.backend"},
                   "chainrule.symbolic.y": {"chainrule.tensor", "chainrule.ops.shape"},
                   "chainrule.ops.z": set()},
                  external={"chainrule.ops.z": {"numpy"}, "chainrule.numerical.x": {"numpy"}})
    found = restricted_imports(graph)
    assert len(found) == 3
    assert found[0].startswith("chainrule.numerical.x imports chainrule.backend")
    assert found[1].startswith("chainrule.ops.z imports numpy")
    assert found[2].startswith("chainrule.symbolic.y imports chainrule.tensor")


def test_reader_resolves_relative_function_level_and_type_checking_imports():
    modules = dict.fromkeys(["chainrule", "chainrule.core", "chainrule.core.trace",
                             "chainrule.core.graph", "chainrule.tensor"], (None, False))
    source = (
        "from typing import TYPE_CHECKING\n"
        "from . import graph\n"
        "import numpy as np\n"
        "if TYPE_CHECKING:\n"
        "    from chainrule.tensor import Tensor\n"
        "def f():\n"
        "    import chainrule\n"
        "    from chainrule.core import trace\n"
        "    from chainrule.gone import x\n")
    internal, external = imports_of("chainrule.core.primitive", source, False, modules)
    assert internal == {"chainrule.core.graph", "chainrule", "chainrule.core.trace"}
    assert external == {"numpy"}

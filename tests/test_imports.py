"""The import floors (pyproject.toml's import-linter contracts, docs/architecture.md):
every import counts, function-local and TYPE_CHECKING ones included.

Replaces checks of ``sys.modules`` after importing a package, which saw only the imports
that one run happened to execute.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator

import grimp
import pytest

from tests.shared_data import REPO

FITTING_EXTERNALS = {"numpy", "scipy"}
"""What ``flopwise.fitting`` may import besides the standard library."""


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("flopwise", include_external_packages=True, cache_dir=None)


def test_import_contracts_are_kept() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BROKEN" not in done.stdout and re.search(
        r"Contracts: [4-9] kept, 0 broken\.", done.stdout
    )


def _strongly_connected(nodes: set[str], edges: dict[str, set[str]]) -> Iterator[list[str]]:
    """Tarjan's components, iteratively (no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = 0
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                yield component


def test_no_module_imports_itself_back(graph: grimp.ImportGraph) -> None:
    # acyclic_siblings compares siblings; this also catches a package's __init__ and one
    # of its own modules importing each other
    modules = {m for m in graph.modules if m.startswith("flopwise")}
    edges = {m: graph.find_modules_directly_imported_by(m) & modules for m in modules}
    cycles = [sorted(c) for c in _strongly_connected(modules, edges) if len(c) > 1]
    assert cycles == []


def test_fitting_imports_numpy_and_scipy_only(graph: grimp.ImportGraph) -> None:
    stdlib = set(sys.stdlib_module_names)
    external = set()
    for module in graph.find_descendants("flopwise.fitting") | {"flopwise.fitting"}:
        for imported in graph.find_modules_directly_imported_by(module):
            top = imported.split(".")[0]
            if top != "flopwise" and top not in stdlib:
                external.add(top)
    assert external <= FITTING_EXTERNALS, external - FITTING_EXTERNALS


def test_a_contract_breach_is_caught(graph: grimp.ImportGraph) -> None:
    # the contracts see function-local imports: one from a form to the fit engine is a cycle
    chain = graph.find_shortest_chain("flopwise.fitting.fit.front", "flopwise.fitting.forms.base")
    assert chain is not None  # the engine stands on the forms
    assert graph.find_shortest_chain("flopwise.fitting.forms.base", "flopwise.fitting.fit") is None

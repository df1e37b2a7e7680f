"""Every docstring example in the packages runs (``doctest``), so a worked number quoted in a
docstring cannot drift from the code.

The examples are found when the module is collected: one test per docstring that has at
least one example, so every collected test runs something. A module without examples
collects nothing; a floor on the number of modules with examples keeps the discovery
honest (a walk that silently imported nothing would otherwise pass with zero tests).
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

PACKAGES = ("flopwise.fitting", "flopwise.protocol", "flopwise.service", "flopwise.trainer")
MIN_MODULES_WITH_EXAMPLES = 10
"""Modules holding examples when this floor was set: 12 (10 of them in fitting)."""
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _modules() -> list[str]:
    """Every module of the packages, less migrations and ``__main__`` (importing either
    would act: run Alembic's environment, start a command line)."""
    names = []
    for package in PACKAGES:
        root = importlib.import_module(package)
        names.append(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            if ".migrations." not in info.name and not info.name.endswith(".__main__"):
                names.append(info.name)
    return names


def _docstrings_with_examples() -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder(exclude_empty=True)
    found = []
    for name in _modules():
        found.extend(t for t in finder.find(importlib.import_module(name), name) if t.examples)
    return sorted(found, key=lambda t: t.name)


DOCTESTS = _docstrings_with_examples()
MODULES_WITH_EXAMPLES = sorted({str(t.globs["__name__"]) for t in DOCTESTS})


def test_enough_modules_have_examples() -> None:
    assert len(MODULES_WITH_EXAMPLES) >= MIN_MODULES_WITH_EXAMPLES, MODULES_WITH_EXAMPLES


@pytest.mark.parametrize("example", DOCTESTS, ids=[t.name for t in DOCTESTS])
def test_docstring_examples(example: doctest.DocTest) -> None:
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=OPTIONS, verbose=False)
    result = runner.run(example, out=report.append)
    assert result.attempted >= 1
    assert result.failed == 0, "".join(report)

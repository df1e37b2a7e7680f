"""ruff and mypy run as part of the tests."""

from __future__ import annotations

import subprocess
import sys

from tests.shared_data import REPO


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, check=False
    )


def test_ruff_lint() -> None:
    result = _run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = _run("ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy() -> None:
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_fitting_imports_only_numpy_and_scipy() -> None:
    code = (
        "import sys, flopwise.fitting, flopwise.fitting.allocation, flopwise.fitting.catalogue, flopwise.fitting.fit\n"
        "bad = [m for m in ('torch', 'flopwise.service', 'flopwise.trainer', 'fastapi', 'sqlalchemy', 'matplotlib') if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_trainer_never_imports_service() -> None:
    code = (
        "import sys, flopwise.trainer.cli, flopwise.trainer.sweep, flopwise.trainer.train\n"
        "print(','.join(m for m in ('flopwise.service', 'fastapi', 'sqlalchemy') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_service_never_imports_trainer_or_torch() -> None:
    code = (
        "import sys, flopwise.service.cli\n"
        "import importlib.util\n"
        "importlib.import_module('flopwise.service.main')\n"
        "print(','.join(m for m in ('torch', 'flopwise.trainer') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""

"""The package works from any directory, as installed in the image, not only from the checkout.

In the checkout the top-level folders ``service`` and ``trainer`` are importable from the
working directory; installed, only ``flopwise.*`` exists. Both tests once failed in the
container (migrations looked up as ``service``, the trainer as ``trainer``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def run_elsewhere(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )


def test_migrations_found_outside_the_checkout(tmp_path: Path) -> None:
    code = (
        "import sys; from flopwise.service.store.db import open_database; "
        "open_database('sqlite:///' + sys.argv[1]).dispose()"
    )
    done = run_elsewhere(tmp_path, "-c", code, str(tmp_path / "flopwise.db"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "flopwise.db").stat().st_size > 0


def test_the_trainer_found_outside_the_checkout(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    done = run_elsewhere(tmp_path, "-m", "flopwise.service", "sweep", "--help")
    assert done.returncode == 0, done.stderr
    assert "calibration sweep" in done.stdout

"""``flopwise train`` and ``flopwise sweep`` exec the trainer, whose help and errors name
the command the user typed (``flopwise sweep``), not the module that runs it."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

from tests.shared_data import REPO

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None, reason="the trainer needs torch ([train] extra)"
)


def flopwise(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "flopwise.service", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("command", ["sweep", "train"])
def test_help_names_the_command_the_user_ran(command: str) -> None:
    done = flopwise(command, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: flopwise {command} ")
    assert "trainer" not in done.stdout.splitlines()[0]


def test_an_error_is_one_line_naming_the_command() -> None:
    done = flopwise("sweep", "--dataset", "d", "--flops", "1e13", "--time-cap-hours", "0")
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("flopwise sweep: error: --time-cap-hours: ")

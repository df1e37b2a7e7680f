"""The command line starts light (issue 18): help loads neither scipy.optimize nor
torch, a bare ``flopwise`` shows its help as written, and bad values of closed sets are
one line. The start-up time itself is measured by ``bench/bench_cli_start.py``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from flopwise.service.cli.app import COMMANDS

HEAVY = ("scipy.optimize", "torch", "fastapi", "sqlalchemy")

PROBE = (
    "import sys\n"
    "from flopwise.service.cli.app import run\n"
    "code = run(sys.argv[1:])\n"
    "heavy = [m for m in {heavy!r} if m in sys.modules]\n"
    "sys.stderr.write('\\nLOADED:' + ','.join(heavy))\n"
    "sys.exit(code)\n"
)


def probe(*args: str) -> tuple[int, str, str, list[str]]:
    """Run ``flopwise ARGS`` in a fresh process: (status, stdout, stderr, heavy modules
    it loaded)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    err, _, loaded = done.stderr.rpartition("\nLOADED:")
    return done.returncode, done.stdout, err, [m for m in loaded.strip().split(",") if m]


def test_top_level_help_loads_nothing_heavy() -> None:
    code, out, _, loaded = probe("--help")
    assert code == 0 and loaded == []
    for name in COMMANDS:
        assert f"  {name} " in out


@pytest.mark.parametrize("command", sorted(set(COMMANDS) - {"train", "sweep"}))
def test_command_help_loads_neither_scipy_optimize_nor_torch(command: str) -> None:
    code, out, _, loaded = probe(command, "--help")
    assert code == 0, out
    assert "scipy.optimize" not in loaded and "torch" not in loaded
    assert f"flopwise {command}" in out


def test_an_answer_from_a_built_in_law_loads_no_web_stack() -> None:
    code, out, err, loaded = probe("allocate", "--flops", "1e21", "--json")
    assert code == 0, err
    assert '"params"' in out
    assert loaded == []  # no scipy.optimize, torch, fastapi or sqlalchemy to answer


def test_bare_flopwise_prints_its_help_as_written() -> None:
    code, out, err, _ = probe()
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert lines[0].startswith("Usage: flopwise") and len(lines) > 10
    assert any(line.strip().startswith("allocate") for line in lines)


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_a_bad_log_level_is_one_line(command: str) -> None:
    code, _, err, _ = probe(command, "--log-level", "bogus")
    assert code == 2
    assert err.strip().splitlines() == [
        f"flopwise {command}: error: Invalid value for '--log-level': 'bogus' is not one of "
        "'critical', 'error', 'warning', 'info', 'debug'."
    ]

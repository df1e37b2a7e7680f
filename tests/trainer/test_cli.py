"""The command line: bad input is one line on stderr and status 2; plans print."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flopwise.trainer.cli import run
from tests.shared_data import REPO
from tests.trainer.helpers import trainer_env


def test_bad_value_as_a_real_process(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flopwise.trainer", "train", "--data", str(tmp_path), "--width", "64",
         "--depth", "2", "--tokens", "1e4"],
        cwd=REPO, env=trainer_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("trainer train: error: data:") and "train.bin" in done.stderr


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["train", "--width", "0"], "--width"),
        (["train", "--width", "64", "--depth", "2", "--tokens", "1e4"], "--data"),
        (["train", "--bogus"], "--bogus"),
        (["sweep", "--dataset", "d", "--flops", "1e13", "--time-cap-hours", "1",
          "--progress", "jsonl"], "--yes"),
        (["sweep", "--dataset", "d", "--flops", "1e13", "--gpu-hours", "1",
          "--time-cap-hours", "1", "--yes"], "exactly one"),
        (["plan", "--dataset", "d", "--gpu-hours", "1", "--time-cap-hours", "1"], "--gpu"),
        (["plan", "--dataset", "d", "--gpu-hours", "1", "--gpu", "tpu9", "--time-cap-hours", "1"],
         "unknown GPU"),
        (["plan", "--dataset", "d", "--flops", "1e13", "--time-cap-hours", "1",
          "--aspects", "round"], "aspects"),
    ],
)  # fmt: skip
def test_user_errors(argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err, err


def test_plan_json(corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["plan", "--dataset", "demo", "--flops", "1e13", "--time-cap-hours", "1",
            "--data", str(corpus_dir), "--work-dir", str(tmp_path), "--throughput", "3e10",
            "--tokens-per-param", "5", "--json"]  # fmt: skip
    assert run(argv) == 0
    event = json.loads(capsys.readouterr().out)
    assert event["event"] == "plan" and event["total_runs"] == 9
    assert {r["aspect"] for r in event["runs"]} == {"standard", "wide", "deep"}
    assert run(argv[:-1]) == 0
    assert "est." in capsys.readouterr().out


def test_corpus_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "src").mkdir()
    for i in range(30):
        (tmp_path / "src" / f"doc{i}.txt").write_text(f"document {i}: " + "words " * 50)
    assert run(["corpus", "--out", str(tmp_path / "c"), "--source", str(tmp_path / "src")]) == 0
    assert "train" in capsys.readouterr().out
    assert (tmp_path / "c" / "train.bin").exists() and (tmp_path / "c" / "val.bin").exists()


def test_train_options_are_the_config_fields() -> None:
    """``train``'s options are generated from ``TrainConfig`` (no second declaration)."""
    from dataclasses import fields

    from flopwise.trainer.cli import main
    from flopwise.trainer.config import TrainConfig

    names = {p.name for p in main.commands["train"].params}
    assert {f.name for f in fields(TrainConfig)} - {"eval_tokens", "tags"} <= names

"""The command line: bad input is one line on stderr and status 2; plans print."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flopwise.protocol.sweep import SweepRequest
from flopwise.trainer.cli import PROG, TrainerProgram, run
from flopwise.trainer.commands import SweepCommand
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
    assert done.stderr.startswith("python -m flopwise.trainer train: error: data:")
    assert "train.bin" in done.stderr


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
    from flopwise.trainer.commands import CorpusCommand, PlanCommand, TrainCommand
    from flopwise.trainer.config import TrainConfig

    assert set(TrainConfig.model_fields) <= set(TrainCommand.model_fields)
    for command in (TrainCommand, SweepCommand, PlanCommand, CorpusCommand):
        assert all(f.description for f in command.model_fields.values()), command


def _imported(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``python -X importtime ARGS``; the modules it imported (importtime's last column)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        cwd=REPO, env=trainer_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    return done, {line.rsplit("|", 1)[-1].strip() for line in lines}


@pytest.mark.parametrize(
    "args", [["-c", "import flopwise.trainer.plan"], ["-m", "flopwise.trainer", "--help"]]
)
def test_planning_and_help_load_neither_torch_nor_the_fit_engine(args: list[str]) -> None:
    done, modules = _imported(*args)
    assert done.returncode == 0, done.stderr[-2000:]
    assert {"flopwise.trainer", "pydantic"} <= modules
    assert not {"torch", "scipy.optimize"} & modules


def test_bare_command_prints_its_help_readably() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flopwise.trainer"],
        cwd=REPO, env=trainer_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("usage: python -m flopwise.trainer")
    assert done.stderr.count("\n") > 5
    assert all(f"\n    {name} " in done.stderr for name in ("train", "sweep", "plan", "corpus"))


def test_help_and_errors_name_the_program_the_user_ran(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--prog", "flopwise", "sweep", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: flopwise sweep ") and "--time-cap-hours" in out
    assert "FLOPs" in out and "hours" in out  # option help carries units
    assert run(["--prog", "flopwise", "train", "--width", "0"]) == 2
    assert capsys.readouterr().err.startswith("flopwise train: error: --width: ")
    assert run(["sweep", "--bogus"]) == 2
    assert capsys.readouterr().err.startswith("python -m flopwise.trainer sweep: error: ")


def test_a_config_file_lies_beneath_the_options(tmp_path: Path) -> None:
    config = tmp_path / "sweep.json"
    config.write_text(json.dumps({"dataset": "d", "flops": 1e13, "time_cap_hours": 1,
                                  "seed": 5, "aspects": ["wide"], "sizes": 2}))  # fmt: skip
    argv = ["--config", str(config), "--seed", "0", "--aspects", "standard,deep",
            "--slurm-options=--constraint=h100", "--corpus-bytes", "2e6"]  # fmt: skip
    command = TrainerProgram().parse(["sweep", *argv, "--yes"], PROG)
    assert isinstance(command, SweepCommand)
    request = command.request()
    assert (request.dataset, request.seed, request.sizes) == ("d", 0, 2)
    assert request.aspects == ("standard", "deep") and request.corpus_bytes == 2_000_000
    assert request.slurm_options == ("--constraint=h100",)
    config.write_text(json.dumps({"dataset": "d", "flops": 1e13, "time_cap_hours": 1, "sizez": 3}))
    assert run(["plan", "--config", str(config)]) == 2


def test_the_service_s_calibration_command_line_parses(tmp_path: Path) -> None:
    """What ``service.jobs.calibration`` runs: a --config JSON of the whole request."""
    request = SweepRequest(dataset="d", flops=1e13, time_cap_hours=1, aspects=("wide",))
    config = tmp_path / "sweep.json"
    config.write_text(json.dumps(request.model_dump(mode="json")))
    argv = ["sweep", "--config", str(config), "--service-url", "http://127.0.0.1:9",
            "--progress", "jsonl", "--yes"]  # fmt: skip
    command = TrainerProgram().parse(argv, PROG)
    assert isinstance(command, SweepCommand) and command.request() == request
    assert (command.url, command.yes, command.progress) == ("http://127.0.0.1:9", True, "jsonl")

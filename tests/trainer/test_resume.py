"""A run killed with SIGKILL mid-way resumes from its last checkpoint, losing nothing."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from flopwise.trainer.checkpoint import read_done, read_observations
from flopwise.trainer.train import train
from tests.shared_data import REPO
from tests.trainer.helpers import events, tiny_job, trainer_env, trainer_process, write_job

STEP = 8 * 64  # tokens per step of the tiny job


def test_killed_run_resumes_from_its_checkpoint(corpus_dir: Path, tmp_path: Path) -> None:
    kwargs = {"tokens": 200 * STEP, "eval_tokens": (20 * STEP, 60 * STEP, 120 * STEP),
              "checkpoint_every": 10, "log_every": 5}  # fmt: skip
    reference = train(tiny_job(corpus_dir, tmp_path / "reference", **kwargs))
    run_dir = tmp_path / "killed"
    job_file = write_job(tiny_job(corpus_dir, run_dir, **kwargs), tmp_path / "job.json")
    args = ("train", "--job", str(job_file), "--progress", "jsonl")

    proc = trainer_process(*args)
    assert proc.stdout is not None
    for line in proc.stdout:  # let it pass two evaluations and a few checkpoints
        event = json.loads(line)
        if event["event"] == "progress" and event["tokens"] >= 85 * STEP:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    proc.stdout.close()
    assert proc.stderr is not None
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert read_done(run_dir) is None
    assert [r["tokens"] for r in read_observations(run_dir)] == [20 * STEP, 60 * STEP]

    resumed = subprocess.run([sys.executable, "-m", "flopwise.trainer", *args], cwd=REPO,
                             env=trainer_env(), capture_output=True, text=True, timeout=300,
                             check=False)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    out = events(resumed.stdout.splitlines())
    start = next(e for e in out if e["event"] == "start")
    assert start["resumed_from_step"] >= 80 and start["resumed_from_step"] % 10 == 0
    assert [e["tokens"] for e in out if e["event"] == "eval"] == [120 * STEP, 200 * STEP]

    records = read_observations(run_dir)
    assert [r["tokens"] for r in records] == [r["tokens"] for r in reference.observations]
    # the same batches and optimizer state: the resumed curve is the uninterrupted one
    for got, want in zip(records, reference.observations, strict=True):
        assert got["loss"] == pytest.approx(want["loss"], rel=1e-5)
    assert read_done(run_dir) is not None

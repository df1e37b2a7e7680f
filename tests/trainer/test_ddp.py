"""Two processes under torchrun (gloo on CPU) train exactly what one process would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flopwise.trainer.checkpoint import read_observations
from flopwise.trainer.train import train
from tests.shared_data import REPO
from tests.trainer.helpers import events, tiny_job, trainer_env, write_job

STEP = 8 * 64


def test_two_process_ddp_matches_one_process(corpus_dir: Path, tmp_path: Path) -> None:
    kwargs = {"tokens": 40 * STEP, "eval_tokens": (10 * STEP,), "log_every": 10}
    single = train(tiny_job(corpus_dir, tmp_path / "single", **kwargs))
    job_file = write_job(tiny_job(corpus_dir, tmp_path / "ddp", **kwargs), tmp_path / "job.json")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc-per-node=2", "-m", "flopwise.trainer", "train", "--job", str(job_file),
               "--progress", "jsonl"]  # fmt: skip
    done = subprocess.run(command, cwd=REPO, env=trainer_env(), capture_output=True, text=True,
                          timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = events(done.stdout.splitlines())
    starts = [e for e in out if e["event"] == "start"]
    assert len(starts) == 1 and starts[0]["world_size"] == 2  # only rank 0 reports
    records = read_observations(tmp_path / "ddp")
    assert [r["n_gpus"] for r in records] == [2, 2]
    assert [r["tokens"] for r in records] == [r["tokens"] for r in single.observations]
    # each rank took half of every global batch; DDP averaged the gradients
    for got, want in zip(records, single.observations, strict=True):
        assert got["loss"] == pytest.approx(want["loss"], rel=1e-4)

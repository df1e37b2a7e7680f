"""Helpers of the trainer tests: tiny jobs and trainer subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flopwise.fitting.counting import ArchSpec
from flopwise.trainer.config import Job, TrainConfig
from flopwise.trainer.model import ModelConfig
from tests.shared_data import REPO


def tiny_job(corpus: Path, run_dir: Path, **train: Any) -> Job:
    """A 32x2 model of the tiny family (~47k params) on the test corpus."""
    arch = ArchSpec(width=32, depth=2, head_dim=16, vocab_size=256, seq_len=64)
    defaults: dict[str, Any] = {
        "data_dir": str(corpus),
        "run_dir": str(run_dir),
        "tokens": 60 * 8 * 64,
        "batch_size": 8,
        "lr_base": 0.5,
        "warmup_tokens": 5 * 8 * 64,
        "eval_tokens": (10 * 8 * 64, 30 * 8 * 64),
        "eval_sequences": 32,
        "threads": 1,
        "dataset": "test",
    }
    return Job(model=ModelConfig(arch=arch), train=TrainConfig(**{**defaults, **train}))


def write_job(job: Job, path: Path) -> Path:
    path.write_text(json.dumps(job.to_dict()))
    return path


def trainer_env() -> dict[str, str]:
    """Environment of a trainer subprocess: one thread, the repository importable."""
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    return env


def trainer_process(*args: str, **kwargs: Any) -> subprocess.Popen[str]:
    """``python -m trainer ARGS`` with stdout piped (JSON events) and stderr captured."""
    return subprocess.Popen(
        [sys.executable, "-m", "flopwise.trainer", *args],
        cwd=REPO,
        env=trainer_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def events(lines: Iterable[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines if line.strip().startswith("{")]


def cpu_sweep(
    dataset: str, corpus: Path, work: Path, flops: str, *args: str
) -> subprocess.CompletedProcess[str]:
    """A real calibration sweep of tiny models on 2 CPU jobs of one thread (``--out``
    ``WORK/out``, standard aspect, JSON-lines progress); ``args`` add its own options."""
    common = ["sweep", "--dataset", dataset, "--flops", flops, "--time-cap-hours", "1",
              "--data", str(corpus), "--work-dir", str(work), "--out", str(work / "out"),
              "--cpu-jobs", "2", "--threads", "1", "--throughput", "3e10",
              "--compute-ratio", "2", "--aspects", "standard", "--tokens-per-param", "5",
              "--progress", "jsonl", "--yes"]  # fmt: skip
    return subprocess.run([sys.executable, "-m", "flopwise.trainer", *common, *args], cwd=REPO,
                          env=trainer_env(), capture_output=True, text=True, timeout=900,
                          check=False)  # fmt: skip

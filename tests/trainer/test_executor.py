"""Job execution: the deadline, and a sweep stopped with SIGTERM stops its trainers."""

from __future__ import annotations

import fcntl
import json
import signal
import time
from pathlib import Path
from typing import Any

from flopwise.trainer.checkpoint import read_observations
from flopwise.trainer.executor import JobSpec, run_jobs
from tests.trainer.helpers import tiny_job, trainer_process, write_job


def test_nothing_starts_past_the_deadline(tmp_path: Path) -> None:
    jobs = [JobSpec(f"r{i}", tmp_path / f"r{i}", 1, 10.0) for i in range(3)]
    exits: list[tuple[str, bool]] = []
    outcome = run_jobs(jobs, devices=["cpu0"], kind="cpu", threads=1,
                       deadline=time.monotonic() - 1, on_event=lambda r, e: None,
                       on_exit=lambda r, status, why: exits.append((r, status == "done")))  # fmt: skip
    assert sorted(outcome.skipped) == ["r0", "r1", "r2"]
    assert not outcome.finished and not outcome.failed
    assert sorted(exits) == [("r0", False), ("r1", False), ("r2", False)]  # each said so


def test_a_failing_job_is_retried_then_reported(tmp_path: Path) -> None:
    run_dir = tmp_path / "bad"
    run_dir.mkdir()
    (run_dir / "job.json").write_text(json.dumps({"model": {}, "train": {}}))
    exits: list[tuple[str, bool]] = []
    outcome = run_jobs([JobSpec("bad", run_dir, 1, 1.0)], devices=["cpu0"], kind="cpu",
                       threads=1, deadline=time.monotonic() + 300, on_event=lambda r, e: None,
                       on_exit=lambda r, status, why: exits.append((r, status == "done")), retries=1)  # fmt: skip
    assert exits == [("bad", False)]
    assert "job: missing" in outcome.failed["bad"]  # the child's one-line error
    assert (run_dir / "stderr.log").read_text().count("error") == 2  # tried twice


def test_sigterm_stops_the_sweep_and_its_trainers(corpus_dir: Path, tmp_path: Path) -> None:
    proc = trainer_process(
        "sweep", "--dataset", "stop-test", "--flops", "1e12", "--time-cap-hours", "1",
        "--data", str(corpus_dir), "--work-dir", str(tmp_path), "--out", str(tmp_path / "out"),
        "--threads", "1", "--throughput", "3e10", "--sizes", "1", "--aspects", "standard,wide",
        "--tokens-per-param", "5", "--progress", "jsonl", "--yes",
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    plan = json.loads(proc.stdout.readline())
    for line in proc.stdout:
        if json.loads(line)["event"] == "start":
            break
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    proc.stdout.close()
    proc.stderr.close()
    for run in plan["runs"]:  # no trainer holds a run any more
        lock = Path(plan["sweep_dir"]) / "runs" / run["run"] / "lock"
        if lock.exists():
            with lock.open("w") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_a_two_device_job_runs_under_torchrun(corpus_dir: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "pair"
    run_dir.mkdir()
    write_job(tiny_job(corpus_dir, run_dir, tokens=20 * 8 * 64, eval_tokens=()),
              run_dir / "job.json")  # fmt: skip
    seen: list[dict[str, Any]] = []
    outcome = run_jobs([JobSpec("pair", run_dir, 2, 1.0)], devices=["cpu0", "cpu1"], kind="cpu",
                       threads=1, deadline=time.monotonic() + 300,
                       on_event=lambda r, e: seen.append(e), on_exit=lambda r, status, why: None)  # fmt: skip
    assert outcome.finished == ["pair"], (run_dir / "stderr.log").read_text()[-2000:]
    start = next(e for e in seen if e["event"] == "start")
    assert start["world_size"] == 2
    assert [r["n_gpus"] for r in read_observations(run_dir)] == [2]

"""A small sweep without a service: trainer processes, JSONL, a local fit, and resumption
after the sweep itself is killed."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from tests.shared_data import REPO
from tests.trainer.helpers import events, trainer_env, trainer_process


def sweep_args(corpus: Path, work: Path) -> list[str]:
    return ["sweep", "--dataset", "local-test", "--flops", "4e11", "--time-cap-hours", "1",
            "--data", str(corpus), "--work-dir", str(work), "--out", str(work / "out"),
            "--cpu-jobs", "2", "--threads", "1", "--throughput", "3e10", "--sizes", "2",
            "--aspects", "standard,wide", "--evals", "4", "--tokens-per-param", "5",
            "--progress", "jsonl", "--yes"]  # fmt: skip


def test_sweep_survives_being_killed_and_fits_locally(corpus_dir: Path, tmp_path: Path) -> None:
    args = sweep_args(corpus_dir, tmp_path)
    proc = trainer_process(*args)
    assert proc.stdout is not None and proc.stderr is not None
    plan = json.loads(proc.stdout.readline())
    assert plan["event"] == "plan" and plan["total_runs"] == 4 and not plan["resumed"]
    for line in proc.stdout:  # kill the sweep once its first run is done
        if json.loads(line)["event"] == "run_done":
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    proc.stdout.close()
    proc.stderr.close()

    again = subprocess.run([sys.executable, "-m", "flopwise.trainer", *args], cwd=REPO, env=trainer_env(),
                           capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert again.returncode == 0, again.stderr[-3000:]
    out = events(again.stdout.splitlines())
    kinds = [e["event"] for e in out]
    assert kinds[0] == "plan" and kinds[-2:] == ["fit", "done"]
    assert out[0]["resumed"] and out[0]["finished_runs"] >= 1
    assert out[0]["sweep_id"] == plan["sweep_id"]
    done = out[-1]
    assert done["finished"] == 4 and not done["failed"] and not done["skipped"]

    records = events((tmp_path / "out" / "runs.jsonl").read_text().splitlines())
    keys = [(r["run"], r["tokens"]) for r in records]
    assert len(keys) == len(set(keys)) == done["observations"]  # each point exactly once
    assert {r["run"] for r in records} == {r["run"] for r in plan["runs"]}
    assert all(r["dataset"] == "local-test" and r["tags"]["sweep"] == plan["sweep_id"]
               for r in records)  # fmt: skip

    fit = out[-2]
    assert fit["where"] == "local"
    summary = json.loads((tmp_path / "out" / "fit.json").read_text())
    assert summary["success"] == fit["success"]  # a failed fit is reported, not raised
    if fit["success"]:
        assert fit["law_id"] == "local-test-chinchilla" and fit["version"] == 1
        assert (tmp_path / "out" / "law.json").exists()

    third = subprocess.run([sys.executable, "-m", "flopwise.trainer", *args], cwd=REPO, env=trainer_env(),
                           capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    kinds = [e["event"] for e in events(third.stdout.splitlines())]
    assert "start" not in kinds and "eval" not in kinds  # nothing is trained twice

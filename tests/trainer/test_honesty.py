"""The trainer says what happened (issue 19): per-run lines and the sweep's summary count
the same things and give each failure or skip its reason; a fitted law is printed with
its warnings; a GPU-hour budget on a machine without a GPU is refused unless the CPU
was asked for."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from flopwise.trainer.cli import run
from flopwise.trainer.commands import _summary
from flopwise.trainer.devices import local_devices
from flopwise.trainer.executor import SKIPPED, JobSpec, Outcome, run_jobs
from flopwise.trainer.progress import make_reporter
from flopwise.trainer.refit import FitOutcome
from flopwise.trainer.sweep import SweepResult


def test_every_run_is_reported_with_the_status_the_summary_counts(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "job.json").write_text('{"model": {}, "train": {}}')  # the trainer refuses it
    jobs = [JobSpec("bad", bad, 1, 1.0), *(JobSpec(f"late{i}", tmp_path / f"l{i}", 1, 9.0)
                                           for i in range(2))]  # fmt: skip
    seen: dict[str, tuple[str, str | None]] = {}
    outcome = run_jobs(jobs[:1], devices=["cpu0"], kind="cpu", threads=1,
                       deadline=time.monotonic() + 300, on_event=lambda r, e: None,
                       on_exit=lambda r, s, why: seen.update({r: (s, why)}), retries=0)  # fmt: skip
    late = run_jobs(jobs[1:], devices=["cpu0"], kind="cpu", threads=1,
                    deadline=time.monotonic() - 1, on_event=lambda r, e: None,
                    on_exit=lambda r, s, why: seen.update({r: (s, why)}))  # fmt: skip
    assert seen["bad"][0] == "failed" and seen["bad"][1] == outcome.failed["bad"]
    assert seen["late0"] == seen["late1"] == ("skipped", SKIPPED)
    assert sorted(late.skipped) == ["late0", "late1"]
    assert sum(s == "failed" for s, _ in seen.values()) == len(outcome.failed)
    assert sum(s == "skipped" for s, _ in seen.values()) == len(late.skipped)


def test_the_progress_line_and_the_summary_give_the_reasons(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = make_reporter("bar")
    report({"event": "run_done", "run": "w64-d2", "status": "skipped", "reason": SKIPPED,
            "done": 3, "total": 9})  # fmt: skip
    assert f"w64-d2: skipped ({SKIPPED})" in capsys.readouterr().err
    warnings = ["E at its lower bound 2.06e-09: the irreducible loss is not identified"]
    fit = FitOutcome(success=True, law_id="d-chinchilla", version=1, message="ok",
                     constants={"E": 2.06e-9}, warnings=warnings)  # fmt: skip
    outcome = Outcome(finished=["a"], failed={"b": "CUDA out of memory"}, skipped=["c", "d"])
    _summary(SweepResult("s1", outcome, 1, 12, fit, []))
    out = capsys.readouterr().out
    assert "1 runs finished, 1 failed, 2 skipped" in out
    assert "failed b: CUDA out of memory" in out
    assert f"skipped c: {SKIPPED}" in out and f"skipped d: {SKIPPED}" in out
    assert f"warning: {warnings[0]}" in out  # printed with the law, not only in fit.json


@pytest.mark.skipif(local_devices("auto", 1).kind == "cuda", reason="this machine has a GPU")
def test_gpu_hours_without_a_gpu_are_refused_unless_the_cpu_is_asked_for(
    corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["plan", "--dataset", "d", "--gpu-hours", "2", "--gpu", "h100",
            "--time-cap-hours", "1", "--data", str(corpus_dir), "--work-dir", str(tmp_path),
            "--throughput", "3e10"]  # fmt: skip
    assert run(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--gpu-hours" in err[0] and "no GPU" in err[0]
    assert "--device cpu" in err[0]
    assert run([*argv, "--device", "cpu"]) == 0  # asked for: planned for this CPU

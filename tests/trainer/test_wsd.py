"""Warmup-stable-decay sweeps (docs/laws.md §21.5): a constant-LR trunk per model and
cooldown branches from its checkpoints; the plan's FLOPs and the saving it states; a CPU
WSD calibration end to end (trunks, branches from their kept checkpoints, the (N, D) grid
of the branches' final losses fitted by the loss law, every checkpoint with its LR and
schedule filed for the curve laws)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flopwise.fitting.schedules import lr_at, schedule_from_dict
from flopwise.trainer.plan import PlanConfig, make_plan
from flopwise.trainer.train import train
from flopwise.trainer.wsd import branch_ends, branch_plan, cost_factor, curves_dataset
from tests.shared_data import REPO
from tests.trainer.helpers import events, tiny_job, trainer_env


def _plan(**changes: Any) -> Any:
    base: dict[str, Any] = {"dataset": "d", "flops": 1e13, "time_cap_hours": 1.0,
                            "throughput": 3e10, "tokens_per_param": 5.0,
                            "aspects": ("standard",)}  # fmt: skip
    return make_plan(PlanConfig(**{**base, **changes}))


def test_branches_halve_and_cool_down_over_their_last_fifth() -> None:
    pairs = branch_ends(800 * 64, 3, 0.2, 64)
    assert pairs == [(160 * 64, 200 * 64), (320 * 64, 400 * 64), (640 * 64, 800 * 64)]
    assert cost_factor(3, 0.2) == pytest.approx(0.8 + 0.2 * 1.75)
    with pytest.raises(ValueError, match="wsd_branches"):
        branch_ends(20 * 64, 4, 0.2, 64)  # the smallest branch would cool for 0-1 steps


def test_a_wsd_plan_trains_each_trunk_once_and_states_its_saving() -> None:
    plan = _plan()
    wsd = branch_plan(plan, 3, 0.2)
    trunks = [r for r in wsd.runs if not r.branch_of]
    branches = [r for r in wsd.runs if r.branch_of]
    assert len(trunks) == len(plan.runs) and len(branches) == 3 * len(plan.runs)
    for run, trunk in zip(plan.runs, trunks, strict=True):
        mine = [b for b in branches if b.branch_of == trunk.run_id]
        assert max(b.tokens for b in mine) == run.tokens  # the largest point is the plan's
        assert trunk.keep_tokens == tuple(sorted(b.start_tokens for b in mine))
        assert trunk.tokens == max(trunk.keep_tokens)
        assert set(trunk.keep_tokens) <= set(trunk.eval_tokens)
        for b in mine:
            assert b.cooldown_fraction == pytest.approx((b.tokens - b.start_tokens) / b.tokens)
            assert b.eval_tokens[-1] == b.tokens and b.start_tokens < b.eval_tokens[0]
    per_token = {r.run_id: r.flops / r.tokens for r in plan.runs}
    full = sum(b.tokens * per_token[b.branch_of.removesuffix("-trunk")] for b in branches)
    assert wsd.full_flops == pytest.approx(full)
    assert wsd.budget_flops == pytest.approx(sum(r.flops for r in wsd.runs))
    assert wsd.budget_flops < 0.7 * wsd.full_flops  # (0.8 + 0.35) / 1.75 of it
    assert "34% saved" in wsd.table()


def test_a_cpu_wsd_calibration_end_to_end(corpus_dir: Path, tmp_path: Path) -> None:
    args = ["sweep", "--dataset", "wsd-e2e", "--flops", "6e11", "--time-cap-hours", "1",
            "--data", str(corpus_dir), "--work-dir", str(tmp_path), "--out",
            str(tmp_path / "out"), "--cpu-jobs", "2", "--threads", "1", "--throughput", "3e10",
            "--sizes", "3", "--aspects", "standard", "--evals", "4", "--tokens-per-param", "5",
            "--wsd-branches", "3", "--progress", "jsonl", "--yes"]  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "flopwise.trainer", *args], cwd=REPO,
                          env=trainer_env(), capture_output=True, text=True, timeout=600,
                          check=False)  # fmt: skip
    out = events(done.stdout.splitlines())
    plan, fit, end = out[0], out[-2], out[-1]
    assert plan["event"] == "plan" and plan["total_runs"] == 3 + 9
    assert end["event"] == "done" and end["finished"] == 12 and not end["failed"], done.stderr
    records = events((tmp_path / "out" / "runs.jsonl").read_text().splitlines())
    grid = [r for r in records if r["dataset"] == "wsd-e2e"]
    curves = [r for r in records if r["dataset"] == curves_dataset("wsd-e2e")]
    branches = [r for r in plan["runs"] if "-trunk" not in r["run"]]
    assert sorted((r["run"], r["tokens"]) for r in grid) == sorted(
        (r["run"], r["tokens"]) for r in branches
    )  # each branch's final point, and nothing else, is the loss law's grid
    assert {r["tags"]["wsd"] for r in curves} == {"trunk", "branch"}
    for r in curves:  # every checkpoint carries the LR its schedule gives there
        schedule = schedule_from_dict(r["schedule"])
        assert r["lr"] == pytest.approx(float(lr_at(schedule, r["tokens"])), rel=0.05, abs=1e-4)
    ended = [r for r in grid if r["lr"] == 0.0]
    assert len(ended) == len(grid) and {r["schedule"]["kind"] for r in grid} == {"wsd"}
    # the existing loss-law fit ran on exactly the branches' final losses
    summary = json.loads((tmp_path / "out" / "fit.json").read_text())
    assert fit["event"] == "fit" and summary["n_runs"] == len(grid) == 9
    assert plan["full_flops"] > 1.4 * plan["budget_flops"]  # the saving the plan states


def test_trunk_checkpoints_are_kept_for_the_branches(corpus_dir: Path, tmp_path: Path) -> None:
    step = 8 * 64
    trunk = tiny_job(corpus_dir, tmp_path / "trunk", tokens=40 * step,
                     eval_tokens=(20 * step,), keep_checkpoints=(20 * step,))  # fmt: skip
    train(trunk)
    kept = tmp_path / "trunk" / f"checkpoint-{20 * step}.pt"
    assert kept.exists()
    branch = tiny_job(corpus_dir, tmp_path / "branch", tokens=25 * step, eval_tokens=(),
                      cooldown_fraction=0.2, branch_from=str(kept))  # fmt: skip
    result = train(branch)
    assert result.resumed_from_step == 20 and result.steps == 25
    assert [r["tokens"] for r in result.observations] == [25 * step]
    assert result.observations[0]["lr"] == 0.0

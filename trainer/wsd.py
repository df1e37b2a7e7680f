"""Warmup-stable-decay calibration: one constant-LR run per model, cooldowns branched from
its checkpoints (Hägele et al. 2024, arXiv:2405.18392; docs/laws.md §10.1, §21.5).

A plain sweep trains each (N, D) point to its own end. Here each planned run of D tokens
becomes a *trunk* at constant LR and ``branches`` cooldown branches ending at
D / 2^(branches - 1), ..., D / 2, D tokens: branch b starts from the trunk's checkpoint at
(1 - f) D_b and decays over the last f D_b tokens (f = ``cooldown_fraction``), so its first
steps are the trunk's (same seed, same batches) and only the cooldown is trained again.
The trunk runs to the largest branch start. Training every point to its end would take
sum_b D_b tokens per model; this takes (1 - f) D + f sum_b D_b: the plan states both.
The branches' final losses are the (N, D) grid a loss law is fitted on.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from flopwise.trainer.checkpoint import kept_checkpoint
from flopwise.trainer.executor import Executor, JobSpec, OnEvent, OnExit, Outcome
from flopwise.trainer.plan import STARTUP_SECONDS, Plan, PlannedRun, makespan

__all__ = [
    "MIN_COOLDOWN_STEPS",
    "branch_ends",
    "branch_plan",
    "cost_factor",
    "curves_dataset",
    "grid_record",
    "run_phases",
    "wsd_settings",
    "wsd_tags",
]

MIN_COOLDOWN_STEPS = 2
"""Fewest optimizer steps a cooldown may take."""


def curves_dataset(dataset: str) -> str:
    """Where a WSD sweep files every checkpoint of its trunks and branches (with their LR
    and schedule, for ``flopwise fit-curve``); ``dataset`` itself gets each branch's final
    point, the (N, D) grid its loss law is fitted on."""
    return f"{dataset[:57]}-curves"


def grid_record(record: dict[str, Any], dataset: str) -> dict[str, Any]:
    """A branch's final observation filed under the sweep's own dataset."""
    return {**record, "dataset": dataset}


def cost_factor(branches: int, fraction: float) -> float:
    """FLOPs of a trunk and its branches over one run to the largest branch's end:
    ``(1 - f) + f (1 + 1/2 + ... + 1/2^(branches - 1))`` (a plan is sized by it to stay
    within its budget)."""
    return (1.0 - fraction) + fraction * sum(0.5**k for k in range(branches))


def branch_ends(
    tokens: int, branches: int, fraction: float, per_step: int
) -> list[tuple[int, int]]:
    """(start, end) tokens of each branch: ends halving from ``tokens``, both in whole
    steps, each start (1 - ``fraction``) of its end. ``ValueError`` naming
    ``wsd_branches`` when the smallest branch would cool down for too few steps."""
    steps = tokens // per_step
    ends = sorted({round(steps / 2.0**k) for k in range(branches)})
    out = []
    for end in ends:
        start = round((1.0 - fraction) * end)
        if end - start < MIN_COOLDOWN_STEPS or start < 1:
            raise ValueError(
                f"wsd_branches: the branch ending at step {end} would cool down for "
                f"{end - start} step(s); give fewer branches, a larger cooldown_fraction or "
                "a larger budget"
            )
        out.append((start * per_step, end * per_step))
    return out


def _trunk_and_branches(
    run: PlannedRun, plan: Plan, branches: int, fraction: float
) -> tuple[PlannedRun, list[PlannedRun]]:
    per_step = run.batch_size * run.arch.seq_len
    pairs = branch_ends(run.tokens, branches, fraction, per_step)
    per_token = run.flops / run.tokens
    seconds = (run.est_seconds - STARTUP_SECONDS) / run.tokens
    top = max(start for start, _ in pairs)
    starts = tuple(start for start, _ in pairs)
    trunk = replace(
        run, run_id=f"{run.run_id}-trunk", tokens=top, flops=top * per_token,
        eval_tokens=tuple(sorted({*(t for t in run.eval_tokens if t < top), *starts})),
        keep_tokens=starts, est_seconds=STARTUP_SECONDS + top * seconds,
    )  # fmt: skip
    out = []
    for start, end in pairs:
        steps = (end - start) // per_step  # a mid-cooldown point once two steps are timed
        evals = {start + steps // 2 * per_step, end} if steps >= 4 else {end}
        out.append(replace(
            run, run_id=f"{run.run_id}-d{end}", tokens=end, flops=(end - start) * per_token,
            eval_tokens=tuple(sorted(evals)), branch_of=trunk.run_id,
            start_tokens=start, cooldown_fraction=(end - start) / end,
            est_seconds=STARTUP_SECONDS + (end - start) * seconds,
        ))  # fmt: skip
    return trunk, out


def branch_plan(plan: Plan, branches: int, fraction: float) -> Plan:
    """The warmup-stable-decay version of ``plan`` (see the module docstring)."""
    trunks, cooled = [], []
    full = 0.0
    for run in plan.runs:
        trunk, runs = _trunk_and_branches(run, plan, branches, fraction)
        trunks.append(trunk)
        cooled += runs
        full += sum(r.tokens for r in runs) * run.flops / run.tokens
    slots = plan.config.slots
    return replace(
        plan,
        runs=tuple(trunks + cooled),
        budget_flops=float(np.sum([r.flops for r in trunks + cooled])),
        full_flops=full,
        est_wall_seconds=makespan(trunks, slots) + makespan(cooled, slots),
    )


def wsd_settings(plan: Plan, runs_dir: Path, run: PlannedRun) -> dict[str, Any]:
    """``run``'s training settings in a WSD sweep (its dataset only, otherwise): trunks
    keep checkpoints at their branches' starts, branches cool down from them, both file
    every checkpoint under :func:`curves_dataset`."""
    if not plan.config.wsd_branches:
        return {"dataset": plan.config.dataset}
    start = kept_checkpoint(runs_dir / run.branch_of, run.start_tokens)
    return {
        "dataset": curves_dataset(plan.config.dataset),
        "keep_checkpoints": run.keep_tokens,
        "cooldown_fraction": run.cooldown_fraction,
        "cooldown_shape": plan.config.cooldown_shape,
        "branch_from": str(start) if run.branch_of else "",
    }


def wsd_tags(plan: Plan, run: PlannedRun) -> dict[str, str]:
    """``wsd``: ``trunk`` or ``branch`` on every observation of a WSD sweep."""
    if not plan.config.wsd_branches:
        return {}
    return {"wsd": "branch" if run.branch_of else "trunk"}


def run_phases(
    executor: Executor,
    jobs: list[JobSpec],
    branches: Collection[str],
    *,
    deadline: float,
    on_event: OnEvent,
    on_exit: OnExit,
) -> Outcome:
    """Run the trunks, then the ``branches`` (which start from the trunks' checkpoints)."""
    outcome = Outcome()
    for phase in (
        [j for j in jobs if j.run_id not in branches],
        [j for j in jobs if j.run_id in branches],
    ):
        if phase:
            done = executor.run(phase, deadline=deadline, on_event=on_event, on_exit=on_exit)
            outcome.finished += done.finished
            outcome.failed.update(done.failed)
            outcome.skipped += done.skipped
    return outcome

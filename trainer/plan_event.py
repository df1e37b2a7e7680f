"""The ``plan`` progress event of a prepared sweep: every run with its shape, tokens and
estimate (and how many already finished), before anything runs."""

from __future__ import annotations

from typing import Any

from flopwise.protocol.events import PlanEvent
from flopwise.trainer.checkpoint import read_done
from flopwise.trainer.sweep import Prepared

__all__ = ["plan_event"]


def plan_event(prepared: Prepared) -> dict[str, Any]:
    """The ``plan`` progress event: every run with its shape, tokens and estimate."""
    plan = prepared.plan
    finished = sum(read_done(prepared.sweep_dir / "runs" / r.run_id) is not None for r in plan.runs)
    runs = [
        {
            "run": r.run_id,
            "aspect": r.aspect,
            "width": r.arch.width,
            "depth": r.arch.depth,
            "params": r.params,
            "tokens": r.tokens,
            "flops": r.flops,
            "evals": len(r.eval_tokens),
            "lr": r.lr,
            "batch_size": r.batch_size,
            "est_seconds": r.est_seconds,
            "n_devices": r.n_devices,
            **({"granularity": r.arch.ffn_size // r.expert_ffn_size} if r.experts else {}),
        }
        for r in plan.runs
    ]
    return PlanEvent(
        sweep_id=plan.sweep_id,
        dataset=plan.config.dataset,
        total_runs=len(plan.runs),
        finished_runs=finished,
        resumed=prepared.resumed,
        family=plan.family,
        budget_flops=plan.budget_flops,
        limited_by=plan.limited_by,
        est_wall_seconds=plan.est_wall_seconds,
        devices=prepared.devices.slots,
        device_kind=prepared.devices.name,
        sweep_dir=str(prepared.sweep_dir),
        runs=runs,
        full_flops=plan.full_flops or None,
    ).to_dict()

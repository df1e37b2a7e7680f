"""GPUs that actually help: a GPU-hour plan priced against the critical batch.

A time-optimal plan (``time_optimal``) trains a shape for D tokens at a global batch B.
The law's loss at D tokens holds for batches well under the critical batch; at batch B
the same loss takes ``E = D (1 + B / B_noise)`` tokens and ``S = (D / B_noise)(1 +
B_noise / B)`` steps (McCandlish et al. 2018, §2.3; ``fitting.critical_batch``). Adding
data-parallel GPUs at a fixed per-GPU batch b grows B = g b: past B_noise each doubling
of GPUs saves less than half the remaining time and costs ever more tokens, so the
largest useful count is ``floor(B_noise / b)`` (B = B_noise: twice the fewest steps,
twice the fewest tokens). :func:`critical_batch_plan` scans GPU counts (wall clock and
GPU-hours at each, from the throughput model's step time) and, given a deadline, finds
the cheapest count that meets it, or says why none does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from flopwise.fitting.checks import positive
from flopwise.fitting.counting import ArchFamily
from flopwise.fitting.critical_batch import steps_to_target, tokens_to_target
from flopwise.fitting.throughput.model import ThroughputModel, step_seconds
from flopwise.fitting.throughput.time_optimal import Plan

__all__ = ["CriticalBatchPlan", "DeadlinePlan", "GpuPoint", "critical_batch_plan", "gpu_points"]

SCAN_FACTOR = 64
"""The scan runs from 1 GPU to this many times the largest useful count (or the plan's)."""


@dataclass(frozen=True)
class GpuPoint:
    """The plan's shape trained to the plan's loss on ``n_gpus`` GPUs at b tokens each."""

    n_gpus: int
    batch_tokens: float
    """The global batch, g x b."""
    tokens: float
    """Tokens that reach the loss at this batch: D (1 + B / B_noise)."""
    steps: float
    seconds_per_step: float
    wall_clock_hours: float
    gpu_hours: float


@dataclass(frozen=True)
class DeadlinePlan:
    """The fewest GPUs (so the fewest GPU-hours) that finish by the deadline."""

    max_wall_clock_hours: float
    met: bool
    point: GpuPoint | None
    """The cheapest count meeting the deadline; ``None`` when none does."""
    fastest: GpuPoint
    """The fastest count scanned."""
    reason: str


@dataclass(frozen=True)
class CriticalBatchPlan:
    """What the plan's batch costs against the critical batch, and what more GPUs buy."""

    b_noise_tokens: float
    b_noise_interval: tuple[float, float] | None
    b_noise_source: str
    tokens_per_gpu: float
    """b: the per-GPU batch the scan keeps."""
    plan: GpuPoint
    """The plan's own GPU count and batch, with the tokens its batch really needs."""
    extra_tokens: float
    """Tokens past D the plan's batch needs: D B / B_noise."""
    largest_useful_gpus: int
    """The most GPUs whose global batch stays within B_noise: floor(B_noise / b), >= 1."""
    at_largest_useful: GpuPoint
    wall_clock_saving_hours: float
    """Plan wall clock minus the wall clock at the largest useful count (negative: the
    plan runs past B_noise, and fewer GPUs would take longer but cost less)."""
    fewest_hours: float
    """The fastest wall clock scanned (up to :data:`SCAN_FACTOR` times the largest
    useful count): past B_noise the steps stop falling (S_min = D / B_noise) while a
    step on more GPUs gets no faster."""
    points: tuple[GpuPoint, ...]
    deadline: DeadlinePlan | None
    warnings: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types, nested dicts for the points."""
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["plan"] = vars(self.plan).copy()
        out["at_largest_useful"] = vars(self.at_largest_useful).copy()
        out["points"] = [vars(p).copy() for p in self.points]
        out["b_noise_interval"] = (
            None if self.b_noise_interval is None else list(self.b_noise_interval)
        )
        if self.deadline is not None:
            d = self.deadline
            out["deadline"] = {
                "max_wall_clock_hours": d.max_wall_clock_hours,
                "met": d.met,
                "point": None if d.point is None else vars(d.point).copy(),
                "fastest": vars(d.fastest).copy(),
                "reason": d.reason,
            }
        out["warnings"] = list(self.warnings)
        return out


def gpu_points(
    model: ThroughputModel,
    family: ArchFamily,
    plan: Plan,
    counts: np.ndarray,
    *,
    tokens_per_gpu: float,
    b_noise: float,
) -> list[GpuPoint]:
    """The plan's shape to the plan's loss on each GPU count (vectorised)."""
    g = np.asarray(counts, dtype=float)
    batch = g * tokens_per_gpu
    tokens = tokens_to_target(batch, plan.tokens, b_noise)
    steps = steps_to_target(batch, plan.tokens / b_noise, b_noise)
    step = np.asarray(
        step_seconds(
            model,
            family,
            plan.shape.width,
            plan.shape.depth,
            tokens_per_gpu=tokens_per_gpu,
            n_gpus=g,
        ),
        dtype=float,
    )
    wall = steps * step / 3600.0
    return [
        GpuPoint(
            n_gpus=int(gi),
            batch_tokens=float(bi),
            tokens=float(ti),
            steps=float(si),
            seconds_per_step=float(ri),
            wall_clock_hours=float(wi),
            gpu_hours=float(wi * gi),
        )
        for gi, bi, ti, si, ri, wi in zip(g, batch, tokens, steps, step, wall, strict=True)
    ]


def _counts(top: int) -> np.ndarray:
    """1, 2, 4, ... up to ``top``, and ``top``."""
    powers = 2 ** np.arange(0, int(math.log2(max(top, 1))) + 1)
    return np.unique(np.append(powers, top)).astype(np.int64)


def _deadline(
    scan: Any, hours: float, points: list[GpuPoint], b_noise: float, plan: Plan
) -> DeadlinePlan:
    fastest = min(points, key=lambda p: p.wall_clock_hours)
    if fastest.wall_clock_hours > hours:
        return DeadlinePlan(
            max_wall_clock_hours=hours,
            met=False,
            point=None,
            fastest=fastest,
            reason=(
                f"no GPU count finishes in {hours:.4g} h: the fastest, {fastest.n_gpus} GPUs, "
                f"takes {fastest.wall_clock_hours:.4g} h. Past the critical batch "
                f"({b_noise:.3g} tokens) a run still needs at least D / B_noise = "
                f"{plan.tokens / b_noise:.4g} steps, and a step on more GPUs is no faster"
            ),
        )
    first = next(i for i, p in enumerate(points) if p.wall_clock_hours <= hours)
    lo = 1 if first == 0 else points[first - 1].n_gpus
    hi = points[first].n_gpus
    while hi - lo > 1:  # wall clock falls with GPUs up to the fastest count
        mid = (lo + hi) // 2
        if scan(np.array([mid]))[0].wall_clock_hours <= hours:
            hi = mid
        else:
            lo = mid
    best = scan(np.array([hi]))[0]
    return DeadlinePlan(
        max_wall_clock_hours=hours,
        met=True,
        point=best,
        fastest=fastest,
        reason=(
            f"{best.n_gpus} GPUs finish in {best.wall_clock_hours:.4g} h for "
            f"{best.gpu_hours:.4g} GPU-hours, the fewest that meet {hours:.4g} h"
        ),
    )


def critical_batch_plan(
    model: ThroughputModel,
    family: ArchFamily,
    plan: Plan,
    *,
    n_gpus: int,
    batch_tokens: float,
    b_noise: float,
    b_noise_interval: tuple[float, float] | None = None,
    b_noise_source: str = "",
    max_wall_clock_hours: float | None = None,
) -> CriticalBatchPlan:
    """Price ``plan`` (trained on ``n_gpus`` at ``batch_tokens``) against B_noise, scan
    GPU counts at the same per-GPU batch, and meet ``max_wall_clock_hours`` if asked."""
    b_noise = positive("b_noise_tokens", b_noise)
    per_gpu = positive("batch_tokens", batch_tokens) / n_gpus
    useful = max(1, math.floor(b_noise / per_gpu))

    def scan(counts: np.ndarray) -> list[GpuPoint]:
        return gpu_points(model, family, plan, counts, tokens_per_gpu=per_gpu, b_noise=b_noise)

    points = scan(_counts(SCAN_FACTOR * max(useful, n_gpus)))
    own, top = scan(np.array([n_gpus, useful]))
    warnings = []
    if batch_tokens > b_noise:
        warnings.append(
            f"the global batch of {batch_tokens:.3g} tokens is past the critical batch "
            f"(B_noise {b_noise:.3g} tokens, {b_noise_source}): reaching the plan's loss takes "
            f"{own.tokens - plan.tokens:.3g} more tokens ({batch_tokens / b_noise:.0%} more), "
            f"and GPUs beyond {useful} buy little time"
        )
    deadline = None
    if max_wall_clock_hours is not None:
        hours = positive("max_wall_clock_hours", max_wall_clock_hours)
        deadline = _deadline(scan, hours, points, b_noise, plan)
        if not deadline.met:
            warnings.append(deadline.reason)
    return CriticalBatchPlan(
        b_noise_tokens=b_noise,
        b_noise_interval=b_noise_interval,
        b_noise_source=b_noise_source,
        tokens_per_gpu=per_gpu,
        plan=own,
        extra_tokens=own.tokens - plan.tokens,
        largest_useful_gpus=useful,
        at_largest_useful=top,
        wall_clock_saving_hours=own.wall_clock_hours - top.wall_clock_hours,
        fewest_hours=min(p.wall_clock_hours for p in points),
        points=tuple(points),
        deadline=deadline,
        warnings=tuple(warnings),
    )

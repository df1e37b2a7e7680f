"""The smallest budget whose predicted benchmark metric reaches a target, and the
chance of reaching it there (docs/laws.md §20).

Along the law's compute-optimal path (``fitting.allocation.frontier``) the metric is the
downstream chain at each budget's N* and D* (``fitting.downstream``). The smallest
budget is the first crossing of the target on a grid of budgets, 10 per decade from
1e10 to 1e32 FLOPs, refined by bisection in log budget. The chance of reaching the
target there comes from the chain's bootstrap draws (``probability``: the law's mean
metric reaches it) and from a new run's samples (``run_probability``: a run trained
to the plan measures at least the target).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from flopwise.fitting.allocation import frontier
from flopwise.fitting.downstream import Chain, link_of, metric_value
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.laws import Law
from flopwise.fitting.shape import ShapeConstraints

__all__ = ["GRID", "TargetBudget", "reach_probability", "target_budget"]

GRID = np.logspace(10.0, 32.0, 221)
"""Budgets searched for the first crossing, in FLOPs."""
BISECTIONS = 40


@dataclass(frozen=True)
class TargetBudget:
    """The smallest budget at which ``metric`` is predicted to reach ``value``."""

    metric: str
    value: float
    flops: float
    predicted: float
    """The metric the law predicts at ``flops`` (at least ``value``)."""


def _path_metric(
    law: Law, metric: str, flops: np.ndarray, constraints: ShapeConstraints
) -> np.ndarray:
    path = frontier(law, flops, constraints=constraints)
    link = link_of(law, metric)
    return metric_value(law, link, params=path.params, tokens=path.tokens,
                        width=path.width, depth=path.depth)  # fmt: skip


def target_budget(
    law: Law, metric: str, value: float, *, constraints: ShapeConstraints | None = None
) -> TargetBudget:
    """The smallest budget on the grid's range whose predicted ``metric`` reaches
    ``value``; :class:`ArgumentError` naming ``target.value`` when none does."""
    if not math.isfinite(value):
        raise ArgumentError("target.value", f"must be finite, got {value!r}")
    constraints = constraints or ShapeConstraints()
    link_of(law, metric)  # names the metric when the law has no such link
    y = np.where(np.isfinite(ys := _path_metric(law, metric, GRID, constraints)), ys, -np.inf)
    above = np.flatnonzero(y >= value)
    if not len(above):
        raise ArgumentError(
            "target.value",
            f"{metric} reaches at most {float(np.max(y)):.4g} on {law.id}'s compute-optimal "
            f"path up to {GRID[-1]:.0e} FLOPs, short of {value:g}",
        )
    i = int(above[0])
    if i == 0:
        return TargetBudget(metric, value, float(GRID[0]), float(y[0]))
    lo, hi = math.log10(GRID[i - 1]), math.log10(GRID[i])
    for _ in range(BISECTIONS):
        mid = 0.5 * (lo + hi)
        if _path_metric(law, metric, np.array([10.0**mid]), constraints)[0] >= value:
            hi = mid
        else:
            lo = mid
    flops = 10.0**hi
    return TargetBudget(
        metric, value, flops, float(_path_metric(law, metric, np.array([flops]), constraints)[0])
    )


def reach_probability(chain: Chain, value: float) -> tuple[float | None, float]:
    """At the chain's first point: the share of bootstrap chains whose metric reaches
    ``value`` (``None`` without draws), and the share of a new run's samples that do."""
    curve = None if chain.curve is None else float(np.mean(chain.curve[0] >= value))
    return curve, float(np.mean(chain.runs[0] >= value))

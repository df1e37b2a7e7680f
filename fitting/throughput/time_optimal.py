"""Time-optimal allocation: the (shape, tokens) with the lowest predicted loss for
GPU-hours, not FLOPs.

A GPU-hour budget ``H`` on ``g`` GPUs is ``W = 3600 H / g`` seconds of wall clock. A
shape whose step of ``b`` tokens takes ``t(w, d)`` seconds (``fitting.throughput.model``)
trains ``T = W b / t`` tokens in it, so under a law of the form
``L = S(w, d) + B T^-beta`` (Chinchilla's Eq. 2 with ``S = E + A / N^alpha``, or the
Gemstones width-depth laws) its loss is ``S + B W^-beta (t / b)^beta``: the FLOP-optimal problem with FLOPs per
token replaced by seconds per token. For one budget it is answered exactly by one
``argmin`` over every feasible shape, from a grid whose shapes are counted once per
(law, throughput model, constraints) and timed per GPU count and batch in a few vector
operations (``fitting.throughput.grid``): a new GPU count never recounts the shapes.

The FLOP-optimal plan for the same hours is the shape the law picks for the FLOPs
those hours buy when that shape is the one trained (a fixed point, reached in a few
steps), trained for the same hours. McLeish et al. 2025 (Gemstones, §4, Fig. 7): wide
models run faster per FLOP, so time-optimal shapes are wider than FLOP-optimal ones.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from flopwise.fitting.allocation import DEFAULT_CONSTRAINTS, frontier
from flopwise.fitting.checks import known_fields, optional_positive, positive
from flopwise.fitting.counting import ArchFamily
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.laws import Law
from flopwise.fitting.shape import Shape, ShapeConstraints, make_shape
from flopwise.fitting.throughput.grid import (
    ASPECT_BAND,
    ShapeGrid,
    fastest_index,
    grid_index,
    shape_grid,
    shape_terms,
)
from flopwise.fitting.throughput.model import ThroughputModel

__all__ = [
    "ASPECT_BAND",
    "Plan",
    "ShapeGrid",
    "TimeAllocation",
    "allocate_hours",
    "check_batch",
    "check_n_gpus",
    "grid_index",
    "plan_for",
    "shape_grid",
    "shape_terms",
]


@dataclass(frozen=True)
class Plan:
    """One way to spend the hours: a shape, its tokens, and what it costs in each currency."""

    shape: Shape
    params: float
    """N as the law counts it."""
    tokens: float
    loss: float
    flops: float
    """Training FLOPs as the law counts C."""
    gpu_hours: float
    wall_clock_hours: float
    dollars: float | None
    seconds_per_step: float
    model_flops_per_gpu: float
    """Achieved FLOP/s per GPU by the law's FLOP count."""

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["shape"] = dict(vars(self.shape))
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Plan:
        """Inverse of :meth:`to_dict`; keys it does not know are ignored."""
        kwargs = known_fields(Plan, data)
        kwargs["shape"] = Shape(**known_fields(Shape, data["shape"]))
        return cls(**kwargs)


@dataclass(frozen=True)
class TimeAllocation:
    """Time-optimal and FLOP-optimal plans for the same GPU-hours."""

    law_id: str
    law_version: int
    throughput_id: str
    throughput_version: int
    gpu: str
    n_gpus: int
    batch_tokens: float
    gpu_hours: float
    time_optimal: Plan
    flop_optimal: Plan
    warnings: tuple[str, ...] = ()


def plan_for(
    law: Law,
    grid: ShapeGrid,
    constraints: ShapeConstraints,
    width: int,
    depth: int,
    *,
    wall_seconds: float,
    price_per_gpu_hour: float | None = None,
) -> Plan:
    """Shape ``width x depth`` trained for ``wall_seconds`` on the grid's GPUs."""
    family = constraints.family(law.family)
    shape = make_shape(law, family, width, depth)
    spt = float(_at(grid, grid.seconds_per_token, width, depth))
    s = float(_at(grid, grid.shape_terms, width, depth))
    tokens = wall_seconds / spt
    gpu_hours = wall_seconds * grid.n_gpus / 3600.0
    return Plan(
        shape=shape,
        params=shape.params_law,
        tokens=tokens,
        loss=s + grid.B * tokens**-grid.beta,
        flops=shape.flops_per_token * tokens,
        gpu_hours=gpu_hours,
        wall_clock_hours=wall_seconds / 3600.0,
        dollars=None if price_per_gpu_hour is None else gpu_hours * price_per_gpu_hour,
        seconds_per_step=spt * grid.batch_tokens,
        model_flops_per_gpu=shape.flops_per_token / spt / grid.n_gpus,
    )


def _at(grid: ShapeGrid, values: np.ndarray, width: int, depth: int) -> float:
    return float(values[grid_index(grid, width, depth)])


def _flop_optimal_shape(
    law: Law,
    grid: ShapeGrid,
    constraints: ShapeConstraints,
    start: tuple[int, int],
    wall_seconds: float,
) -> tuple[int, int]:
    """The shape the law picks for the FLOPs it trains in ``wall_seconds`` (fixed point:
    budget -> FLOP-optimal shape -> that shape's FLOPs in the time -> ...)."""
    current, seen = start, {start}
    for _ in range(16):
        w, d = current
        tokens = wall_seconds / _at(grid, grid.seconds_per_token, w, d)
        budget = _at(grid, grid.flops_per_token, w, d) * tokens
        path = frontier(law, np.array([budget]), constraints=constraints)
        current = (int(path.width[0]), int(path.depth[0]))
        if current in seen:
            break
        seen.add(current)
    return current


def _n_gpus(gpu_hours: float, n_gpus: int | None, deadline_hours: float | None) -> int:
    if n_gpus is not None and deadline_hours is not None:
        raise ArgumentError("deadline_hours", "give n_gpus or deadline_hours, not both")
    if deadline_hours is not None:
        deadline = positive("deadline_hours", deadline_hours)
        return max(1, math.ceil(gpu_hours / deadline * (1 - 1e-12)))
    if n_gpus is None:
        raise ArgumentError("n_gpus", "a GPU-hour budget needs n_gpus or deadline_hours")
    return check_n_gpus(n_gpus)


def check_n_gpus(n_gpus: int) -> int:
    """``n_gpus`` if it is a positive integer; ``ArgumentError('n_gpus')`` otherwise."""
    if isinstance(n_gpus, bool) or not isinstance(n_gpus, int) or n_gpus < 1:
        raise ArgumentError("n_gpus", f"must be a positive integer, got {n_gpus!r}")
    return n_gpus


def check_batch(family: ArchFamily, batch_tokens: float, n_gpus: int) -> None:
    """Every GPU needs at least one sequence of the batch."""
    if batch_tokens / n_gpus < family.seq_len:
        raise ArgumentError(
            "n_gpus",
            f"{n_gpus} GPUs leave less than one {family.seq_len}-token sequence of the "
            f"{batch_tokens:.4g}-token batch per GPU",
        )


def _check_gpus_for_batch(
    family: ArchFamily, batch: float, n_gpus: int, deadline_hours: float | None
) -> None:
    try:
        check_batch(family, batch, n_gpus)
    except ArgumentError as exc:
        if deadline_hours is None:
            raise
        raise ArgumentError("deadline_hours", f"needs {n_gpus} GPUs: {exc.message}") from None


def allocate_hours(
    law: Law,
    model: ThroughputModel,
    gpu_hours: float,
    *,
    n_gpus: int | None = None,
    deadline_hours: float | None = None,
    batch_tokens: float | None = None,
    constraints: ShapeConstraints | None = None,
    price_per_gpu_hour: float | None = None,
) -> TimeAllocation:
    """Time-optimal and FLOP-optimal plans for ``gpu_hours`` on ``n_gpus`` GPUs.

    Parameters
    ----------
    gpu_hours : budget in GPU-hours of ``model``'s device.
    n_gpus, deadline_hours : the GPUs in parallel, or a wall-clock deadline (then
        ``n_gpus = ceil(gpu_hours / deadline_hours)``); exactly one.
    batch_tokens : global batch per step; ``model.batch_tokens`` by default.

    Raises ``ArgumentError`` naming the bad argument (a law without a
    ``S + B T^-beta`` loss, a budget shorter than one step, too many GPUs for the batch).
    """
    hours = positive("gpu_hours", gpu_hours)
    price = optional_positive("price_per_gpu_hour", price_per_gpu_hour)
    g = _n_gpus(hours, n_gpus, deadline_hours)
    batch = model.batch_tokens if batch_tokens is None else positive("batch_tokens", batch_tokens)
    constraints = constraints or DEFAULT_CONSTRAINTS
    _check_gpus_for_batch(constraints.family(law.family), batch, g, deadline_hours)
    grid = shape_grid(law, model, constraints, g, batch)
    wall = hours * 3600.0 / g
    i = fastest_index(law, model, constraints, g, batch, wall)
    best = (int(grid.width[i]), int(grid.depth[i]))
    fast = plan_for(law, grid, constraints, *best, wall_seconds=wall, price_per_gpu_hour=price)
    if fast.tokens < batch:
        raise ArgumentError(
            "gpu_hours" if deadline_hours is None else "deadline_hours",
            f"{wall:.4g} s on {g} GPUs is shorter than one training step "
            f"({fast.seconds_per_step:.4g} s for {best[0]} x {best[1]})",
        )
    flop_shape = _flop_optimal_shape(law, grid, constraints, best, wall)
    lean = plan_for(
        law, grid, constraints, *flop_shape, wall_seconds=wall, price_per_gpu_hour=price
    )
    return TimeAllocation(
        law_id=law.id,
        law_version=law.version,
        throughput_id=model.id,
        throughput_version=model.version,
        gpu=model.gpu,
        n_gpus=g,
        batch_tokens=batch,
        gpu_hours=hours,
        time_optimal=fast,
        flop_optimal=lean,
        warnings=_outside(model, (fast, lean), g, batch),
    )


def _outside(
    model: ThroughputModel, plans: tuple[Plan, ...], n_gpus: int, batch: float
) -> tuple[str, ...]:
    """Each distinct warning about a plan outside the model's fitted range."""
    warnings: dict[str, None] = {}
    for plan in plans:
        for text in model.domain.outside(
            width=plan.shape.width,
            depth=plan.shape.depth,
            n_gpus=n_gpus,
            tokens_per_gpu=batch / n_gpus,
        ):
            warnings[text] = None
    return tuple(warnings)

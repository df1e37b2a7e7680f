"""Overspend: how many more FLOPs and GPU-hours a shape needs than the optimum to reach
a loss (McLeish et al. 2025, Gemstones §4, Fig. 7).

Under ``L = S(w, d) + B T^-beta`` a shape reaches a target loss ``L*`` after
``T = (B / (L* - S))^(1/beta)`` tokens (never, when ``S >= L*``): it costs
``f(w, d) T`` FLOPs and ``t(w, d) T g / (3600 b)`` GPU-hours. The optimum of each is the
minimum over every feasible shape; a shape's overspend is its cost over that minimum.
Skinny models overspend hours by more than FLOPs: they need more tokens *and* run
each token slower.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Self

import numpy as np

from flopwise.fitting.allocation import DEFAULT_CONSTRAINTS
from flopwise.fitting.checks import known_fields, positive
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.laws import Law
from flopwise.fitting.shape import ShapeConstraints
from flopwise.fitting.throughput.grid import ShapeGrid, grid_index, shape_grid
from flopwise.fitting.throughput.model import ThroughputModel
from flopwise.fitting.throughput.time_optimal import check_batch, check_n_gpus

__all__ = ["Costs", "Overspend", "overspend", "overspend_map", "tokens_to_reach"]


def tokens_to_reach(target_loss: Any, shape_terms: Any, B: float, beta: float) -> Any:
    """Tokens a shape with shape terms ``S`` needs to reach ``target_loss``:
    ``(B / (L* - S))^(1/beta)``, infinite where ``S >= L*``; vectorised."""
    gap = np.asarray(target_loss, dtype=float) - np.asarray(shape_terms, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(gap > 0, np.power(B / np.where(gap > 0, gap, 1.0), 1.0 / beta), np.inf)


@dataclass(frozen=True)
class Costs:
    """What one shape costs to reach the target loss."""

    width: int
    depth: int
    tokens: float
    flops: float
    gpu_hours: float


@dataclass(frozen=True)
class Overspend:
    """A shape's cost to reach a loss, against the FLOP- and time-optimal shapes."""

    law_id: str
    law_version: int
    throughput_id: str
    throughput_version: int
    target_loss: float
    n_gpus: int
    batch_tokens: float
    shape: Costs
    flop_optimal: Costs
    time_optimal: Costs
    flops_overspend: float
    """Shape's FLOPs over the fewest FLOPs any shape needs."""
    gpu_hours_overspend: float
    """Shape's GPU-hours over the fewest GPU-hours any shape needs."""
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        for key in ("shape", "flop_optimal", "time_optimal"):
            out[key] = dict(vars(out[key]))
        out["law"] = {"id": out.pop("law_id"), "version": out.pop("law_version")}
        out["throughput"] = {
            "id": out.pop("throughput_id"),
            "version": out.pop("throughput_version"),
        }
        out["warnings"] = list(self.warnings)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Inverse of :meth:`to_dict` (an HTTP API answer reads the same way); keys it
        does not know are ignored."""
        kwargs = known_fields(Overspend, data)
        for key in ("shape", "flop_optimal", "time_optimal"):
            kwargs[key] = Costs(**known_fields(Costs, data[key]))
        kwargs["law_id"], kwargs["law_version"] = data["law"]["id"], data["law"]["version"]
        throughput = data["throughput"]
        kwargs["throughput_id"], kwargs["throughput_version"] = (
            throughput["id"],
            throughput["version"],
        )
        kwargs["warnings"] = tuple(data.get("warnings", ()))
        return cls(**kwargs)


def _spend(grid: ShapeGrid, tokens: Any, at: Any = slice(None)) -> tuple[Any, Any]:
    """FLOPs and GPU-hours of training the shapes ``at`` for ``tokens``."""
    hours = grid.seconds_per_token[at] * tokens * grid.n_gpus / 3600.0
    return grid.flops_per_token[at] * tokens, hours


def _costs(grid: ShapeGrid, target: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tokens = tokens_to_reach(target, grid.shape_terms, grid.B, grid.beta)
    tokens = np.where(grid.allowed, tokens, np.inf)
    return (tokens, *_spend(grid, tokens))


def _grid(
    law: Law,
    model: ThroughputModel,
    n_gpus: int,
    batch_tokens: float | None,
    constraints: ShapeConstraints | None,
    widths: np.ndarray,
    depths: np.ndarray,
) -> ShapeGrid:
    """The checked arguments' shape grid (every width and depth must lie in it)."""
    check_n_gpus(n_gpus)
    constraints = constraints or DEFAULT_CONSTRAINTS
    family = constraints.family(law.family)
    batch = model.batch_tokens if batch_tokens is None else positive("batch_tokens", batch_tokens)
    check_batch(family, batch, n_gpus)
    _check_shapes(constraints, family.width_step, widths, depths)
    return shape_grid(law, model, constraints, n_gpus, batch)


def _target(grid: ShapeGrid, target_loss: float | None, flops: float | None) -> float:
    if (target_loss is None) == (flops is None):
        raise ArgumentError("target_loss", "give exactly one of target_loss or flops")
    if target_loss is not None:
        return positive("target_loss", target_loss)
    budget = positive("flops", flops)  # type: ignore[arg-type]
    ok = grid.allowed
    losses = grid.shape_terms[ok] + grid.B * np.power(budget / grid.flops_per_token[ok], -grid.beta)
    return float(losses.min())


def overspend(
    law: Law,
    model: ThroughputModel,
    width: int,
    depth: int,
    *,
    n_gpus: int,
    target_loss: float | None = None,
    flops: float | None = None,
    batch_tokens: float | None = None,
    constraints: ShapeConstraints | None = None,
) -> Overspend:
    """FLOPs and GPU-hours ``width x depth`` needs to reach a loss, against the optima.

    The loss is ``target_loss``, or the lowest any shape reaches with ``flops`` FLOPs.
    Raises ``ArgumentError`` naming the argument: a shape outside ``constraints``, a
    target no shape (or not this shape) can reach.
    """
    grid = _grid(
        law, model, n_gpus, batch_tokens, constraints, np.array([width]), np.array([depth])
    )
    target = _target(grid, target_loss, flops)
    tokens, all_flops, all_hours = _costs(grid, target)
    if not np.isfinite(tokens).any():
        raise ArgumentError("target_loss", f"no shape reaches loss {target:.4g} under {law.id}")
    index = grid_index(grid, width, depth)
    mine = _shape_costs(grid, target, width, depth, index)
    best_f = _pick(grid, tokens, all_flops, all_hours, int(np.argmin(all_flops)))
    best_h = _pick(grid, tokens, all_flops, all_hours, int(np.argmin(all_hours)))
    _check_costs(target, mine, best_f, best_h)
    warnings = model.domain.outside(
        width=width, depth=depth, n_gpus=n_gpus, tokens_per_gpu=grid.batch_tokens / n_gpus
    )
    if not grid.allowed[index]:
        warnings.append(f"{law.id} has no width/depth terms: it is trusted only at width/depth "
                        "20-200, and this shape is outside that band")  # fmt: skip
    return Overspend(
        law_id=law.id,
        law_version=law.version,
        throughput_id=model.id,
        throughput_version=model.version,
        target_loss=target,
        n_gpus=n_gpus,
        batch_tokens=grid.batch_tokens,
        shape=mine,
        flop_optimal=best_f,
        time_optimal=best_h,
        flops_overspend=mine.flops / best_f.flops,
        gpu_hours_overspend=mine.gpu_hours / best_h.gpu_hours,
        warnings=tuple(warnings),
    )


def _shape_costs(grid: ShapeGrid, target: float, width: int, depth: int, index: int) -> Costs:
    """What ``width x depth`` (allowed or not) costs to reach ``target``."""
    floor = float(grid.shape_terms[index])
    if floor >= target:
        raise ArgumentError(
            "target_loss",
            f"{width} x {depth} never reaches loss {target:.4g} (its floor is {floor:.4g})",
        )
    tokens = float(tokens_to_reach(target, floor, grid.B, grid.beta))
    flops, hours = _spend(grid, tokens, index)
    return Costs(width, depth, tokens, float(flops), float(hours))


def _check_costs(target: float, *costs: Costs) -> None:
    """Each cost is a finite training of at least one token, so the overspends are finite
    ratios: a loss so high that a shape reaches it within a fraction of a token (or one
    so close to a floor that reaching it overflows) has no training cost to compare."""
    for c in costs:
        if not (math.isfinite(c.flops) and math.isfinite(c.gpu_hours)):
            raise ArgumentError(
                "target_loss",
                f"{c.width} x {c.depth} needs more than {sys.float_info.max:.3g} FLOPs to "
                f"reach loss {target:.4g}",
            )
        if not c.tokens >= 1.0:
            raise ArgumentError(
                "target_loss",
                f"{c.width} x {c.depth} reaches loss {target:.4g} within {c.tokens:.3g} "
                "tokens, under one: no training cost to compare (ask for a lower loss)",
            )


def _check_shapes(
    constraints: ShapeConstraints, step: int, widths: np.ndarray, depths: np.ndarray
) -> None:
    """Every width and depth is feasible; else ``ArgumentError`` on the first that is not."""
    c = constraints
    bad = depths[(depths < c.min_depth) | (depths > c.max_depth)]
    if bad.size:
        raise ArgumentError("depth", f"must be in [{c.min_depth}, {c.max_depth}], got {bad[0]}")
    bad = widths[(widths % step != 0) | (widths < c.min_width) | (widths > c.max_width)]
    if bad.size:
        raise ArgumentError(
            "width",
            f"must be a multiple of {step} in [{c.min_width}, {c.max_width}], got {bad[0]}",
        )


def _pick(
    grid: ShapeGrid, tokens: np.ndarray, flops: np.ndarray, hours: np.ndarray, i: int
) -> Costs:
    return Costs(
        width=int(grid.width[i]),
        depth=int(grid.depth[i]),
        tokens=float(tokens[i]),
        flops=float(flops[i]),
        gpu_hours=float(hours[i]),
    )


def overspend_map(
    law: Law,
    model: ThroughputModel,
    widths: np.ndarray,
    depths: np.ndarray,
    *,
    target_loss: float,
    n_gpus: int,
    batch_tokens: float | None = None,
    constraints: ShapeConstraints | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """FLOP and GPU-hour overspend of every (depth, width) pair: two (depths, widths)
    arrays, infinite where the shape never reaches ``target_loss`` (for Fig. 7 plots)."""
    widths, depths = np.asarray(widths, dtype=np.int64), np.asarray(depths, dtype=np.int64)
    grid = _grid(law, model, n_gpus, batch_tokens, constraints, widths, depths)
    target = positive("target_loss", target_loss)
    tokens, all_flops, all_hours = _costs(grid, target)
    if not np.isfinite(tokens).any():
        raise ArgumentError("target_loss", f"no shape reaches loss {target:.4g}")
    best_f = _pick(grid, tokens, all_flops, all_hours, int(np.argmin(all_flops)))
    best_h = _pick(grid, tokens, all_flops, all_hours, int(np.argmin(all_hours)))
    _check_costs(target, best_f, best_h)
    idx = grid_index(grid, widths[None, :], depths[:, None])
    return all_flops[idx] / best_f.flops, all_hours[idx] / best_h.gpu_hours

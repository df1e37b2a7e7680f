"""Every feasible shape with its loss terms, FLOPs and step time: the table the
time-optimal plans (``time_optimal``) and the overspends (``overspend``) search.

A shape's step time on ``g`` GPUs with a batch of ``b`` tokens is
``max(b/g compute + fixed + comm ring(g), b/g ideal)`` (``model.step_time``), where
``compute``, ``ideal``, ``fixed`` and ``comm`` depend on the shape alone. So the table
is cached in two parts, each in a cache bounded in the bytes it holds
(``fitting.caches.BytesCache``):

* the shapes (:class:`Shapes`), per (law, throughput model, constraints): widths,
  depths, shape terms ``S(w, d)``, FLOPs per token and those step-time terms: about
  65 bytes a shape, 65 MB for the largest grid (1,048,576 shapes), counted once;
* the timing (:class:`Timing`), per GPU count and batch as well: seconds per token and
  its ``beta``-th power, derived from the shapes in a few vector operations (about 2 ms
  for the default 131,072 shapes, 15 ms for the largest grid).

A new GPU count therefore never recounts the shapes, and a time-optimal answer for one
budget is one ``argmin`` over the grid: the lowest ``S + B (W / t)^-beta``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from flopwise.fitting.caches import BytesCache
from flopwise.fitting.counting import ArchFamily
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.forms import law_form
from flopwise.fitting.laws import Law, NDefinition
from flopwise.fitting.shape import ShapeConstraints, law_flops_per_token, law_params
from flopwise.fitting.throughput.model import StepTerms, ThroughputModel, step_terms, step_time

__all__ = [
    "ASPECT_BAND",
    "SHAPES_BYTES",
    "TIMING_BYTES",
    "ShapeGrid",
    "Shapes",
    "Timing",
    "clear_grids",
    "data_term",
    "fastest_index",
    "grid_cached",
    "grid_index",
    "shape_grid",
    "shape_terms",
]

ASPECT_BAND = (20.0, 200.0)
"""Width/depth where a law blind to shape may be trusted: Kaplan et al. 2020 (§3.1,
Fig. 5) found loss flat in the aspect ratio only between about 20 and 200. Outside it,
a Chinchilla-form law would send hours to depth-1 models because they run fastest."""
SHAPES_BYTES = 128 * 1024 * 1024
"""Bytes of :class:`Shapes` kept: one of the largest grids (65 MB) and a few smaller, or
fifteen of the default 131,072 shapes (8.5 MB each)."""
TIMING_BYTES = 64 * 1024 * 1024
"""Bytes of :class:`Timing` kept: four of the largest grids, or 32 default ones."""


@dataclass(frozen=True)
class Shapes:
    """Every feasible shape of a (law, throughput model, constraints), depth-major."""

    width: np.ndarray
    depth: np.ndarray
    shape_terms: np.ndarray
    """``S(w, d)``: the loss with infinitely many tokens."""
    flops_per_token: np.ndarray
    """As the law counts C."""
    allowed: np.ndarray
    """Shapes the law may be trusted at (all, or :data:`ASPECT_BAND` for Chinchilla forms)."""
    allowed_terms: np.ndarray
    """``shape_terms`` where allowed, ``inf`` elsewhere: what a search ranks."""
    step: StepTerms
    B: float
    beta: float
    n_widths: int
    """Widths per depth."""


@dataclass(frozen=True)
class Timing:
    """Seconds per token of every shape on one GPU count and batch."""

    seconds_per_token: np.ndarray
    cost: np.ndarray
    """``seconds_per_token ** beta``: a time-optimal answer's loss is ``S + B W^-beta cost``."""


@dataclass(frozen=True)
class ShapeGrid:
    """Every feasible shape with its shape terms, FLOPs per token and step time."""

    width: np.ndarray
    depth: np.ndarray
    shape_terms: np.ndarray
    """``S(w, d)``: the loss with infinitely many tokens."""
    flops_per_token: np.ndarray
    """As the law counts C."""
    seconds_per_token: np.ndarray
    """Wall-clock seconds per token on the ``n_gpus`` GPUs: step time over batch."""
    allowed: np.ndarray
    """Shapes the law may be trusted at (all, or :data:`ASPECT_BAND` for Chinchilla forms)."""
    B: float
    beta: float
    n_gpus: int
    batch_tokens: float
    n_widths: int
    """Widths per depth (the grid is depth-major)."""


def _core(law: Law) -> dict[str, float] | None:
    """The Chinchilla core of a law whose loss is ``E + A/N^alpha + B/T^beta`` with no
    repeated-data terms (``None`` for shape-aware and other forms)."""
    form = law_form(law)
    return None if form.repeated_data else form.chinchilla_constants(law)


def data_term(law: Law) -> tuple[float, float]:
    """``(B, beta)`` of the token term ``B / T^beta`` every time-optimal law has."""
    k = _core(law) or law.constants
    return float(k["B"]), float(k["beta"])


def shape_terms(law: Law, family: ArchFamily, width: Any, depth: Any) -> Any:
    """``S(w, d)``: the law's loss at infinite tokens (shape and parameter terms)."""
    core = _core(law)
    if core is None and not law_form(law).shape_aware:
        raise ArgumentError(
            "law",
            f"{law.id} ({law.form}) has no loss of the form S(shape) + B/T^beta; "
            "time-optimal answers need a chinchilla-core or width-depth law",
        )
    w, d = np.asarray(width, dtype=float), np.asarray(depth, dtype=float)
    if core is not None:
        n = np.asarray(law_params(law.n_definition, family, width, depth), dtype=float)
        return core["E"] + core["A"] / np.power(n, core["alpha"])
    total = np.asarray(law_params(NDefinition.TOTAL, family, width, depth), dtype=float)
    return law_form(law).shape_terms(law.constants, w, d, total)


def _allowed(law: Law, width: np.ndarray, depth: np.ndarray) -> np.ndarray:
    if law_form(law).shape_aware:
        return np.ones(width.shape, dtype=bool)
    aspect = width / depth
    return (aspect >= ASPECT_BAND[0]) & (aspect <= ASPECT_BAND[1])


def _frozen(value: Any) -> Any:
    """``value`` with its arrays (and its dataclass fields' arrays) read-only."""
    for f in fields(value):
        item = getattr(value, f.name)
        if isinstance(item, np.ndarray):
            item.setflags(write=False)
        elif hasattr(item, "__dataclass_fields__"):
            _frozen(item)
    return value


def _count_shapes(law: Law, model: ThroughputModel, constraints: ShapeConstraints) -> Shapes:
    family = constraints.family(law.family)
    widths = constraints.widths(family)
    depths = np.arange(constraints.min_depth, constraints.max_depth + 1, dtype=np.int64)
    w, d = (g.ravel() for g in np.meshgrid(widths, depths))
    terms = np.asarray(shape_terms(law, family, w, d), dtype=float)  # refuses other forms
    allowed = _allowed(law, w, d)
    step = step_terms(model, family, w, d)
    B, beta = data_term(law)
    return _frozen(
        Shapes(
            width=w.astype(np.int32),
            depth=d.astype(np.int32),
            shape_terms=terms,
            flops_per_token=np.asarray(law_flops_per_token(law, family, w, d), dtype=float),
            allowed=allowed,
            allowed_terms=np.where(allowed, terms, np.inf),
            step=StepTerms(*(np.asarray(v, dtype=float) for v in vars(step).values())),
            B=B,
            beta=beta,
            n_widths=int(widths.size),
        )
    )


_SHAPES: BytesCache[tuple[Law, ThroughputModel, ShapeConstraints], Shapes]
_SHAPES = BytesCache(SHAPES_BYTES)
_TIMING: BytesCache[tuple[Law, ThroughputModel, ShapeConstraints, int, float], Timing]
_TIMING = BytesCache(TIMING_BYTES)


def _shapes(law: Law, model: ThroughputModel, constraints: ShapeConstraints) -> Shapes:
    return _SHAPES.get((law, model, constraints), lambda: _count_shapes(law, model, constraints))


def _time(shapes: Shapes, n_gpus: int, batch_tokens: float) -> Timing:
    step = step_time(shapes.step, tokens_per_gpu=batch_tokens / n_gpus, n_gpus=n_gpus)
    seconds = np.asarray(step, dtype=float) / batch_tokens
    return _frozen(Timing(seconds_per_token=seconds, cost=np.power(seconds, shapes.beta)))


def _timing(
    law: Law, model: ThroughputModel, constraints: ShapeConstraints, n_gpus: int, batch: float
) -> tuple[Shapes, Timing]:
    shapes = _shapes(law, model, constraints)
    key = (law, model, constraints, n_gpus, batch)
    return shapes, _TIMING.get(key, lambda: _time(shapes, n_gpus, batch))


def grid_cached(law: Law, model: ThroughputModel, constraints: ShapeConstraints) -> bool:
    """Whether the shapes of ``(law, model, constraints)`` are counted (then any GPU count
    is a few milliseconds away; counting them may take a second)."""
    return (law, model, constraints) in _SHAPES


def clear_grids() -> None:
    """Forget every cached grid (for benchmarks of a cold start)."""
    _SHAPES.clear()
    _TIMING.clear()


def shape_grid(
    law: Law,
    model: ThroughputModel,
    constraints: ShapeConstraints,
    n_gpus: int,
    batch_tokens: float,
) -> ShapeGrid:
    """Every feasible shape of ``(law, model, constraints)`` timed on ``n_gpus`` GPUs at a
    batch of ``batch_tokens`` (both parts cached, see the module docstring)."""
    shapes, timing = _timing(law, model, constraints, n_gpus, batch_tokens)
    return ShapeGrid(
        width=shapes.width,
        depth=shapes.depth,
        shape_terms=shapes.shape_terms,
        flops_per_token=shapes.flops_per_token,
        seconds_per_token=timing.seconds_per_token,
        allowed=shapes.allowed,
        B=shapes.B,
        beta=shapes.beta,
        n_gpus=n_gpus,
        batch_tokens=batch_tokens,
        n_widths=shapes.n_widths,
    )


def fastest_index(
    law: Law,
    model: ThroughputModel,
    constraints: ShapeConstraints,
    n_gpus: int,
    batch_tokens: float,
    wall_seconds: float,
) -> int:
    """Index in :func:`shape_grid` of the allowed shape with the lowest loss after
    ``wall_seconds`` of training: ``S + B (W / t)^-beta``, minimised over every shape."""
    shapes, timing = _timing(law, model, constraints, n_gpus, batch_tokens)
    k = shapes.B * wall_seconds**-shapes.beta
    best = int(np.argmin(shapes.allowed_terms + k * timing.cost))
    if not shapes.allowed[best]:  # every shape's loss is inf: none is allowed
        raise ArgumentError(
            "constraints",
            f"no allowed shape has width/depth in {ASPECT_BAND}, where {law.id} holds",
        )
    return best


def grid_index(grid: ShapeGrid, width: Any, depth: Any) -> Any:
    """Where feasible shapes sit in the grid (widths vary fastest within a depth): an
    ``int`` for one shape, an array of them for arrays of widths and depths."""
    row = np.asarray(depth, dtype=np.int64) - int(grid.depth[0])
    index = row * grid.n_widths + np.searchsorted(grid.width[: grid.n_widths], width)
    return int(index) if np.ndim(index) == 0 else index

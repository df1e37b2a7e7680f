"""Compute-optimal allocation: for a budget and a law, N*, D*, the predicted loss, a shape.

``allocate`` answers one budget; ``frontier`` answers many at once (vectorised).
The budget is spent under the law's own C definition (6ND with the law's N, M x D,
or the Gemstones counter); each law form computes its own optimum (:func:`optimum`
asks it), the shape search is in ``fitting.shape``. An answer carries a concrete shape with its exact
counts, a batch size and learning rate (DeepSeek's unless another hyper-parameter law is
named: ``fitting.hyperlaws``), intervals from the law's bootstrap draws and warnings
(extrapolation, shape misses).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Self

import numpy as np

from flopwise.fitting.caveats import SHAPE_COST_TOLERANCE, answer_caveats, shape_cost_caveat
from flopwise.fitting.checks import known_fields, optional_positive
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.forms import draw_constants, law_form
from flopwise.fitting.hyperlaws import (
    BUILTIN_HYPER_LAWS,
    DEFAULT_HYPER_LAW,
    HyperLaw,
    shape_hyperparameters,
)
from flopwise.fitting.hyperparams import Hyperparameters
from flopwise.fitting.laws import CDefinition, Law, NDefinition
from flopwise.fitting.prediction import loss_band, predict
from flopwise.fitting.shape import (
    Shape,
    ShapeConstraints,
    law_flops_per_token,
    law_params,
    make_shape,
    shapes_for_params,
)
from flopwise.fitting.stats import DEFAULT_LEVEL, check_level

__all__ = [
    "MAX_FLOPS",
    "MIN_TOKENS_PER_PARAM",
    "Allocation",
    "Frontier",
    "allocate",
    "frontier",
    "frontier_caveats",
    "optimum",
    "refuse_too_small",
]

MAX_FLOPS = 1e35
"""Budgets above this are refused as absurd (about 1e10 x today's largest runs)."""

DEFAULT_CONSTRAINTS = ShapeConstraints()


@dataclass(frozen=True)
class Allocation:
    """The answer for one budget: what to train, what it should reach, and caveats."""

    law_id: str
    law_version: int
    flops: float
    """The budget in FLOPs, as the law counts C (training plus inference when given)."""
    params: float
    """N* as the law counts N, a parameter count; for a law whose N is not one
    (DeepSeek's M, FLOPs per token) the chosen shape's total parameters, N* itself in
    :attr:`model_scale`."""
    tokens: float
    """D*, training tokens."""
    loss: float | None
    loss_interval: tuple[float, float] | None
    tokens_per_param: float
    shape: Shape | None
    hyperparameters: Hyperparameters | None
    n_definition: str
    c_definition: str
    training_flops: float
    inference_flops: float
    params_interval: tuple[float, float] | None = None
    tokens_interval: tuple[float, float] | None = None
    unique_tokens: float | None = None
    epochs: float | None = None
    warnings: tuple[str, ...] = ()
    curve_interval: tuple[float, float] | None = None
    """The mean curve's bootstrap band; ``loss_interval`` is where a new run will fall."""
    level: float = DEFAULT_LEVEL
    caveats: tuple[str, ...] = ()
    model_scale: float | None = None
    """N* of a law that counts N as DeepSeek's model scale M (non-embedding FLOPs per
    token); ``None`` for laws whose N is a parameter count."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types, laid out as the CLI and the HTTP API answer (``law`` is
        ``{"id", "version"}``; intervals are lists)."""
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["law"] = {"id": out.pop("law_id"), "version": out.pop("law_version")}
        for key in ("shape", "hyperparameters"):
            if out[key] is not None:
                out[key] = dict(vars(out[key]))
        for key in ("loss_interval", "curve_interval", "params_interval", "tokens_interval"):
            if out[key] is not None:
                out[key] = list(out[key])
        out["warnings"] = list(self.warnings)
        out["caveats"] = list(self.caveats)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Inverse of :meth:`to_dict` (an HTTP API answer reads the same way): keys it
        does not know are ignored, so a newer server's answer still reads. The API
        leaves DeepSeek's ``compute`` out of ``hyperparameters``; it reads as NaN."""
        kwargs = known_fields(Allocation, data)
        kwargs["law_id"], kwargs["law_version"] = data["law"]["id"], data["law"]["version"]
        if kwargs.get("shape") is not None:
            kwargs["shape"] = Shape(**known_fields(Shape, kwargs["shape"]))
        if kwargs.get("hyperparameters") is not None:
            hyper = known_fields(
                Hyperparameters, {"compute": math.nan, **kwargs["hyperparameters"]}
            )
            for key in ("learning_rate_interval", "batch_size_interval"):
                if hyper.get(key) is not None:
                    hyper[key] = tuple(hyper[key])
            hyper["caveats"] = tuple(hyper.get("caveats", ()))
            kwargs["hyperparameters"] = Hyperparameters(**hyper)
        for key in ("loss_interval", "curve_interval", "params_interval", "tokens_interval"):
            if kwargs.get(key) is not None:
                kwargs[key] = tuple(kwargs[key])
        for key in ("warnings", "caveats"):
            kwargs[key] = tuple(kwargs.get(key, ()))
        return cls(**kwargs)


@dataclass(frozen=True)
class Frontier:
    """Optimal path over many budgets (arrays of equal length)."""

    law_id: str
    law_version: int
    flops: np.ndarray
    params: np.ndarray
    tokens: np.ndarray
    loss: np.ndarray | None
    width: np.ndarray
    depth: np.ndarray
    shape_params: np.ndarray
    shape_flops_per_token: np.ndarray


def optimum(
    law: Law,
    flops: np.ndarray,
    constraints: ShapeConstraints,
    unique_tokens: float | None,
    inference_tokens: float | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, tuple[np.ndarray, np.ndarray] | None]:
    """(N*, D*, loss or None, (width, depth) when the law chooses the shape itself) at
    each budget: closed forms where they exist (Chinchilla Eq. 4, Kaplan Table 6, power
    laws), a vectorised golden-section search in log N for data-constrained (Muennighoff
    et al.) and inference-aware (Sardana et al.) optima, the convex hull over every
    feasible shape for width-depth laws; each form says which."""
    return law_form(law).optimum(law, flops, constraints, unique_tokens, inference_tokens)


def _check_budget(flops: np.ndarray) -> np.ndarray:
    flops = np.atleast_1d(np.asarray(flops, dtype=float))
    if flops.size == 0:
        raise ArgumentError("flops", "no budget given")
    if not np.all(np.isfinite(flops)) or np.any(flops <= 0):
        raise ArgumentError("flops", "must be positive and finite")
    if np.any(flops > MAX_FLOPS):
        raise ArgumentError("flops", f"must be at most {MAX_FLOPS:.0e}")
    return flops


def frontier(
    law: Law,
    flops: np.ndarray,
    *,
    constraints: ShapeConstraints | None = None,
    unique_tokens: float | None = None,
    inference_tokens: float | None = None,
) -> Frontier:
    """The optimal path over many budgets at once."""
    flops = _check_budget(flops)
    constraints = constraints or DEFAULT_CONSTRAINTS
    unique_tokens = optional_positive("unique_tokens", unique_tokens)
    inference_tokens = optional_positive("inference_tokens", inference_tokens)
    n, d, loss, wd = optimum(law, flops, constraints, unique_tokens, inference_tokens)
    family = constraints.family(law.family)
    if wd is None:
        wd = shapes_for_params(law.n_definition, family, n, constraints)
    w, dep = wd
    fpt = np.asarray(law_flops_per_token(law, family, w, dep), dtype=float)
    if law.c_definition is CDefinition.GEMSTONES:
        d = flops / fpt
    return Frontier(
        law_id=law.id,
        law_version=law.version,
        flops=flops,
        params=np.asarray(n, dtype=float),
        tokens=np.asarray(d, dtype=float),
        loss=None if loss is None else np.asarray(loss, dtype=float),
        width=w,
        depth=dep,
        shape_params=law_params(NDefinition.TOTAL, family, w, dep).astype(float),
        shape_flops_per_token=fpt,
    )


def _warnings(
    law: Law, shape: Shape | None, constraints: ShapeConstraints, wd_law: bool
) -> list[str]:
    """Notes on the answer itself (the reasons to doubt its numbers are its caveats,
    ``fitting.caveats``)."""
    out: list[str] = []
    if shape is not None and wd_law:
        edges = []
        if shape.depth in (constraints.min_depth, constraints.max_depth):
            edges.append(f"depth {shape.depth}")
        widths = constraints.widths(constraints.family(law.family))
        if shape.width in (widths[0], widths[-1]):
            edges.append(f"width {shape.width}")
        if edges:
            out.append(f"the optimum sits on the edge of the allowed shapes ({', '.join(edges)})")
    out.extend(law_form(law).allocation_notes(law))
    if not law.verified:
        out.append(f"{law.id} is not verified against its source")
    return out


def _smallest(law: Law, constraints: ShapeConstraints, width: Any, depth: Any) -> Any:
    """Whether each (width, depth) is the smallest feasible shape."""
    narrowest = int(constraints.widths(constraints.family(law.family))[0])
    return (np.asarray(depth) == constraints.min_depth) & (np.asarray(width) == narrowest)


MIN_TOKENS_PER_PARAM = 1.0
"""A budget that trains even the smallest feasible shape on fewer tokens per parameter
than this is refused: no shape can usefully spend it."""


def _below_floor(
    law: Law, constraints: ShapeConstraints, shape: Shape, cost: float, budget: float
) -> bool:
    """Whether N* lies below the smallest feasible shape: the answer's shape is the
    smallest and, trained on the law's D*, costs more than the tolerance over the budget."""
    return bool(_smallest(law, constraints, shape.width, shape.depth)) and (
        cost > budget * (1.0 + SHAPE_COST_TOLERANCE)
    )


def refuse_too_small(
    law: Law,
    budgets: np.ndarray,
    costs: np.ndarray,
    width: np.ndarray,
    depth: np.ndarray,
    constraints: ShapeConstraints,
    *,
    name: str = "flops",
) -> None:
    """``ArgumentError(name)`` when a budget's shape is the smallest feasible one, costs
    (``costs``, trained on the answer's tokens) more than the budget, and the budget
    trains it on fewer than :data:`MIN_TOKENS_PER_PARAM` tokens per parameter: no shape
    can usefully spend it. (Where the budget trains it on more, ``allocate`` plans that
    shape on the tokens the budget buys and says so.)"""
    width, depth = np.asarray(width), np.asarray(depth)
    smallest = _smallest(law, constraints, width, depth)
    if not np.any(smallest):
        return
    family = constraints.family(law.family)
    total = np.asarray(law_params(NDefinition.TOTAL, family, width, depth), dtype=float)
    per_token = np.asarray(costs, dtype=float) / np.asarray(budgets, dtype=float)
    fpt = np.asarray(law_flops_per_token(law, family, width, depth), dtype=float)
    bought = np.asarray(budgets, dtype=float) / fpt
    over = (
        smallest
        & (per_token > 1.0 + SHAPE_COST_TOLERANCE)
        & (bought < MIN_TOKENS_PER_PARAM * total)
    )
    if np.any(over):
        i = int(np.argmax(over))
        raise ArgumentError(
            name,
            f"{float(np.asarray(budgets)[i]):.3g} FLOPs is too small for any feasible shape: "
            f"the smallest, {int(width[i])} x {int(depth[i])} ({total[i]:.3g} params), "
            f"would train on {bought[i]:.3g} tokens, under {MIN_TOKENS_PER_PARAM:g} per "
            "parameter (raise the budget, or allow smaller shapes: head_dim, vocab_size, "
            "min_width)",
        )


def frontier_caveats(law: Law, path: Frontier) -> tuple[str, ...]:
    """:func:`~fitting.caveats.answer_caveats` of a whole path, and one caveat when some
    points' shapes cost more than the tolerance off their budgets."""
    costs = path.shape_flops_per_token * path.tokens
    off = np.abs(costs / path.flops - 1.0) > SHAPE_COST_TOLERANCE
    out = answer_caveats(
        law,
        params=path.params,
        tokens=path.tokens,
        flops=path.flops,
        intervals=path.loss is not None,
    )
    if np.any(off):
        worst = int(np.argmax(np.abs(costs / path.flops - 1.0)))
        out += (
            f"at {int(off.sum())} of {len(off)} budgets the nearest feasible shape costs more "
            f"than {SHAPE_COST_TOLERANCE:.0%} off the budget (worst {costs[worst] / path.flops[worst]:.3g}x "
            f"at {path.flops[worst]:.3g} FLOPs): those points' losses are not the optimum's",
        )
    return out


def _draw_intervals(
    law: Law,
    flops: float,
    n: float,
    d: float,
    shape: Shape | None,
    unique: float | None,
    level: float,
) -> tuple[tuple[float, float] | None, tuple[float, float] | None, tuple[float, float] | None]:
    draws = draw_constants(law)
    if draws is None:
        return None, None, None
    return law_form(law).draw_bands(
        law, draws, flops=flops, n=n, d=d, shape=shape, unique_tokens=unique, level=level
    )


def allocate(
    law: Law,
    flops: float,
    *,
    constraints: ShapeConstraints | None = None,
    unique_tokens: float | None = None,
    inference_tokens: float | None = None,
    level: float = DEFAULT_LEVEL,
    hyperparameters: HyperLaw | None = None,
) -> Allocation:
    """Compute-optimal allocation of ``flops`` under ``law``.

    Parameters
    ----------
    flops : training budget in FLOPs as the law counts C; with ``inference_tokens``
        the budget covers training plus ``2 N D_inf`` inference FLOPs (Sardana et al.).
    constraints : shape limits and architecture overrides.
    unique_tokens : cap on unique data; repeated epochs are discounted (Muennighoff et al.).
    level : coverage of the intervals, in (0, 1): ``loss_interval`` (a new run's
        loss), ``curve_interval`` and N*, D* intervals (the law's bootstrap draws).
    hyperparameters : the law for the batch size and learning rate (DeepSeek's by
        default); the answer names it and says where the built-in ones disagree.

    Raises ``ValueError`` naming the bad argument. Example: ``allocate(epoch, 5.76e23)``
    gives N* = 7.225e10, D* = 1.329e12 (docs/laws.md §3.3).
    """
    flops_arr = _check_budget(np.atleast_1d(np.asarray(flops, dtype=float)))
    if flops_arr.size != 1:
        raise ArgumentError("flops", "allocate takes one budget; use frontier for many")
    c = float(flops_arr[0])
    unique_tokens = optional_positive("unique_tokens", unique_tokens)
    inference_tokens = optional_positive("inference_tokens", inference_tokens)
    level = check_level(level)
    constraints = constraints or DEFAULT_CONSTRAINTS
    n_arr, d_arr, loss_arr, wd = optimum(
        law, flops_arr, constraints, unique_tokens, inference_tokens
    )
    n, d = float(n_arr[0]), float(d_arr[0])
    family = constraints.family(law.family)
    wd_law = wd is not None
    if wd is None:
        wd = shapes_for_params(law.n_definition, family, n_arr, constraints)
    shape = make_shape(law, family, int(wd[0][0]), int(wd[1][0]))
    if law.c_definition is CDefinition.GEMSTONES and not wd_law:
        d = c / shape.flops_per_token  # the exact count needs the shape
    hyper_law = hyperparameters or BUILTIN_HYPER_LAWS[DEFAULT_HYPER_LAW]
    hyper = shape_hyperparameters(hyper_law, family, shape.width, shape.depth, d)
    loss = None if loss_arr is None else float(np.asarray(loss_arr)[0])
    curve, n_band, d_band = _draw_intervals(law, c, n, d, shape, unique_tokens, level)
    inference_flops = 2.0 * n * inference_tokens if inference_tokens else 0.0
    epochs = d / unique_tokens if unique_tokens else None
    m_star = n if law.n_definition is NDefinition.MODEL_SCALE else None  # N is M, not params
    training = c - 2.0 * n * (inference_tokens or 0.0)
    refuse_too_small(
        law, np.array([training]), np.array([shape.flops_per_token * d]),
        np.array([shape.width]), np.array([shape.depth]), constraints,
    )  # fmt: skip
    floor: tuple[str, ...] = ()
    if _below_floor(law, constraints, shape, shape.flops_per_token * d, training):
        # N* lies below the smallest shape: train that shape on the tokens the budget buys
        n_star, n = n, float(law_params(law.n_definition, family, shape.width, shape.depth))
        d = training / shape.flops_per_token
        m_star = n if law.n_definition is NDefinition.MODEL_SCALE else None
        curve = n_band = d_band = None
        hyper = shape_hyperparameters(hyper_law, family, shape.width, shape.depth, d)
        if loss is not None:
            at = {"width": shape.width, "depth": shape.depth} if wd_law else {"params": n}
            point = predict(law, tokens=d, unique_tokens=unique_tokens, level=level, **at)
            loss, curve = point.loss, point.curve_interval
        floor = (
            f"N* = {n_star:.3g} lies below the smallest feasible shape ({shape.width} x "
            f"{shape.depth}, {shape.params:,} params): the plan trains that shape on the "
            f"{d:.3g} tokens the budget buys, not the law's optimum (allow smaller shapes: "
            "head_dim, vocab_size, min_width)",
        )
    warnings = _warnings(law, shape, constraints, wd_law)
    if loss is None:
        warnings.append(f"{law.id} ({law.form}) gives no loss prediction")
    if epochs is not None and epochs > 1:
        warnings.append(
            f"D* = {d:.3g} tokens repeats the {unique_tokens:.3g} unique tokens {epochs:.1f} times"
        )
    if not all(math.isfinite(x) for x in (n, d, loss if loss is not None else 0.0)):
        raise ArgumentError("flops", f"{law.id} gives no finite answer at {c:.3g} FLOPs")
    return Allocation(
        law_id=law.id,
        law_version=law.version,
        flops=c,
        params=n if m_star is None else float(shape.params),
        tokens=d,
        loss=loss,
        loss_interval=None if loss is None else loss_band(law, loss, curve, n, d, level),
        curve_interval=curve,
        level=level,
        caveats=(
            *answer_caveats(law, params=n, tokens=d, flops=c, intervals=loss is not None),
            *floor,
            *shape_cost_caveat(shape.flops_per_token * d, c - inference_flops),
        ),
        tokens_per_param=d / (n if m_star is None else shape.params),
        shape=shape,
        hyperparameters=hyper,
        n_definition=str(law.n_definition),
        c_definition=str(law.c_definition),
        training_flops=c - inference_flops,
        inference_flops=inference_flops,
        params_interval=n_band if m_star is None else None,
        model_scale=m_star,
        tokens_interval=d_band,
        unique_tokens=unique_tokens,
        epochs=epochs,
        warnings=tuple(warnings),
    )

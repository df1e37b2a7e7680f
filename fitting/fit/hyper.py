"""Fit a hyper-parameter law to a learning-rate and batch sweep (docs/laws.md §18.5).

Runs carry (N, D, learning rate, batch, loss). For each (N, D): the best run; a
parabola in log LR through it and its neighbours at its batch, and one in log batch
through the best loss at each batch, whose vertices are the optimum (the best point
itself, flagged, when the parabola opens downward or its vertex leaves the points it
was fitted on). Then ``ln LR* = c0 + c1 ln N + c2 ln D`` and the same for the batch in
tokens, by least squares as Step Law (Li et al. 2025) and DeepSeek (2024) fit theirs
(in N alone when the sweep's D does not vary apart from N), with bootstrap bands from
resampled optima. The result is a ``power-law`` :class:`~fitting.hyperlaws.HyperLaw`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.hyperlaws import POWER_LAW_CONSTANTS, HyperLaw, hyper_to_dict
from flopwise.fitting.laws import Domain, NDefinition

__all__ = ["HyperFit", "SweepOptimum", "fit_hyperparams", "sweep_optima", "vertex"]

NEIGHBOURS = 2
"""Points on each side of the best one that the parabola sees."""
MAX_DRAWS_KEPT = 200
"""Bootstrap draws a saved law carries (its bands)."""


def vertex(x: np.ndarray, y: np.ndarray) -> tuple[float, bool]:
    """``(argmin, on_edge)`` of y over x: the vertex of a least-squares parabola through
    the best point and up to :data:`NEIGHBOURS` points each side, or the best x itself
    (``on_edge``) when fewer than three points, a parabola opening downward, or a vertex
    outside those points."""
    order = np.argsort(x)
    x, y = x[order], y[order]
    best = int(np.argmin(y))
    lo, hi = max(0, best - NEIGHBOURS), min(x.size, best + NEIGHBOURS + 1)
    xs, ys = x[lo:hi], y[lo:hi]
    if xs.size < 3 or best in (0, x.size - 1):
        return float(x[best]), True
    a, b, _ = np.polyfit(xs, ys, 2)
    if a <= 0:
        return float(x[best]), True
    top = -b / (2 * a)
    if not xs[0] <= top <= xs[-1]:
        return float(x[best]), True
    return float(top), False


@dataclass(frozen=True)
class SweepOptimum:
    """One (N, D)'s best learning rate and batch (tokens)."""

    params: float
    tokens: float
    learning_rate: float
    batch_tokens: float
    best_loss: float
    runs: int
    lr_on_edge: bool
    batch_on_edge: bool


def _optimum(
    n: float, d: float, lr: np.ndarray, batch: np.ndarray, loss: np.ndarray
) -> SweepOptimum:
    best = int(np.argmin(loss))
    same = batch == batch[best]
    log_lr, lr_edge = vertex(np.log(lr[same]), loss[same])
    sizes = np.unique(batch)
    profile = np.array([loss[batch == b].min() for b in sizes])
    log_b, b_edge = vertex(np.log(sizes), profile)
    return SweepOptimum(
        params=n,
        tokens=d,
        learning_rate=math.exp(log_lr),
        batch_tokens=math.exp(log_b),
        best_loss=float(loss[best]),
        runs=int(loss.size),
        lr_on_edge=lr_edge,
        batch_on_edge=b_edge,
    )


def sweep_optima(
    params: ArrayLike, tokens: ArrayLike, lr: ArrayLike, batch: ArrayLike, loss: ArrayLike
) -> list[SweepOptimum]:
    """Each (N, D)'s optimum, in order of N then D (batch in the caller's unit)."""
    cols = [np.asarray(c, dtype=float) for c in (params, tokens, lr, batch, loss)]
    names = ("params", "tokens", "learning_rate", "batch", "loss")
    for name, col in zip(names, cols, strict=True):
        if col.shape != cols[0].shape or col.size == 0:
            raise ArgumentError(name, "every column needs one value per run")
        if not np.all(np.isfinite(col)) or np.any(col <= 0):
            raise ArgumentError(name, "every value must be a positive finite number")
    n, d, r, b, y = cols
    pairs = sorted(set(zip(n.tolist(), d.tolist(), strict=True)))
    out = []
    for pn, pd in pairs:
        rows = (n == pn) & (d == pd)
        out.append(_optimum(pn, pd, r[rows], b[rows], y[rows]))
    return out


def _design(optima: list[SweepOptimum]) -> tuple[np.ndarray, bool]:
    """``[1, ln N, ln D]`` rows, or ``[1, ln N]`` when ln D adds nothing (``joint``)."""
    ln_n = np.log([o.params for o in optima])
    ln_d = np.log([o.tokens for o in optima])
    centred = np.column_stack([ln_n - ln_n.mean(), ln_d - ln_d.mean()])
    joint = bool(np.linalg.matrix_rank(centred, tol=1e-6) == 2)
    cols = [np.ones_like(ln_n), ln_n, ln_d] if joint else [np.ones_like(ln_n), ln_n]
    return np.column_stack(cols), joint


def _coefficients(x: np.ndarray, targets: np.ndarray, joint: bool) -> np.ndarray:
    """Least-squares (c0, c1, c2) per target column, c2 = 0 in N alone: shape (2, 3)."""
    coef = np.linalg.lstsq(x, targets, rcond=None)[0].T
    return coef if joint else np.column_stack([coef, np.zeros(2)])


def _power_laws(
    optima: list[SweepOptimum], bootstrap: int, seed: int
) -> tuple[np.ndarray, np.ndarray, bool]:
    """(constants (2 x 3), bootstrap draws (n x 6), joint): the least-squares fit through
    the optima, and refits on optima resampled with replacement."""
    x, joint = _design(optima)
    targets = np.log([[o.learning_rate, o.batch_tokens] for o in optima])
    picks = np.random.default_rng(seed).integers(0, len(optima), size=(bootstrap, len(optima)))
    draws = [_coefficients(x[p], targets[p], joint).ravel() for p in picks]
    return _coefficients(x, targets, joint), np.array(draws).reshape(-1, 6), joint


def _intervals(draws: np.ndarray, level: float) -> dict[str, tuple[float, float]]:
    """The central ``level`` band of each constant over the draws (none without draws)."""
    if len(draws) < 2:
        return {}
    bands = np.percentile(draws, (100 * (1 - level) / 2, 100 * (1 + level) / 2), axis=0)
    return {k: (float(bands[0, i]), float(bands[1, i])) for i, k in enumerate(POWER_LAW_CONSTANTS)}


@dataclass(frozen=True)
class HyperFit:
    optima: tuple[SweepOptimum, ...]
    law: HyperLaw
    joint: bool
    """Fitted in N and D (``False``: in N alone)."""
    intervals: dict[str, tuple[float, float]]
    """Bootstrap band of each constant (``POWER_LAW_CONSTANTS``)."""
    level: float
    warnings: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types: the optima, the law (draws left out) and the bands."""
        law = hyper_to_dict(self.law)
        law.pop("draws")
        return {
            "optima": [asdict(o) for o in self.optima],
            "law": law,
            "joint": self.joint,
            "intervals": {k: list(v) for k, v in self.intervals.items()},
            "level": self.level,
            "warnings": list(self.warnings),
        }


def _warnings(optima: list[SweepOptimum], joint: bool) -> list[str]:
    out = []
    for o in optima:
        for what, edge in (("learning rate", o.lr_on_edge), ("batch", o.batch_on_edge)):
            if edge:
                out.append(
                    f"N {o.params:.3g}, D {o.tokens:.3g}: the best {what} is the swept one "
                    "(on the sweep's edge, or no convex parabola): widen the sweep there"
                )
    if not joint:
        out.append("D does not vary apart from N in this sweep: fitted in N alone")
    return out


def fit_hyperparams(
    params: ArrayLike,
    tokens: ArrayLike,
    lr: ArrayLike,
    batch: ArrayLike,
    loss: ArrayLike,
    *,
    sequence_length: int = 2048,
    batch_in_sequences: bool = False,
    n_definition: NDefinition = NDefinition.NON_EMBEDDING,
    law_id: str = "my-sweep-hyperparameters",
    source: str = "flopwise fit-hyperparams",
    bootstrap: int = 1000,
    seed: int = 0,
    level: float = 0.9,
) -> HyperFit:
    """The sweep's optima and the power law through them; the batch column in tokens, or
    in sequences of ``sequence_length`` tokens (``batch_in_sequences``)."""
    if (
        isinstance(sequence_length, bool)
        or not isinstance(sequence_length, int)
        or sequence_length < 1
    ):
        raise ArgumentError(
            "sequence_length", f"must be a positive integer, got {sequence_length!r}"
        )
    tokens_per_unit = float(sequence_length) if batch_in_sequences else 1.0
    optima = sweep_optima(
        params, tokens, lr, np.asarray(batch, dtype=float) * tokens_per_unit, loss
    )
    if len(optima) < 3:
        raise ArgumentError("params", f"needs optima at 3 or more (N, D) pairs, got {len(optima)}")
    coef, draws, joint = _power_laws(optima, bootstrap, seed)
    n_range = (min(o.params for o in optima), max(o.params for o in optima))
    d_range = (min(o.tokens for o in optima), max(o.tokens for o in optima))
    law = HyperLaw(
        id=law_id,
        form="power-law",
        title=f"fitted to {len(optima)} (N, D) optima of a learning-rate and batch sweep",
        source=source,
        n_definition=n_definition,
        n_counts=f"as the sweep counts it ({n_definition})",
        batch_unit="tokens",
        sequence_length=sequence_length,
        domain=Domain(params=n_range, tokens=d_range),
        constants=dict(zip(POWER_LAW_CONSTANTS, coef.ravel().tolist(), strict=True)),
        draws=tuple(tuple(r) for r in draws[:MAX_DRAWS_KEPT].tolist()) or None,
    )
    intervals = _intervals(draws, level)
    return HyperFit(tuple(optima), law, joint, intervals, level, tuple(_warnings(optima, joint)))

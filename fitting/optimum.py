"""The optimum for each law form: (N*, D*, loss) over a batch of budgets.

Closed forms where they exist (Chinchilla Eq. 4, Kaplan Table 6, power laws); exact
numerics otherwise: a vectorised golden-section search in log N for data-constrained
(Muennighoff et al.) and inference-aware (Sardana et al.) optima, and the convex hull
over every feasible shape for width-depth laws (``fitting.shape``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from flopwise.fitting import forms
from flopwise.fitting.laws import CDefinition, Form, Law
from flopwise.fitting.shape import (
    ShapeConstraints,
    law_flops_per_token,
    law_params,
    width_depth_hull,
)

__all__ = ["MUENNIGHOFF_R_D", "MUENNIGHOFF_R_N", "optimum"]

MUENNIGHOFF_R_N = 5.309743
MUENNIGHOFF_R_D = 15.387756
"""Repetition decay constants (Muennighoff et al. 2023, App. A), used when a plain
Chinchilla-form law is asked for a data-constrained optimum."""


def _golden_min(
    f: Callable[[np.ndarray], np.ndarray], lo: np.ndarray, hi: np.ndarray, iters: int = 90
) -> np.ndarray:
    """Vectorised golden-section search for the minimiser of unimodal ``f`` on [lo, hi]."""
    r = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = lo.astype(float).copy(), hi.astype(float).copy()
    c, d = b - r * (b - a), a + r * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(iters):
        left = fc < fd
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        c_new = b - r * (b - a)
        d_new = a + r * (b - a)
        c, d = np.where(left, c_new, d), np.where(left, c, d_new)
        fc, fd = np.where(left, f(c), fd), np.where(left, fc, f(d))
    return (a + b) / 2.0


def _tokens_for(law: Law, flops: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Tokens that spend ``flops`` at size ``n`` (Gemstones-counted laws: a 6N stand-in,
    replaced by the chosen shape's exact count once the shape is known)."""
    if law.c_definition is CDefinition.MD:
        return flops / n
    return flops / (6.0 * n)


def _chinchilla_like(law: Law) -> dict[str, float]:
    k = law.constants
    return {name: k[name] for name in ("E", "A", "B", "alpha", "beta")}


def _data_constrained_optimum(
    law: Law, flops: np.ndarray, unique: float
) -> tuple[np.ndarray, np.ndarray]:
    k = dict(law.constants)
    k.setdefault("R_N", MUENNIGHOFF_R_N)
    k.setdefault("R_D", MUENNIGHOFF_R_D)
    n0, _ = forms.chinchilla_optimal(flops, **{x: k[x] for x in ("A", "B", "alpha", "beta")})

    def loss(log_n: np.ndarray) -> np.ndarray:
        n = np.exp(log_n)
        return forms.data_constrained_loss(n, flops / (6 * n), unique, **k)

    log_n = _golden_min(loss, np.log(n0) - 7.0, np.log(n0) + 7.0)
    n = np.exp(log_n)
    return n, flops / (6 * n)


def _inference_optimum(law: Law, flops: np.ndarray, d_inf: float) -> tuple[np.ndarray, np.ndarray]:
    """Best (N, D) when the budget must also pay 2 N D_inf inference FLOPs (Sardana et al.)."""
    k = _chinchilla_like(law)
    n0, _ = forms.chinchilla_optimal(flops, **{x: k[x] for x in ("A", "B", "alpha", "beta")})
    n_max = flops / (2.0 * d_inf)

    def loss(log_n: np.ndarray) -> np.ndarray:
        n = np.exp(log_n)
        d = (flops - 2.0 * n * d_inf) / (6.0 * n)
        return np.where(d > 0, forms.chinchilla_loss(n, np.maximum(d, 1e-300), **k), np.inf)

    hi = np.minimum(np.log(n0) + 1.0, np.log(n_max))
    n = np.exp(_golden_min(loss, hi - 12.0, hi))
    return n, (flops - 2.0 * n * d_inf) / (6.0 * n)


def _tabulated(law: Law, flops: np.ndarray) -> np.ndarray:
    """N*(C) interpolated log-log between published rows, extended by the end slopes."""
    table = np.log(np.asarray(law.table, dtype=float))
    x, xs, ys = np.log(flops), table[:, 0], table[:, 1]
    y = np.interp(x, xs, ys)
    lo_slope = (ys[1] - ys[0]) / (xs[1] - xs[0])
    hi_slope = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
    y = np.where(x < xs[0], ys[0] + lo_slope * (x - xs[0]), y)
    return np.exp(np.where(x > xs[-1], ys[-1] + hi_slope * (x - xs[-1]), y))


def optimum(
    law: Law,
    flops: np.ndarray,
    family_constraints: ShapeConstraints,
    unique_tokens: float | None,
    inference_tokens: float | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, tuple[np.ndarray, np.ndarray] | None]:
    """(N*, D*, loss or None, (width, depth) when the law chooses the shape itself)."""
    form, k = law.form, law.constants
    if form in (Form.WIDTH_DEPTH, Form.WIDTH_DEPTH_ALT):
        if unique_tokens is not None or inference_tokens is not None:
            raise ValueError(
                f"law: {law.id} ({form}) supports neither unique_tokens nor inference_tokens"
            )
        family = family_constraints.family(law.family)
        hull = width_depth_hull(law, family, family_constraints)
        i = hull.best(flops)
        w, d = hull.width[i], hull.depth[i]
        f = np.asarray(law_flops_per_token(law, family, w, d), dtype=float)
        tokens = flops / f
        loss = hull.s[i] + hull.B * np.power(tokens, -hull.beta)
        return law_params(law.n_definition, family, w, d).astype(float), tokens, loss, (w, d)
    if unique_tokens is not None or form is Form.DATA_CONSTRAINED:
        if form not in (Form.CHINCHILLA, Form.DATA_CONSTRAINED):
            raise ValueError(f"unique_tokens: law {law.id} ({form}) cannot model repeated data")
        if inference_tokens is not None:
            raise ValueError("inference_tokens: cannot be combined with unique_tokens")
        if unique_tokens is None:
            n, d = forms.chinchilla_optimal(flops, **{x: k[x] for x in ("A", "B", "alpha", "beta")})
            return n, d, forms.chinchilla_loss(n, d, **_chinchilla_like(law)), None
        n, d = _data_constrained_optimum(law, flops, unique_tokens)
        kk = {"R_N": MUENNIGHOFF_R_N, "R_D": MUENNIGHOFF_R_D, **k}
        return n, d, forms.data_constrained_loss(n, d, unique_tokens, **kk), None
    if inference_tokens is not None:
        if form is not Form.CHINCHILLA:
            raise ValueError(
                f"inference_tokens: law {law.id} ({form}) is not a Chinchilla-form law"
            )
        n, d = _inference_optimum(law, flops, inference_tokens)
        return n, d, forms.chinchilla_loss(n, d, **_chinchilla_like(law)), None
    if form is Form.CHINCHILLA:
        n, d = forms.chinchilla_optimal(flops, **{x: k[x] for x in ("A", "B", "alpha", "beta")})
        return n, d, forms.chinchilla_loss(n, d, **k), None
    if form is Form.KAPLAN:
        c_min = flops * k["c_min_fraction"] / forms.PF_DAY
        n = forms.kaplan_n_opt(c_min, N_e=k["N_e"], p_N=k["p_N"])
        loss = forms.kaplan_loss_cmin(c_min, C_c_min=k["C_c_min"], alpha_C_min=k["alpha_C_min"])
        return n, flops / (6.0 * n), loss, None
    if form is Form.POWER_LAW:
        # D* follows from the budget (C / FLOPs per token of N*) so the budget is spent
        # exactly; a published D* regression (k_D, a_D) agrees to its own precision.
        n = forms.power_law(flops, k=k["k_N"], a=k["a_N"])
        loss = None
        if "loss_E" in k:
            loss = forms.saturating_power_law(
                flops, E=k["loss_E"], A=k["loss_A"], gamma=k["loss_gamma"]
            )
        return n, _tokens_for(law, flops, n), loss, None
    if form is Form.TABULATED:
        n = _tabulated(law, flops)
        return n, _tokens_for(law, flops, n), None, None
    raise ValueError(f"law: unsupported form {form}")  # pragma: no cover - Form is closed

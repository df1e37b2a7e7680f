"""Compute-optimal allocation: for a budget and a law, N*, D*, the predicted loss, a shape.

``allocate`` answers one budget; ``frontier`` answers many at once (vectorised).
The budget is spent under the law's own C definition (6ND with the law's N, M x D,
or the Gemstones counter). Closed forms are used where they exist (Chinchilla
Eq. 4, Kaplan Table 6, power laws); otherwise exact numerics: a vectorised golden
section in log N for data-constrained and inference-aware optima, and the convex
hull over every feasible shape for width-depth laws (see ``fitting.shape``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

import numpy as np

from fitting import forms
from fitting.checks import optional_positive
from fitting.counting import deepseek_model_scale
from fitting.hyperparams import Hyperparameters, deepseek_hyperparameters
from fitting.laws import CDefinition, Form, Law, NDefinition
from fitting.predict import interval, intervals, predict_loss
from fitting.shape import (
    Shape,
    ShapeConstraints,
    law_flops_per_token,
    law_params,
    make_shape,
    shapes_for_params,
    width_depth_hull,
)

__all__ = ["MAX_FLOPS", "Allocation", "Frontier", "allocate", "frontier"]

MAX_FLOPS = 1e35
"""Budgets above this are refused as absurd (about 1e10 x today's largest runs)."""

DEFAULT_CONSTRAINTS = ShapeConstraints()

MUENNIGHOFF_R_N = 5.309743
MUENNIGHOFF_R_D = 15.387756
"""Repetition decay constants (Muennighoff et al. 2023, App. A), used when a plain
Chinchilla-form law is asked for a data-constrained optimum."""


@dataclass(frozen=True)
class Allocation:
    """The answer for one budget: what to train, what it should reach, and caveats."""

    law_id: str
    law_version: int
    flops: float
    """The budget in FLOPs, as the law counts C (training plus inference when given)."""
    params: float
    """N* as the law counts N."""
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

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types, laid out as the CLI and the HTTP API answer (``law`` is
        ``{"id", "version"}``; intervals are lists)."""
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["law"] = {"id": out.pop("law_id"), "version": out.pop("law_version")}
        for key in ("shape", "hyperparameters"):
            if out[key] is not None:
                out[key] = dict(vars(out[key]))
        for key in ("loss_interval", "params_interval", "tokens_interval"):
            if out[key] is not None:
                out[key] = list(out[key])
        out["warnings"] = list(self.warnings)
        return out


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


def _check_budget(flops: np.ndarray) -> np.ndarray:
    flops = np.atleast_1d(np.asarray(flops, dtype=float))
    if flops.size == 0:
        raise ValueError("flops: no budget given")
    if not np.all(np.isfinite(flops)) or np.any(flops <= 0):
        raise ValueError("flops must be positive and finite")
    if np.any(flops > MAX_FLOPS):
        raise ValueError(f"flops must be at most {MAX_FLOPS:.0e}")
    return flops


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


def _optimum(
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
    n, d, loss, wd = _optimum(law, flops, constraints, unique_tokens, inference_tokens)
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
    law: Law,
    flops: float,
    n: float,
    d: float,
    shape: Shape | None,
    constraints: ShapeConstraints,
    wd_law: bool,
) -> list[str]:
    out: list[str] = []
    dom = law.domain
    for name, value, rng in (
        ("budget", flops, dom.flops),
        ("params", n, dom.params),
        ("tokens", d, dom.tokens),
    ):
        if rng is not None and not (rng[0] <= value <= rng[1]):
            out.append(
                f"{name} {value:.3g} lies outside the range {law.id} was fitted on "
                f"({rng[0]:.3g} to {rng[1]:.3g}): this is an extrapolation"
            )
    if shape is not None and not wd_law:
        miss = shape.params_law / n - 1.0
        if abs(miss) > 0.05:
            out.append(
                f"the nearest feasible shape has {shape.params_law:.3g} params, {miss:+.0%} off N*"
            )
    if shape is not None and wd_law:
        edges = []
        if shape.depth in (constraints.min_depth, constraints.max_depth):
            edges.append(f"depth {shape.depth}")
        widths = constraints.widths(constraints.family(law.family))
        if shape.width in (widths[0], widths[-1]):
            edges.append(f"width {shape.width}")
        if edges:
            out.append(f"the optimum sits on the edge of the allowed shapes ({', '.join(edges)})")
    if law.form is Form.KAPLAN:
        out.append(
            "Kaplan's N_opt is read at C_min = C/2 (training at the critical batch, Eq. 6.7)"
        )
    if not law.verified:
        out.append(f"{law.id} is not verified against its source")
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
    draws = law.draw_constants()
    if draws is None:
        return None, None, None
    if shape is not None and law.form in (Form.WIDTH_DEPTH, Form.WIDTH_DEPTH_ALT):
        losses = predict_loss(
            law,
            width=shape.width,
            depth=shape.depth,
            params=shape.params,
            tokens=d,
            constants=draws,
        )
        return interval(losses, level), None, None
    if law.form is not Form.CHINCHILLA:
        losses = predict_loss(law, params=n, tokens=d, unique_tokens=unique, constants=draws)
        return interval(losses, level), None, None
    e, log_a, log_b, alpha, beta, log_g, a = _chinchilla_draws(law)
    log_c6 = math.log(flops / 6.0)
    # Eq. 4 per draw in logs: ln N* = ln G + a ln(C/6), D* = (C/6) / N*.
    losses = e + np.exp(log_a - alpha * math.log(n)) + np.exp(log_b - beta * math.log(d))
    loss_band, log_n_band = intervals(np.stack([losses, log_g + a * log_c6]), level)
    if log_n_band is None:
        return loss_band, None, None
    lo, hi = math.exp(log_n_band[0]), math.exp(log_n_band[1])
    return loss_band, (lo, hi), (flops / (6.0 * hi), flops / (6.0 * lo))


@lru_cache(maxsize=64)
def _chinchilla_draws(law: Law) -> tuple[np.ndarray, ...]:
    """Per draw: E, ln A, ln B, alpha, beta, ln G and a = beta / (alpha + beta) (Eq. 4)."""
    k = law.draw_constants()
    assert k is not None
    g = forms.chinchilla_g(A=k["A"], B=k["B"], alpha=k["alpha"], beta=k["beta"])
    a = k["beta"] / (k["alpha"] + k["beta"])
    return k["E"], np.log(k["A"]), np.log(k["B"]), k["alpha"], k["beta"], np.log(g), a


def allocate(
    law: Law,
    flops: float,
    *,
    constraints: ShapeConstraints | None = None,
    unique_tokens: float | None = None,
    inference_tokens: float | None = None,
    level: float = 0.95,
) -> Allocation:
    """Compute-optimal allocation of ``flops`` under ``law``.

    Parameters
    ----------
    flops : training budget in FLOPs as the law counts C; with ``inference_tokens``
        the budget covers training plus ``2 N D_inf`` inference FLOPs (Sardana et al.).
    constraints : shape limits and architecture overrides.
    unique_tokens : cap on unique data; repeated epochs are discounted (Muennighoff et al.).
    level : coverage of the bootstrap intervals, when the law has draws.

    Raises ``ValueError`` naming the bad argument. Example: ``allocate(epoch, 5.76e23)``
    gives N* = 7.225e10, D* = 1.329e12 (laws.md §3.3).
    """
    flops_arr = _check_budget(np.atleast_1d(np.asarray(flops, dtype=float)))
    if flops_arr.size != 1:
        raise ValueError("flops: allocate takes one budget; use frontier for many")
    c = float(flops_arr[0])
    unique_tokens = optional_positive("unique_tokens", unique_tokens)
    inference_tokens = optional_positive("inference_tokens", inference_tokens)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    constraints = constraints or DEFAULT_CONSTRAINTS
    n_arr, d_arr, loss_arr, wd = _optimum(
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
    model_scale = float(deepseek_model_scale(shape.width, shape.depth, family.seq_len))
    hyper = deepseek_hyperparameters(model_scale, d)
    loss = None if loss_arr is None else float(np.asarray(loss_arr)[0])
    loss_band, n_band, d_band = _draw_intervals(law, c, n, d, shape, unique_tokens, level)
    inference_flops = 2.0 * n * inference_tokens if inference_tokens else 0.0
    epochs = d / unique_tokens if unique_tokens else None
    warnings = _warnings(law, c, n, d, shape, constraints, wd_law)
    if loss is None:
        warnings.append(f"{law.id} ({law.form}) gives no loss prediction")
    if epochs is not None and epochs > 1:
        warnings.append(
            f"D* = {d:.3g} tokens repeats the {unique_tokens:.3g} unique tokens {epochs:.1f} times"
        )
    if not all(math.isfinite(x) for x in (n, d, loss if loss is not None else 0.0)):
        raise ValueError(f"flops: {law.id} gives no finite answer at {c:.3g} FLOPs")
    return Allocation(
        law_id=law.id,
        law_version=law.version,
        flops=c,
        params=n,
        tokens=d,
        loss=loss,
        loss_interval=loss_band,
        tokens_per_param=d / n,
        shape=shape,
        hyperparameters=hyper,
        n_definition=str(law.n_definition),
        c_definition=str(law.c_definition),
        training_flops=c - inference_flops,
        inference_flops=inference_flops,
        params_interval=n_band,
        tokens_interval=d_band,
        unique_tokens=unique_tokens,
        epochs=epochs,
        warnings=tuple(warnings),
    )

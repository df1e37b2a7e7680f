"""A batched L-BFGS: many starts of one smooth problem minimised together in numpy.

The usual way to fit a scaling law from a grid of starts is one
``scipy.optimize.minimize(method="L-BFGS-B")`` call per start (Hoffmann et al.
2022 App. D.2; Epoch's and Gemstones' code). Here every start is a row of one
``(S, p)`` array: the objective and its gradient are evaluated for all active
starts in one vectorised call, each start keeps its own curvature history
(two-loop recursion, Nocedal & Wright 2006, Alg. 7.4), and an Armijo backtracking
line search with quadratic interpolation runs on the starts still searching.
Simple bounds are handled by projection, freezing variables held at a bound.
Converged starts leave the active set, so late iterations cost little.

Stopping rules follow scipy's L-BFGS-B: relative reduction of f below ``ftol``
(``(f_k - f_k+1) / max(|f_k|, |f_k+1|, 1) <= ftol``), or projected gradient below
``gtol`` (infinity norm).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["CONVERGED", "LINE_SEARCH_FAILED", "MAX_ITER", "BatchResult", "lbfgs_batch"]

FunGrad = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
"""``fun_grad(x (s, p), rows (s,)) -> (f (s,), grad (s, p))``; ``rows`` are the starts' indices
(so a start can carry its own data weights, as bootstrap draws do)."""

CONVERGED, MAX_ITER, LINE_SEARCH_FAILED = 0, 1, 2
_ARMIJO_C1 = 1e-4
_EPS = np.finfo(float).eps


@dataclass(frozen=True)
class BatchResult:
    """Where each start ended: ``x (S, p)``, ``fun (S,)``, ``status (S,)`` (0 converged,
    1 iteration limit, 2 line search failed), ``nit (S,)``; ``n_evaluations`` counts
    objective evaluations summed over starts."""

    x: np.ndarray
    fun: np.ndarray
    status: np.ndarray
    nit: np.ndarray
    n_evaluations: int


@dataclass
class _History:
    """Curvature pairs of the active starts: a ring of ``m`` slots shared by all starts."""

    s: np.ndarray  # (m, S, p)
    y: np.ndarray  # (m, S, p)
    rho: np.ndarray  # (m, S); 0 marks an empty or skipped slot
    gamma: np.ndarray  # (S,) initial inverse-Hessian scale
    slot: int = 0

    def direction(self, grad: np.ndarray) -> np.ndarray:
        """``-H grad`` for every active start (two-loop recursion)."""
        m = self.rho.shape[0]
        order = [(self.slot - 1 - i) % m for i in range(m)]
        q = grad.copy()
        alphas = []
        for i in order:
            a = self.rho[i] * np.einsum("sp,sp->s", self.s[i], q)
            q -= a[:, None] * self.y[i]
            alphas.append(a)
        r = self.gamma[:, None] * q
        for i, a in zip(reversed(order), reversed(alphas), strict=True):
            b = self.rho[i] * np.einsum("sp,sp->s", self.y[i], r)
            r += (a - b)[:, None] * self.s[i]
        return -r

    def push(self, s: np.ndarray, y: np.ndarray) -> None:
        """Store one pair per start; pairs without positive curvature are skipped."""
        sy = np.einsum("sp,sp->s", s, y)
        yy = np.einsum("sp,sp->s", y, y)
        ok = sy > _EPS * np.maximum(yy, _EPS)
        self.s[self.slot] = np.where(ok[:, None], s, 0.0)
        self.y[self.slot] = np.where(ok[:, None], y, 0.0)
        self.rho[self.slot] = np.where(ok, 1.0 / np.where(ok, sy, 1.0), 0.0)
        self.gamma[:] = np.where(ok, sy / np.where(ok, yy, 1.0), self.gamma)
        self.slot = (self.slot + 1) % self.rho.shape[0]

    def keep(self, mask: np.ndarray) -> None:
        """Drop the starts that have finished (compaction keeps later passes cheap)."""
        self.s, self.y = self.s[:, mask], self.y[:, mask]
        self.rho, self.gamma = self.rho[:, mask], self.gamma[mask]


def _free(x: np.ndarray, g: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Variables not held at a bound by a gradient pushing outwards."""
    return ~(((x <= lower) & (g > 0)) | ((x >= upper) & (g < 0)))


_WOLFE_C2 = 0.9


def _extrapolate(
    fun_grad: FunGrad,
    rows: np.ndarray,
    start: tuple[np.ndarray, np.ndarray, np.ndarray],
    d: np.ndarray,
    hit: np.ndarray,
    new: tuple[np.ndarray, np.ndarray, np.ndarray],
    bounds: tuple[np.ndarray, np.ndarray],
) -> int:
    """Where the full step was accepted but the slope is still steep (Wolfe's curvature
    condition fails: the step was too short), double it while the objective keeps
    falling, up to 8x. Updates ``new`` in place; returns evaluations used."""
    x, _, g = start
    new_x, new_f, new_g = new
    slope0 = np.einsum("sp,sp->s", g[hit], d[hit])
    cand = hit[np.einsum("sp,sp->s", new_g[hit], d[hit]) < _WOLFE_C2 * slope0]
    n_eval, step = 0, 2.0
    while len(cand) and step <= 8.0:
        trial = np.clip(x[cand] + step * d[cand], bounds[0], bounds[1])
        ft, gt = fun_grad(trial, rows[cand])
        n_eval += len(cand)
        better = np.isfinite(ft) & (ft < new_f[cand])
        idx = cand[better]
        new_x[idx], new_f[idx], new_g[idx] = trial[better], ft[better], gt[better]
        steep = np.einsum("sp,sp->s", gt[better], d[idx])
        cand = idx[steep < _WOLFE_C2 * np.einsum("sp,sp->s", g[idx], d[idx])]
        step *= 2.0
    return n_eval


def _line_search(
    fun_grad: FunGrad,
    rows: np.ndarray,
    x: np.ndarray,
    f: np.ndarray,
    g: np.ndarray,
    d: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray],
    max_steps: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Armijo backtracking along projected steps, all starts at once (with
    :func:`_extrapolate` when the first, full step was too short).

    Returns new x, f, g, a mask of starts that found a step, and evaluations used.
    """
    lower, upper = bounds
    step = np.ones(len(x))
    new_x, new_f, new_g = x.copy(), f.copy(), g.copy()
    ok = np.zeros(len(x), dtype=bool)
    pending = np.arange(len(x))
    n_eval = 0
    for attempt in range(max_steps):
        trial = np.clip(x[pending] + step[pending, None] * d[pending], lower, upper)
        ft, gt = fun_grad(trial, rows[pending])
        n_eval += len(pending)
        slope = np.einsum("sp,sp->s", g[pending], trial - x[pending])
        good = np.isfinite(ft) & (ft <= f[pending] + _ARMIJO_C1 * slope) & (slope < 0)
        hit = pending[good]
        new_x[hit], new_f[hit], new_g[hit], ok[hit] = trial[good], ft[good], gt[good], True
        if attempt == 0:
            new = (new_x, new_f, new_g)
            n_eval += _extrapolate(fun_grad, rows, (x, f, g), d, hit, new, bounds)
        miss = ~good
        pending, ft, slope = pending[miss], ft[miss], slope[miss]
        if len(pending) == 0:
            break
        t = step[pending]
        curv = (ft - f[pending] - slope) / np.maximum(t * t, 1e-300)
        t_new = np.where(
            np.isfinite(ft) & (curv > 0), -slope / (2.0 * np.where(curv > 0, curv, 1.0)), 0.25 * t
        )
        step[pending] = np.clip(t_new, 0.1 * t, 0.5 * t)
    return new_x, new_f, new_g, ok, n_eval


def _direction(
    hist: _History, x: np.ndarray, g: np.ndarray, bounds: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """L-BFGS direction on the free variables; steepest descent where it points uphill."""
    free = _free(x, g, *bounds)
    d = hist.direction(np.where(free, g, 0.0)) * free
    uphill = np.einsum("sp,sp->s", g, d) >= 0
    if uphill.any():
        d[uphill] = -(g[uphill] * free[uphill]) * hist.gamma[uphill, None]
        hist.rho[:, uphill] = 0.0
    return d


def lbfgs_batch(
    fun_grad: FunGrad,
    x0: np.ndarray,
    *,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
    memory: int = 10,
    max_iter: int = 1000,
    ftol: float = 1e7 * _EPS,
    gtol: float = 1e-5,
    max_line_search: int = 20,
) -> BatchResult:
    """Minimise ``fun_grad`` from every row of ``x0 (S, p)`` at once.

    ``fun_grad(x, rows)`` is called on any subset of the starts (see ``FunGrad``).
    ``lower``/``upper`` are per-variable bounds (``None``: unbounded). Defaults
    mirror scipy's L-BFGS-B (memory 10, factr 1e7, pgtol 1e-5).
    """
    x = np.array(x0, dtype=float, ndmin=2)
    n_starts, p = x.shape
    lo = np.full(p, -np.inf) if lower is None else np.asarray(lower, dtype=float)
    hi = np.full(p, np.inf) if upper is None else np.asarray(upper, dtype=float)
    x = np.clip(x, lo, hi)
    f, g = fun_grad(x, np.arange(n_starts))
    n_eval = n_starts
    pg_norm = np.abs(np.where(_free(x, g, lo, hi), g, 0.0)).max(axis=1)
    status = np.where(np.isfinite(f), -1, LINE_SEARCH_FAILED)
    status[(status < 0) & (pg_norm <= gtol)] = CONVERGED
    nit = np.zeros(n_starts, dtype=np.int64)
    idx = np.flatnonzero(status < 0)
    xa, fa, ga = x[idx], f[idx], g[idx]
    hist = _History(
        np.zeros((memory, len(idx), p)),
        np.zeros((memory, len(idx), p)),
        np.zeros((memory, len(idx))),
        1.0 / np.maximum(np.linalg.norm(ga, axis=1), 1e-12),
    )
    bounds = (lo, hi)
    for _ in range(max_iter):
        if len(idx) == 0:
            break
        d = _direction(hist, xa, ga, bounds)
        xn, fn, gn, ok, used = _line_search(fun_grad, idx, xa, fa, ga, d, bounds, max_line_search)
        n_eval += used
        hist.push(np.where(ok[:, None], xn - xa, 0.0), np.where(ok[:, None], gn - ga, 0.0))
        nit[idx] += 1
        small = (fa - fn) <= ftol * np.maximum(np.maximum(np.abs(fa), np.abs(fn)), 1.0)
        pg = np.abs(np.where(_free(xn, gn, lo, hi), gn, 0.0)).max(axis=1)
        done = np.where(~ok, LINE_SEARCH_FAILED, np.where(small | (pg <= gtol), CONVERGED, -1))
        xa, fa, ga = xn, fn, gn
        fin = done >= 0
        if fin.any():  # write finished starts back, keep iterating on the rest
            x[idx[fin]], f[idx[fin]], g[idx[fin]] = xa[fin], fa[fin], ga[fin]
            status[idx[fin]] = done[fin]
            idx, xa, fa, ga = idx[~fin], xa[~fin], fa[~fin], ga[~fin]
            hist.keep(~fin)
    x[idx], f[idx], status[idx] = xa, fa, MAX_ITER
    return BatchResult(x, f, status, nit, n_eval)

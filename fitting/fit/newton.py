"""Final polish: Levenberg-Marquardt steps on the IRLS model of the Huber loss.

With a small delta most residuals sit on the linear arms of the Huber loss, and
the objective has long, nearly flat ridges (an exponent traded against its
coefficient) on which L-BFGS's curvature estimates stall. Near an optimum a
Gauss-Newton metric captures those ridges exactly: with Jacobian ``J`` of the log
prediction and IRLS weights ``w_i = min(1, delta / |r_i|)`` (the quadratic that
majorises the Huber loss at the current residuals; Huber 1981, §7.8),
``(J^T W J + lambda diag) step = -J^T psi(r)``. Steps are kept only when the
objective drops, so this can only improve on what it is given.
"""

from __future__ import annotations

import numpy as np

from flopwise.fitting.fit.lse import LogData, objective

__all__ = ["lm_polish"]


def _jacobian(theta: np.ndarray, data: LogData) -> tuple[np.ndarray, np.ndarray]:
    """Log prediction ``(n,)`` and its Jacobian ``(n, 2k+1)`` at one theta."""
    k = data.k
    t = theta[k : 2 * k] - theta[:k] * data.log_x
    t = np.concatenate([t, np.full((data.n, 1), theta[2 * k])], axis=1)
    shift = t.max(axis=1, keepdims=True)
    w = np.exp(t - shift)
    z = w.sum(axis=1, keepdims=True)
    soft = w / z
    jac = np.concatenate([-soft[:, :k] * data.log_x, soft], axis=1)
    return (shift + np.log(z))[:, 0], jac


def lm_polish(
    theta: np.ndarray,
    data: LogData,
    delta: float,
    bounds: tuple[np.ndarray, np.ndarray],
    *,
    max_iter: int = 300,
) -> tuple[np.ndarray, float]:
    """Polish one theta (shared observation weights only); returns (theta, objective)."""
    if data.loss != "huber":  # the IRLS model below is Huber's
        return theta, float(objective(theta[None, :], data, delta)[0])
    lo, hi = bounds
    weights = 1.0 if data.weights is None else data.weights
    theta = np.clip(np.asarray(theta, dtype=float), lo, hi)
    f = float(objective(theta[None, :], data, delta)[0])
    lam = 1e-3
    for _ in range(max_iter):
        pred, jac = _jacobian(data.full(theta)[0], data)
        if data.pmap is not None:
            jac = data.pmap.pull_back(jac)
        r = pred - data.log_loss
        psi = np.clip(r, -delta, delta) * weights
        irls = np.where(np.abs(r) <= delta, 1.0, delta / np.maximum(np.abs(r), 1e-300)) * weights
        grad = jac.T @ psi
        hess = jac.T @ (irls[:, None] * jac)
        diag = np.maximum(np.diag(hess), 1e-12 * max(1.0, float(np.max(np.diag(hess)))))
        improved = False
        while lam < 1e12:
            try:
                step = np.linalg.solve(hess + lam * np.diag(diag), -grad)
            except np.linalg.LinAlgError:
                lam *= 10.0
                continue
            trial = np.clip(theta + step, lo, hi)
            ft = float(objective(trial[None, :], data, delta)[0])
            if np.isfinite(ft) and ft < f:
                improved = f - ft > 1e-16 * abs(f)
                theta, f, lam = trial, ft, max(lam / 5.0, 1e-12)
                break
            lam *= 4.0
        if not improved:
            break
    return theta, f

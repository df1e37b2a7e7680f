"""Log-sum-exp power laws: the model behind every Chinchilla-type parametric fit.

A law ``L = exp(e) + sum_j exp(c_j) x_j^-a_j`` has log loss
``log L = LSE(c_1 - a_1 log x_1, ..., c_k - a_k log x_k, e)`` (Hoffmann et al.
2022, App. D.2 Eq. 10; Gemstones ``depth_width.py`` for k = 3, 4). Parameter
vectors are laid out as the Gemstones JSON stores them:
``theta = (a_1..a_k, c_1..c_k, e)``.

Everything is batched over starts: ``theta`` is ``(S, 2k + 1)`` and one call
returns S objectives and S analytic gradients of the summed Huber loss, so a
whole grid of starts advances together. The LSE is stabilised with one shift per
start (the largest term over all rows, known in closed form from the range of
``log x``), which keeps the inner loops to a few passes over ``S x n`` cells; rows
that would underflow under that shift are recomputed with a per-row shift.
"""

from __future__ import annotations

import numpy as np

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.fit.constraints import ParamMap
from flopwise.fitting.fit.objectives import OBJECTIVES

__all__ = ["LogData", "log_predict", "n_inputs", "objective", "objective_and_grad"]

_CHUNK_CELLS = 60_000
"""Starts are processed in chunks of about this many (start x row) cells (cache-sized)."""


class LogData:
    """Inputs in log space, prepared once per fit: ``log_x (n, k)``, ``log_loss (n,)`` and
    optional observation weights, ``(n,)`` or one row per start ``(S, n)``."""

    def __init__(
        self,
        log_x: np.ndarray,
        log_loss: np.ndarray,
        weights: np.ndarray | None = None,
        dtype: type = np.float64,
        *,
        pmap: ParamMap | None = None,
        loss: str = "huber",
    ) -> None:
        self.pmap = pmap
        """Free parameters -> full theta (ties, fixed values); ``None``: all free."""
        self.loss = loss
        """The objective's name in ``objectives.OBJECTIVES``."""
        self.dtype = np.dtype(dtype)
        self.log_x = np.ascontiguousarray(log_x, dtype=self.dtype)
        self.cols = [np.ascontiguousarray(self.log_x[:, j]) for j in range(self.log_x.shape[1])]
        # per term, (1, -log x_j): one matrix product gives d/dc_j and d/da_j together
        self.design = [np.stack([np.ones_like(c), -c], axis=1) for c in self.cols]
        self.lo = self.log_x.min(axis=0)
        self.hi = self.log_x.max(axis=0)
        self.log_loss = np.ascontiguousarray(log_loss, dtype=self.dtype)
        self.weights = None if weights is None else np.asarray(weights, dtype=self.dtype)
        self.tiny = float(np.finfo(self.dtype).tiny) ** 0.9
        """Below this a row's sum of exponentials is taken to have underflowed."""

    def as_type(self, dtype: type) -> LogData:
        """The same data in another float type (float32 for fast first passes)."""
        return LogData(
            self.log_x, self.log_loss, self.weights, dtype, pmap=self.pmap, loss=self.loss
        )

    def free(self, theta: np.ndarray) -> np.ndarray:
        """The solver's (free) parameters of full theta rows."""
        theta = np.atleast_2d(theta)
        return theta if self.pmap is None else self.pmap.reduce(theta)

    def full(self, theta: np.ndarray) -> np.ndarray:
        """Full theta rows from the solver's (free) parameters."""
        theta = np.atleast_2d(theta)
        return theta if self.pmap is None else self.pmap.expand(theta)

    @property
    def k(self) -> int:
        return self.log_x.shape[1]

    @property
    def n(self) -> int:
        return len(self.log_loss)


def n_inputs(n_params: int) -> int:
    """k, the number of power-law terms, from the length 2k + 1 of ``theta``."""
    if n_params < 3 or n_params % 2 == 0:
        raise ArgumentError("theta", f"expected 2k + 1 parameters, got {n_params}")
    return (n_params - 1) // 2


def _start_shift(theta: np.ndarray, data: LogData) -> np.ndarray:
    """Per start, the largest LSE term over every row: ``max(e, max_j c_j - a_j x_j)``."""
    k = data.k
    exps, coefs = theta[:, :k], theta[:, k : 2 * k]
    worst_x = np.where(exps > 0, data.lo, data.hi)
    return np.maximum((coefs - exps * worst_x).max(axis=1), theta[:, 2 * k])


def _terms(theta: np.ndarray, data: LogData) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """``exp(term_j - shift)`` per term ``(S, n)``, ``z`` = their sum with exp(e), shift."""
    k = data.k
    theta = theta.astype(data.dtype, copy=False)
    shift = _start_shift(theta, data)[:, None]
    w = []
    for j in range(k):
        t = np.multiply.outer(-theta[:, j], data.cols[j])
        t += theta[:, k + j : k + j + 1] - shift
        w.append(np.exp(t, out=t))
    z = np.exp(theta[:, 2 * k : 2 * k + 1] - shift) + w[0]
    for j in range(1, k):
        z += w[j]
    bad = z.min(axis=1) < data.tiny
    if bad.any():  # some row far below its start's largest term: shift those per row
        shift = np.repeat(shift, data.n, axis=1)
        w_bad, z[bad], shift[bad] = _terms_per_row(theta[bad], data)
        for j in range(k):
            w[j][bad] = w_bad[j]
    return w, z, shift


def _terms_per_row(
    theta: np.ndarray, data: LogData
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    k = data.k
    t = [theta[:, k + j, None] - np.multiply.outer(theta[:, j], data.cols[j]) for j in range(k)]
    e = np.broadcast_to(theta[:, 2 * k, None], t[0].shape)
    shift = np.maximum(np.max(t, axis=0), e)
    w = [np.exp(tj - shift) for tj in t]
    z = np.exp(e - shift) + np.sum(w, axis=0)
    return w, z, shift


def _chunks(n_starts: int, n_rows: int) -> list[slice]:
    size = max(1, _CHUNK_CELLS // max(1, n_rows))
    return [slice(i, min(i + size, n_starts)) for i in range(0, n_starts, size)]


def log_predict(theta: np.ndarray, log_x: np.ndarray) -> np.ndarray:
    """Predicted log loss, ``(S, n)`` for ``theta (S, 2k+1)`` and ``log_x (n, k)``."""
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    data = LogData(np.atleast_2d(log_x), np.zeros(len(log_x)))
    _, z, shift = _terms(theta, data)
    return shift + np.log(z)


def _residuals(theta: np.ndarray, data: LogData) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Shifted exponentials, their sums ``z`` and residuals ``log L_hat - log L``."""
    w, z, shift = _terms(theta, data)
    r = np.log(z)
    r += shift
    r -= data.log_loss
    return w, z, r


def _huber_sum(r: np.ndarray, dh: np.ndarray, weighted_dh: np.ndarray | None = None) -> np.ndarray:
    """Row sums of the (weighted) Huber loss from ``dh = clip(r)``: ``h = dh (r - dh/2)``,
    so ``sum w h = (w dh) . r - (w dh) . dh / 2``."""
    wdh = dh if weighted_dh is None else weighted_dh
    return np.einsum("si,si->s", wdh, r) - 0.5 * np.einsum("si,si->s", wdh, dh)


def _weights(data: LogData, rows: np.ndarray | None, sl: slice) -> np.ndarray | None:
    """Observation weights of the starts in ``sl``: shared ``(n,)`` or per start ``(S, n)``."""
    if data.weights is None or data.weights.ndim == 1:
        return data.weights
    if rows is None:
        raise ArgumentError("rows", "per-start weights need the starts' row indices")
    return data.weights[rows[sl]]


def _value_and_slope(
    r: np.ndarray, delta: float, loss: str, wt: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Row sums of the (weighted) objective and its weighted derivative in ``r``."""
    fn = OBJECTIVES[loss]
    if fn is None:  # summed Huber: the hot path
        dh = np.clip(r, -delta, delta)
        if wt is None:
            return _huber_sum(r, dh), dh
        wdh = dh * wt
        return _huber_sum(r, dh, wdh), wdh
    value, slope = fn(r, delta)
    if wt is not None:
        value, slope = value * wt, slope * wt
    return value.sum(axis=1), slope


def objective(
    theta: np.ndarray, data: LogData, delta: float, rows: np.ndarray | None = None
) -> np.ndarray:
    """The summed objective (Huber by default) of each start, ``(S,)``: no gradient."""
    theta = data.full(theta)
    out = np.empty(len(theta))
    for sl in _chunks(len(theta), data.n):
        _, _, r = _residuals(theta[sl], data)
        out[sl] = _value_and_slope(r, delta, data.loss, _weights(data, rows, sl))[0]
    return out


def objective_and_grad(
    theta: np.ndarray, data: LogData, delta: float, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The summed objective ``(S,)`` and its analytic gradient in the free parameters.

    d pred / d c_j = softmax_j, d pred / d a_j = -softmax_j log x_j and
    d pred / d e = softmax_e, chained with the objective's derivative (Huber' =
    clip(residual, ±delta)) and pulled back through ``data.pmap``.
    """
    theta = data.full(theta)
    k = data.k
    f = np.empty(len(theta))
    g = np.empty((len(theta), 2 * k + 1))
    for sl in _chunks(len(theta), data.n):
        w, z, r = _residuals(theta[sl], data)
        f[sl], dh = _value_and_slope(r, delta, data.loss, _weights(data, rows, sl))
        total = dh.sum(axis=1)
        u = np.divide(dh, z, out=dh)
        for j in range(k):
            both = np.multiply(u, w[j], out=w[j]) @ data.design[j]
            g[sl, k + j], g[sl, j] = both[:, 0], both[:, 1]
        g[sl, 2 * k] = total - g[sl, k : 2 * k].sum(axis=1)
    return f, (g if data.pmap is None else data.pmap.pull_back(g))

"""Data-constrained decay constants (Muennighoff et al. 2023, Eq. 5-7, App. A).

With a base Chinchilla law fixed, the loss of a run that repeats data or
over-sizes the model depends on two constants: R_D* (how fast repeated tokens lose
value) and R_N* (how fast excess parameters do). They are fitted like Approach 3:
summed Huber loss on log loss, L-BFGS from the grid R* in {1, 4, 8, ..., 20}
(the authors' grid {0, 4, ..., 20} without the degenerate 0), with an analytic
gradient in ``log R*`` (which keeps both positive).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np

from flopwise.fitting import forms
from flopwise.fitting.fit.huber import huber, huber_grad

__all__ = ["DecayData", "decay_grid", "decay_objective", "decay_predict"]


class DecayData:
    """What the decay fit needs, computed once from runs and the base law."""

    def __init__(
        self,
        params: np.ndarray,
        tokens: np.ndarray,
        unique_tokens: np.ndarray,
        loss: np.ndarray,
        base: Mapping[str, float],
    ) -> None:
        self.base = {k: float(base[k]) for k in ("E", "A", "B", "alpha", "beta")}
        self.u_d = np.minimum(unique_tokens, tokens)
        self.rep_d = tokens / self.u_d - 1.0
        g = {k: self.base[k] for k in ("A", "B", "alpha", "beta")}
        self.u_n = forms.unique_params(self.u_d, params, **g)
        self.rep_n = np.maximum(params / self.u_n - 1.0, 0.0)
        self.log_loss = np.log(loss)
        self.weights: np.ndarray | None = None
        """Per-start observation weights ``(S, n)`` (bootstrap), or ``None``."""
        self._inputs = (params, tokens, unique_tokens, loss)

    def subset(self, index: np.ndarray) -> DecayData:
        """The same fit on some observations (weights are not carried over)."""
        params, tokens, unique, loss = self._inputs
        return DecayData(params[index], tokens[index], unique[index], loss[index], self.base)


def _effective(u: np.ndarray, rep: np.ndarray, log_r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``U + U R (1 - exp(-rep / R))`` (Eq. 5/6) for ``R = exp(log_r) (S, 1)`` and its
    derivative in log R."""
    r = np.exp(log_r)
    decay = np.exp(-rep[None, :] / r)
    value = u + u * r * (1.0 - decay)
    d_log_r = u * r * (1.0 - decay) - u * rep[None, :] * decay
    return value, d_log_r


def decay_objective(
    theta: np.ndarray, data: DecayData, delta: float, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Summed Huber loss and gradient for ``theta (S, 2) = (log R_N*, log R_D*)``."""
    b = data.base
    n_eff, dn = _effective(data.u_n, data.rep_n, theta[:, :1])
    d_eff, dd = _effective(data.u_d, data.rep_d, theta[:, 1:2])
    term_n = b["A"] * n_eff ** -b["alpha"]
    term_d = b["B"] * d_eff ** -b["beta"]
    pred = b["E"] + term_n + term_d
    r = np.log(pred) - data.log_loss
    psi = huber_grad(r, delta) / pred
    grad = np.stack(
        [
            np.sum(psi * (-b["alpha"] * term_n / n_eff) * dn, axis=1),
            np.sum(psi * (-b["beta"] * term_d / d_eff) * dd, axis=1),
        ],
        axis=1,
    )
    h = huber(r, delta)
    if data.weights is not None and rows is not None:
        w = data.weights[rows]
        h, grad = (
            h * w,
            np.stack(
                [
                    np.sum(w * psi * (-b["alpha"] * term_n / n_eff) * dn, axis=1),
                    np.sum(w * psi * (-b["beta"] * term_d / d_eff) * dd, axis=1),
                ],
                axis=1,
            ),
        )
    return h.sum(axis=1), grad


def decay_grid() -> np.ndarray:
    """Starts in ``(log R_N*, log R_D*)``: every pair from {1, 4, 8, 12, 16, 20}."""
    axis = np.log([1.0, 4.0, 8.0, 12.0, 16.0, 20.0])
    return np.array(list(itertools.product(axis, axis)))


def decay_predict(data: DecayData, theta: np.ndarray) -> np.ndarray:
    """Predicted loss at ``theta = (log R_N*, log R_D*)`` (Eq. 7 with the base law)."""
    b = data.base
    n_eff, _ = _effective(data.u_n, data.rep_n, np.atleast_2d(theta)[:, :1])
    d_eff, _ = _effective(data.u_d, data.rep_d, np.atleast_2d(theta)[:, 1:2])
    return np.asarray(b["E"] + b["A"] * n_eff[0] ** -b["alpha"] + b["B"] * d_eff[0] ** -b["beta"])

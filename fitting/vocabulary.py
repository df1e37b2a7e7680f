"""The compute-optimal vocabulary: Tao et al. 2024, *Scaling Laws with Vocabulary: Larger
Models Deserve Larger Vocabularies*, arXiv:2407.13623 (NeurIPS 2024); the constants are
the authors' fitted values as their repository ``sail-sg/scaling-with-vocab`` holds them
(``optimal_Nv_predict.py``).

Tao et al. split a model into non-vocabulary parameters N_nv (everything but the
embeddings) and vocabulary parameters N_v = V d (vocabulary times width), and predict the
best N_v from N_nv three ways (paper §4):

1. **IsoFLOPs** (§4.1): the optimal points of isoFLOP curves follow
   ``N_nv = 0.0834 C^0.5`` and ``N_v = 0.204 C^0.4164``, so N_v = f(C(N_nv)).
2. **Derivative** (§4.2): the minimum of FLOPs over V at a fixed loss, anchored at the
   best vocabulary of the 33M model (3,145,728 vocabulary parameters) and scaled as
   ``N_v ∝ N_nv^0.8354``.
3. **Parametric fit** (§4.3): ``L_u = -E + A1/N_nv^a1 + A2/N_v^a2 + B/D^beta`` (unigram-
   normalised loss) minimised over V at a FLOP budget C = 6 (N_nv + V d) D; the only one
   that answers for a budget other than the compute-optimal one.

For a Llama-2-70B-sized model (N_nv = 70B, width 8,192) they give 212K, 231K and 218K
tokens; the paper's abstract rounds this to "at least 216K" (docs/laws.md §16). They fitted
models of 33M to 3B parameters (N_nv 33M to 2.87B): beyond, every answer is an
extrapolation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from flopwise.fitting.checks import positive

__all__ = [
    "FITTED_NNV",
    "Vocabulary",
    "derivative_vocab_params",
    "isoflop_vocab_params",
    "optimal_flops",
    "optimal_vocabulary",
    "parametric_vocab_params",
]

FITTED_NNV = (33e6, 2.87e9)
"""Non-vocabulary parameters of the smallest and largest models Tao et al. trained."""

_LOG_K_NNV, _A_NNV = -2.4846510161625193, 0.5
_LOG_K_NV, _A_NV = -1.589031299255507, 0.4163622634135234
_NV_33M, _GAMMA = 3_145_728.0, 0.8353974035228025
_A1, _A2, _B = 1.8313851559554126, 0.19584238398665638, 2.1241123120064955
_ALPHA2, _BETA = 0.6707374679896795, 0.44660634152009615


def optimal_flops(n_nv: float) -> float:
    """Tao et al. 2024 §4.1: the budget at which ``n_nv`` is compute-optimal, inverting
    ``N_nv = exp(-2.4847) C^0.5`` (0.0834 C^0.5). N_nv = 70B: 7.05e23 FLOPs.

    >>> f"{optimal_flops(70e9):.3g}"
    '7.05e+23'
    """
    return (positive("n_nv", n_nv) / math.exp(_LOG_K_NNV)) ** (1.0 / _A_NNV)


def isoflop_vocab_params(n_nv: float) -> float:
    """Tao et al. 2024 §4.1 (Approach 1): ``N_v = exp(-1.589) C^0.4164`` at the budget
    where ``n_nv`` is optimal. N_nv = 70B: 1.736e9 (212K tokens at width 8,192).

    >>> round(isoflop_vocab_params(70e9) / 8192)
    211860
    """
    return math.exp(_LOG_K_NV) * optimal_flops(n_nv) ** _A_NV


def derivative_vocab_params(n_nv: float) -> float:
    """Tao et al. 2024 §4.2 (Approach 2): ``N_v = 3,145,728 (N_nv / 33M)^0.8354``.
    N_nv = 70B: 1.891e9 (231K tokens at width 8,192).

    >>> round(derivative_vocab_params(70e9) / 8192)
    230861
    """
    return _NV_33M * (positive("n_nv", n_nv) / 33e6) ** _GAMMA


def parametric_vocab_params(n_nv: float, width: float, flops: float | None = None) -> float:
    """Tao et al. 2024 §4.3 (Approach 3): the V where ``dL_u/dV = 0`` for
    ``L_u = -E + A1/N_nv^a1 + A2/(V d)^a2 + B/D^beta`` with ``D = C / (6 (N_nv + V d))``
    (A2 = 0.1958, a2 = 0.6707, B = 2.1241, beta = 0.4466; N in millions, C in 1e15), at
    ``flops`` (default: the compute-optimal budget of ``n_nv``). N_nv = 70B, width 8,192:
    1.786e9 (218K tokens).

    >>> round(parametric_vocab_params(70e9, 8192) / 8192)
    217961
    """
    c = optimal_flops(n_nv) if flops is None else positive("flops", flops)
    n, d, f = n_nv / 1e6, positive("width", width) / 1e3, c / 1e15

    def slope(v: float) -> float:
        tokens = f / (6.0 * (n + v * d))
        d_tokens = f * d / (6.0 * (n + v * d) ** 2)
        return -_ALPHA2 * _A2 * d / (v * d) ** (_ALPHA2 + 1) + _BETA * _B * d_tokens / tokens ** (
            _BETA + 1
        )

    return _root(slope, 1e-6, 1e6) * 1e3 * width


def _root(fn: Callable[[float], float], lo: float, hi: float) -> float:
    """The sign change of ``fn`` in ``[lo, hi]`` by bisection in log space (answers load
    no scipy.optimize; docs/architecture.md)."""
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        if fn(mid) < 0:
            lo = mid
        else:
            hi = mid
    return math.sqrt(lo * hi)


@dataclass(frozen=True)
class Vocabulary:
    """Tao et al.'s three predictions of the best vocabulary for one model."""

    non_vocab_params: float
    width: int
    isoflops: int
    """Approach 1, in tokens."""
    derivative: int
    """Approach 2, in tokens."""
    parametric: int
    """Approach 3 at the plan's budget, in tokens: the one a plan uses."""
    warnings: tuple[str, ...] = ()


def optimal_vocabulary(n_nv: float, width: int, flops: float | None = None) -> Vocabulary:
    """The three approaches' vocabularies (N_v / width, whole tokens) for ``n_nv``
    non-vocabulary parameters at ``width``; a warning outside the fitted N_nv."""
    lo, hi = FITTED_NNV
    warnings = []
    if not lo <= positive("n_nv", n_nv) <= hi:
        warnings.append(
            f"Tao et al. 2024 fitted the optimal vocabulary on non-vocabulary sizes "
            f"{lo:.3g} to {hi:.3g}; {n_nv:.3g} is an extrapolation"
        )
    return Vocabulary(
        non_vocab_params=float(n_nv),
        width=int(width),
        isoflops=int(isoflop_vocab_params(n_nv) / width),
        derivative=int(derivative_vocab_params(n_nv) / width),
        parametric=int(parametric_vocab_params(n_nv, width, flops) / width),
        warnings=tuple(warnings),
    )

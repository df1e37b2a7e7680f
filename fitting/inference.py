"""Inference-aware optimum (Sardana et al. 2024, "Beyond Chinchilla-Optimal").

Training costs 6 FLOPs per parameter per token and inference 2 (their
``FLOPMode``). With lifetime inference demand ``D_inf`` tokens, the model that
reaches a target loss at the least *total* cost is smaller and trained longer
than the Chinchilla-optimal one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.optimize import brentq

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.forms import chinchilla_g, chinchilla_loss, law_form
from flopwise.fitting.laws import Law

__all__ = ["InferenceOptimum", "chinchilla_for_loss", "inference_optimal_for_loss", "quality_loss"]


def _chinchilla_constants(law: Law) -> tuple[float, float, float, float, float]:
    k = law_form(law).chinchilla_constants(law)
    if k is None:
        raise ArgumentError(
            "law", f"inference-aware sizing needs a Chinchilla-form law, {law.id} is {law.form}"
        )
    return k["E"], k["A"], k["B"], k["alpha"], k["beta"]


def quality_loss(law: Law, n_params: float) -> float:
    """Loss of the "N-Chinchilla-quality" model (Sardana et al., ``model_calculator``).

    ``L(N, D_N)`` with ``D_N`` the Approach-3 compute-optimal token count for N:
    ``C/6 = (N/G)^(1/a)``, ``D_N = G^-1 (C/6)^b`` (not 20 tokens per parameter).
    """
    E, A, B, alpha, beta = _chinchilla_constants(law)
    g = chinchilla_g(A=A, B=B, alpha=alpha, beta=beta)
    a, b = beta / (alpha + beta), alpha / (alpha + beta)
    c_over_6 = (n_params / g) ** (1.0 / a)
    tokens = c_over_6**b / g
    return float(chinchilla_loss(n_params, tokens, E=E, A=A, B=B, alpha=alpha, beta=beta))


def chinchilla_for_loss(law: Law, target_loss: float) -> tuple[float, float]:
    """The compute-optimal ``(N, D)`` reaching ``target_loss`` (Sardana's D_inf = 0 case).

    ``D = [B (beta/alpha + 1) / (l - E)]^(1/beta)``, ``N = [A (alpha/beta + 1) / (l - E)]^(1/alpha)``.
    """
    E, A, B, alpha, beta = _chinchilla_constants(law)
    gap = _gap(target_loss, E)
    return (A * (alpha / beta + 1) / gap) ** (1 / alpha), (B * (beta / alpha + 1) / gap) ** (
        1 / beta
    )


def _gap(target_loss: float, E: float) -> float:
    if not math.isfinite(target_loss) or target_loss <= E:
        raise ArgumentError(
            "target_loss", f"must exceed the law's irreducible loss E = {E:.4f}, got {target_loss}"
        )
    return target_loss - E


@dataclass(frozen=True)
class InferenceOptimum:
    """The least-total-cost model for a loss and an inference demand, vs Chinchilla's."""

    target_loss: float
    inference_tokens: float
    params: float
    tokens: float
    training_flops: float
    inference_flops: float
    chinchilla_params: float
    chinchilla_tokens: float
    chinchilla_total_flops: float

    @property
    def total_flops(self) -> float:
        return self.training_flops + self.inference_flops

    @property
    def saving(self) -> float:
        """Fraction of lifetime FLOPs saved against the Chinchilla-optimal model."""
        return 1.0 - self.total_flops / self.chinchilla_total_flops


def inference_optimal_for_loss(
    law: Law, target_loss: float, inference_tokens: float
) -> InferenceOptimum:
    """Sardana et al.: argmin ``6 N D + 2 N D_inf`` subject to ``L(N, D) = target_loss``.

    The first-order condition in ``x = D`` (their compute-optimal script),
    ``(beta B / alpha + B) x^-beta + (beta B D_inf / (3 alpha)) x^(-beta-1) = l - E``,
    is decreasing in x and positive at the Chinchilla point, so its root is
    bracketed and found by Brent's method in log x; then
    ``N = [A / (l - E - B x^-beta)]^(1/alpha)``. With alpha 0.336, beta 0.283, a
    30B-quality model and 1e13 inference tokens: N = 1.361e10, D = 2.845 D_0, 28.0%
    fewer FLOPs (docs/laws.md §6.3).
    """
    E, A, B, alpha, beta = _chinchilla_constants(law)
    if not math.isfinite(inference_tokens) or inference_tokens < 0:
        raise ArgumentError(
            "inference_tokens", f"must be a non-negative finite number, got {inference_tokens}"
        )
    gap = _gap(target_loss, E)
    n0, d0 = chinchilla_for_loss(law, target_loss)
    total0 = 6 * n0 * d0 + 2 * n0 * inference_tokens
    if inference_tokens == 0:
        return InferenceOptimum(target_loss, 0.0, n0, d0, 6 * n0 * d0, 0.0, n0, d0, total0)
    c1 = beta * B / alpha + B
    c2 = beta * B * inference_tokens / (3 * alpha)

    def foc(log_x: float) -> float:
        x = math.exp(log_x)
        return c1 * x**-beta + c2 * x ** (-beta - 1) - gap

    lo = math.log(d0)
    if foc(lo) <= 0:  # the inference term is below rounding at D_0: the optimum is D_0
        x = d0
    else:
        hi = lo + 1.0
        while foc(hi) > 0:
            hi += 2.0
        x = math.exp(brentq(foc, lo, hi, xtol=1e-14, rtol=1e-14))
    n = (A / (gap - B * x**-beta)) ** (1 / alpha)
    return InferenceOptimum(
        target_loss=target_loss,
        inference_tokens=inference_tokens,
        params=n,
        tokens=x,
        training_flops=6 * n * x,
        inference_flops=2 * n * inference_tokens,
        chinchilla_params=n0,
        chinchilla_tokens=d0,
        chinchilla_total_flops=total0,
    )

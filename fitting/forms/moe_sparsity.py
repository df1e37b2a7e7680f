"""A sparsity form in the spirit of Abnar et al. 2025, *Parameters vs FLOPs: Scaling Laws
for Optimal Sparsity for Mixture-of-Experts Language Models*, arXiv:2501.12370, Eq. 6 as
secondary sources restate it [S]:

    L(N, D, S) = e + a / N^alpha + b / D^beta + c / (1 - S)^lam + d / ((1 - S)^delta N^gamma)

with N the total parameters, D the tokens and S = 1 - k/E the sparsity (the fraction of
routed experts a token skips; Ludziejewski et al. 2025, arXiv:2502.05172, fit a related
joint law in the expert count). Form only: the paper's constants (its App. F) were not
retrieved, so no built-in law uses it; fitted numerically by Approach 3 (no LSE layout:
the interaction term multiplies two inputs). docs/laws.md §15.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from flopwise.fitting.forms.base import Num
from flopwise.fitting.forms.mixture import MoEForm
from flopwise.fitting.forms.numeric import NumericSpec
from flopwise.fitting.forms.registry import register

__all__ = ["MoESparsity", "moe_sparsity_loss"]

_NAMES = ("e", "a", "alpha", "b", "beta", "c", "lam", "d", "delta", "gamma")


def moe_sparsity_loss(
    n: Num, tokens: Num, sparsity: Num, *, e: Num, a: Num, alpha: Num, b: Num, beta: Num,
    c: Num, lam: Num, d: Num, delta: Num, gamma: Num,
) -> Num:  # fmt: skip
    """Abnar et al. 2025 Eq. 6 [S]: ``e + a/N^alpha + b/D^beta + c/(1-S)^lam +
    d/((1-S)^delta N^gamma)``; at S = 0 (dense) the last two terms are ``c + d/N^gamma``.

    >>> k = dict(e=1.5, a=400.0, alpha=0.3, b=900.0, beta=0.3, c=0.1, lam=-0.5, d=5.0,
    ...          delta=0.2, gamma=0.1)
    >>> round(float(moe_sparsity_loss(1e9, 2e10, 0.75, **k)), 4)
    3.9097
    """
    active = 1.0 - np.asarray(sparsity, dtype=float)
    mixed = d / (np.power(active, delta) * np.power(n, gamma))
    return (
        e + a / np.power(n, alpha) + b / np.power(tokens, beta) + c / np.power(active, lam) + mixed
    )


@register
class MoESparsity(MoEForm):
    """e + a/N^alpha + b/D^beta + c/(1-S)^lam + d/((1-S)^delta N^gamma) (Abnar et al. 2025)."""

    name: ClassVar[str] = "moe-sparsity"
    constants: ClassVar[tuple[str, ...]] = _NAMES
    optional: ClassVar[tuple[str, ...]] = ("sparsity", "active_ratio", "expansion_rate")
    moe_input: ClassVar[str] = "sparsity"
    moe_default: ClassVar[float] = 0.0
    numeric: ClassVar[NumericSpec | None] = NumericSpec(
        inputs=("sparsity",),
        names=_NAMES,
        logs=("e", "a", "b", "c", "d"),
        bounds={
            "e": (-10.0, 3.0),
            "a": (-10.0, 15.0),
            "alpha": (0.0, 2.0),
            "b": (-10.0, 15.0),
            "beta": (0.0, 2.0),
            "c": (-15.0, 3.0),
            "lam": (-3.0, 3.0),
            "d": (-15.0, 10.0),
            "delta": (-3.0, 3.0),
            "gamma": (0.0, 2.0),
        },
        starts={
            "e": (0.0,),
            "a": (2.0, 6.0),
            "alpha": (0.2, 0.5),
            "b": (2.0, 6.0),
            "beta": (0.2, 0.5),
            "c": (-5.0,),
            "lam": (-0.5, 0.5),
            "d": (-2.0, 1.0),
            "delta": (0.0,),
            "gamma": (0.1,),
        },
    )

    def moe_loss(self, k: Mapping[str, Any], params: Num, tokens: Num, design: Num) -> Num:
        return moe_sparsity_loss(params, tokens, design, **{n: k[n] for n in _NAMES})

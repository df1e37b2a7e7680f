"""McLeish et al. 2025 (Gemstones), arXiv Eq. 2: a law in width, depth, parameters
and tokens, ``L = E + A_w/w^alpha_w + A_d/d^alpha_d + A_p/p^alpha_p + B/T^beta``.

It predicts from a shape and chooses the shape itself: the optimum at a budget is the
best feasible (width, depth), found on the lower convex hull of (FLOPs-per-token^beta,
shape terms) (``fitting.shape.width_depth_hull``). C counts Gemstones' FLOPs (App. M).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.forms.base import LawForm, LseSpec, Num, Optimum
from flopwise.fitting.forms.registry import register
from flopwise.fitting.laws import CDefinition, Law, NDefinition
from flopwise.fitting.shape import (
    ShapeConstraints,
    law_flops_per_token,
    law_params,
    width_depth_hull,
)

__all__ = ["WidthDepth", "WidthDepthForm", "width_depth_loss", "width_depth_shape_terms"]


def width_depth_shape_terms(
    width: Num,
    depth: Num,
    params: Num,
    *,
    E: Num,
    A_w: Num,
    alpha_w: Num,
    A_d: Num,
    alpha_d: Num,
    A_p: Num,
    alpha_p: Num,
) -> Num:
    """McLeish et al. 2025 (Gemstones), arXiv Eq. 2 less its tokens term:
    ``E + A_w/w^alpha_w + A_d/d^alpha_d + A_p/p^alpha_p``, what a shape costs in loss."""
    return (
        E
        + A_w / np.power(width, alpha_w)
        + A_d / np.power(depth, alpha_d)
        + A_p / np.power(params, alpha_p)
    )


def width_depth_loss(
    width: Num,
    depth: Num,
    params: Num,
    tokens: Num,
    *,
    B: Num,
    beta: Num,
    **shape: Num,
) -> Num:
    """McLeish et al. 2025 (Gemstones), arXiv Eq. 2:
    ``L = E + A_w/w^alpha_w + A_d/d^alpha_d + A_p/p^alpha_p + B/T^beta``
    (``shape``: the constants of :func:`width_depth_shape_terms`).

    Main fit (delta 1e-4, ``hot_100b+``) at 1024 x 28, T = 3.5012e11: 2.7081
    (docs/laws.md §8.5, §11 row 16).
    """
    return width_depth_shape_terms(width, depth, params, **shape) + B / np.power(tokens, beta)


class WidthDepthForm(LawForm):
    """What every width-depth form shares: shape-aware prediction and optimum."""

    c_definition: ClassVar[CDefinition] = CDefinition.GEMSTONES
    shape_aware: ClassVar[bool] = True
    loss_params: ClassVar[NDefinition | None] = NDefinition.TOTAL

    def refuse_extras(self, law: Law, unique_tokens: Any, inference_tokens: Any) -> None:
        if unique_tokens is not None or inference_tokens is not None:
            raise ArgumentError(
                "law", f"{law.id} ({law.form}) supports neither unique_tokens nor inference_tokens"
            )

    def frontier(self, law: Law, flops: np.ndarray, constraints: ShapeConstraints) -> Optimum:
        family = constraints.family(law.family)
        hull = width_depth_hull(
            law, family, constraints, lambda w, d, p: self.shape_terms(law.constants, w, d, p)
        )
        i = hull.best(flops)
        w, d = hull.width[i], hull.depth[i]
        f = np.asarray(law_flops_per_token(law, family, w, d), dtype=float)
        tokens = flops / f
        loss = hull.s[i] + hull.B * np.power(tokens, -hull.beta)
        return law_params(law.n_definition, family, w, d).astype(float), tokens, loss, (w, d)


_SHAPE = ("E", "A_w", "alpha_w", "A_d", "alpha_d", "A_p", "alpha_p")
_WD = (*_SHAPE, "B", "beta")


@register
class WidthDepth(WidthDepthForm):
    """Gemstones Eq. 2: E + A_w/w^alpha_w + A_d/d^alpha_d + A_p/p^alpha_p + B/T^beta."""

    name: ClassVar[str] = "width-depth"
    constants: ClassVar[tuple[str, ...]] = _WD
    lse: ClassVar[LseSpec | None] = LseSpec(
        "width-depth",
        ("width", "depth", "params", "tokens"),
        ("alpha_w", "alpha_d", "alpha_p", "beta"),
        ("A_w", "A_d", "A_p", "B"),
        _WD,
    )

    def loss(self, k: Mapping[str, Any], *, params: Num, tokens: Num, **inputs: Num) -> Num:
        return width_depth_loss(inputs["width"], inputs["depth"], params, tokens, **k)

    def shape_terms(self, k: Mapping[str, Any], width: Num, depth: Num, params: Num) -> Num:
        return width_depth_shape_terms(width, depth, params, **{c: k[c] for c in _SHAPE})

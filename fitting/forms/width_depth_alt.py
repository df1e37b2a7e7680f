"""Gemstones arXiv Eq. 3, the three-term width-depth law without a parameter term:
``L = E + A_w/w^alpha_w + A_d/d^alpha_d + B/T^beta`` (McLeish et al. 2025)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from flopwise.fitting.forms.base import LseSpec, Num
from flopwise.fitting.forms.registry import register
from flopwise.fitting.forms.width_depth import WidthDepthForm

__all__ = ["WidthDepthAlt", "width_depth_alt_loss", "width_depth_alt_shape_terms"]


def width_depth_alt_shape_terms(
    width: Num, depth: Num, *, E: Num, A_w: Num, alpha_w: Num, A_d: Num, alpha_d: Num
) -> Num:
    """Gemstones arXiv Eq. 3 less its tokens term: ``E + A_w/w^alpha_w + A_d/d^alpha_d``."""
    return E + A_w / np.power(width, alpha_w) + A_d / np.power(depth, alpha_d)


def width_depth_alt_loss(
    width: Num, depth: Num, tokens: Num, *, B: Num, beta: Num, **shape: Num
) -> Num:
    """Gemstones arXiv Eq. 3 (three terms): ``L = E + A_w/w^alpha_w + A_d/d^alpha_d + B/T^beta``
    (``shape``: the constants of :func:`width_depth_alt_shape_terms`)."""
    return width_depth_alt_shape_terms(width, depth, **shape) + B / np.power(tokens, beta)


_SHAPE = ("E", "A_w", "alpha_w", "A_d", "alpha_d")
_WDA = (*_SHAPE, "B", "beta")


@register
class WidthDepthAlt(WidthDepthForm):
    """Gemstones Eq. 3: E + A_w/w^alpha_w + A_d/d^alpha_d + B/T^beta."""

    name: ClassVar[str] = "width-depth-alt"
    constants: ClassVar[tuple[str, ...]] = _WDA
    lse: ClassVar[LseSpec | None] = LseSpec(
        "width-depth-alt",
        ("width", "depth", "tokens"),
        ("alpha_w", "alpha_d", "beta"),
        ("A_w", "A_d", "B"),
        _WDA,
    )

    def loss(self, k: Mapping[str, Any], *, params: Num, tokens: Num, **inputs: Num) -> Num:
        return width_depth_alt_loss(inputs["width"], inputs["depth"], tokens, **k)

    def shape_terms(self, k: Mapping[str, Any], width: Num, depth: Num, params: Num) -> Num:
        return width_depth_alt_shape_terms(width, depth, **{c: k[c] for c in _SHAPE})

"""Concrete shapes: width, depth and heads for a parameter target or a FLOP budget.

Two searches, both over the feasible grid (widths a multiple of
``head_dim x kv_group`` so heads come in whole key/value groups, depths whole):

* :func:`shapes_for_params` — laws without width/depth terms say only how many
  parameters to train. Kaplan et al. 2020 (§3.1, Fig. 5) found loss nearly flat
  in the aspect ratio width/depth between about 20 and 200; production models sit
  near 100-130 (GPT-3 175B 128, Chinchilla 70B 102, Llama-2 7B 128). The policy:
  minimise ``|ln(p / N*)| + 0.05 |ln((w/d) / r)|`` with target ``r = 128`` by
  default, i.e. a 1% miss in parameters weighs as much as a 20% miss in aspect.
* :class:`WidthDepthHull` — laws with width/depth terms (Gemstones) are minimised
  exactly over every feasible shape at the budget, as the authors' brute force
  does. ``L = S(w, d) + B (C / f(w, d))^-beta`` where ``S`` holds the shape terms
  and ``f`` is FLOPs per token, so for any budget the optimum lies on the lower
  convex hull of the points ``(f^beta, S)``; a budget's optimum is then one binary
  search, and a frontier of many budgets one ``searchsorted``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from flopwise.fitting.caches import BytesCache
from flopwise.fitting.counting import ArchFamily
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.flops import deepseek_model_scale, gemstones_flops_per_token
from flopwise.fitting.laws import CDefinition, Law, NDefinition

__all__ = [
    "MAX_SHAPES",
    "Shape",
    "ShapeConstraints",
    "ShapeTerms",
    "WidthDepthHull",
    "hull_of_points",
    "law_flops_per_token",
    "law_params",
    "make_shape",
    "shape_tables_cached",
    "shapes_for_params",
    "width_depth_hull",
]

ASPECT_WEIGHT = 0.05
"""Weight of the aspect-ratio miss against the parameter miss (see module docstring)."""
MAX_SHAPES = 1 << 20
"""Most feasible shapes one search considers (bounds its time and memory: ~100 MB)."""
MAX_WIDTH = 1 << 18
MAX_DEPTH = 2048
CACHE_BYTES = 128 * 1024 * 1024
"""Bytes of shape tables kept per cache: three envelopes of the largest grid (40 MB each,
1,048,576 shapes) or a dozen of the default one; a hull keeps only its vertices."""


@dataclass(frozen=True, kw_only=True)
class ShapeConstraints:
    """Limits on the shape search; ``None`` keeps the law's own family setting."""

    min_width: int = 1
    """Smallest width allowed."""
    max_width: int = 65536
    """Largest width allowed."""
    min_depth: int = 1
    """Fewest blocks allowed."""
    max_depth: int = 512
    """Most blocks allowed."""
    aspect_ratio: float = 128.0
    """Target width/depth for laws without width/depth terms."""
    head_dim: int | None = None
    """Attention head size."""
    kv_group: int | None = None
    """Query heads per key/value head."""
    vocab_size: int | None = None
    """Vocabulary size."""
    seq_len: int | None = None
    """Training context length."""

    def __post_init__(self) -> None:
        for name in ("min_width", "max_width", "min_depth", "max_depth"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ArgumentError(name, f"must be a positive integer, got {value!r}")
        if self.min_width > self.max_width:
            raise ArgumentError("min_width", f"{self.min_width} exceeds max_width {self.max_width}")
        if self.min_depth > self.max_depth:
            raise ArgumentError("min_depth", f"{self.min_depth} exceeds max_depth {self.max_depth}")
        if self.max_width > MAX_WIDTH:
            raise ArgumentError("max_width", f"must be <= {MAX_WIDTH}, got {self.max_width}")
        if self.max_depth > MAX_DEPTH:
            raise ArgumentError("max_depth", f"must be <= {MAX_DEPTH}, got {self.max_depth}")
        if not (1 <= self.aspect_ratio <= 10_000):  # also refuses NaN
            raise ArgumentError("aspect_ratio", f"must be in [1, 10000], got {self.aspect_ratio!r}")

    def family(self, base: ArchFamily) -> ArchFamily:
        """The law's family with this request's overrides applied."""
        changes = {
            k: getattr(self, k)
            for k in ("head_dim", "kv_group", "vocab_size", "seq_len")
            if getattr(self, k) is not None
        }
        return replace(base, **changes) if changes else base

    def widths(self, family: ArchFamily) -> np.ndarray:
        """Feasible widths: multiples of the family's width step inside the bounds."""
        step = family.width_step
        lo = max(-(-self.min_width // step), 1)
        hi = self.max_width // step
        if hi < lo:
            raise ArgumentError(
                "max_width",
                f"no width in [{self.min_width}, {self.max_width}] is a multiple of "
                f"head_dim x kv_group = {family.head_dim} x {family.kv_group} = {step}",
            )
        n_shapes = (hi - lo + 1) * (self.max_depth - self.min_depth + 1)
        if n_shapes > MAX_SHAPES:
            raise ArgumentError(
                "max_width",
                f"the search would consider {n_shapes} shapes, more than {MAX_SHAPES}: "
                "narrow the width or depth range, or raise head_dim x kv_group",
            )
        return np.arange(lo, hi + 1, dtype=np.int64) * step


@dataclass(frozen=True)
class Shape:
    """One concrete model, with its exact counts under the law's own definitions."""

    width: int
    depth: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    ffn_size: int
    params: int
    """Total parameters, embeddings included."""
    params_law: float
    """Parameters as the law counts N."""
    flops_per_token: float
    """Training FLOPs per token as the law counts C."""
    flops_per_token_6n: float
    """6 x total parameters, for comparison."""


def law_params(n_def: NDefinition, family: ArchFamily, width: Any, depth: Any) -> Any:
    """Parameters of (width, depth) shapes under a law's N definition; vectorised."""
    if n_def is NDefinition.MODEL_SCALE:
        return deepseek_model_scale(width, depth, family.seq_len)
    total, non_emb, with_head = family.param_counts(width, depth)
    if n_def is NDefinition.TOTAL:
        return total
    return non_emb if n_def is NDefinition.NON_EMBEDDING else with_head


def law_flops_per_token(law: Law, family: ArchFamily, width: Any, depth: Any) -> Any:
    """Training FLOPs per token of (width, depth) shapes under the law's C; vectorised."""
    if law.c_definition is CDefinition.GEMSTONES:
        return gemstones_flops_per_token(width, depth, **family.shape_kwargs(width))
    if law.c_definition is CDefinition.MD:
        return deepseek_model_scale(width, depth, family.seq_len)
    return 6.0 * law_params(law.n_definition, family, width, depth)


def make_shape(law: Law, family: ArchFamily, width: int, depth: int) -> Shape:
    """The :class:`Shape` of one (width, depth) in ``family``, counted for ``law``."""
    spec = family.spec(int(width), int(depth))
    w, d = spec.width, spec.depth
    total = int(law_params(NDefinition.TOTAL, family, w, d))
    params_law = (
        total
        if law.n_definition is NDefinition.TOTAL
        else law_params(law.n_definition, family, w, d)
    )
    fpt = (
        6.0 * params_law
        if law.c_definition is CDefinition.SIX_ND
        else law_flops_per_token(law, family, w, d)
    )
    return Shape(
        width=w,
        depth=d,
        n_heads=spec.n_heads,
        n_kv_heads=spec.n_kv_heads,
        head_dim=spec.head_dim,
        ffn_size=spec.ffn_size,
        params=total,
        params_law=float(params_law),
        flops_per_token=float(fpt),
        flops_per_token_6n=6.0 * total,
    )


@dataclass(frozen=True)
class _Envelope:
    """Every feasible shape, sorted by ``ln p`` (its N), for an exact aspect-policy search.

    At a target ``x = ln N*`` shape ``s`` costs ``|ln p_s - x| + a_s`` (``a_s`` its
    aspect term): a V centred at ``ln p_s``. Among the shapes at or below ``x`` the best
    minimises ``a_s - ln p_s`` (a running minimum from the left), among those above it
    ``a_s + ln p_s`` (a running minimum from the right); so one binary search for ``x``
    finds the minimum over every shape, as an exhaustive scan does.
    """

    log_p: np.ndarray
    """``ln p`` of every shape, increasing."""
    width: np.ndarray
    depth: np.ndarray
    """Each sorted shape's width and depth."""
    below: np.ndarray
    below_cost: np.ndarray
    """Index (into the sorted shapes) and value of min ``a - ln p`` over ``[0, i]``."""
    above: np.ndarray
    above_cost: np.ndarray
    """Index and value of min ``a + ln p`` over ``[i, end)``."""


_ENVELOPES: BytesCache[tuple[NDefinition, ArchFamily, ShapeConstraints], _Envelope]
_ENVELOPES = BytesCache(CACHE_BYTES)


def _envelope(n_def: NDefinition, family: ArchFamily, constraints: ShapeConstraints) -> _Envelope:
    """The cached :func:`_build_envelope`."""
    key = (n_def, family, constraints)
    return _ENVELOPES.get(key, lambda: _build_envelope(n_def, family, constraints))


def _running_min(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index and value of the minimum of ``values[: i + 1]`` for every ``i``."""
    low = np.minimum.accumulate(values)
    at = np.where(values == low, np.arange(values.size), 0)
    return np.maximum.accumulate(at), low


def _build_envelope(
    n_def: NDefinition, family: ArchFamily, constraints: ShapeConstraints
) -> _Envelope:
    """Count every feasible shape's N exactly (:func:`law_params`), sort by it, and keep
    the running minima of both sides of the cost."""
    widths = constraints.widths(family)
    depths = np.arange(constraints.min_depth, constraints.max_depth + 1, dtype=np.int64)
    w, d = (g.ravel() for g in np.meshgrid(widths, depths))
    log_p = np.log(law_params(n_def, family, w, d).astype(float))
    aspect = ASPECT_WEIGHT * np.abs(np.log(w / d / constraints.aspect_ratio))
    order = np.argsort(log_p, kind="stable")
    log_p, aspect, w, d = log_p[order], aspect[order], w[order], d[order]
    below, below_cost = _running_min(aspect - log_p)
    above_rev, above_cost_rev = _running_min((aspect + log_p)[::-1])
    above, above_cost = (log_p.size - 1 - above_rev)[::-1], above_cost_rev[::-1]
    arrays = (log_p, w.astype(np.int32), d.astype(np.int32), below.astype(np.int32),
              below_cost, above.astype(np.int32), above_cost)  # fmt: skip
    for arr in arrays:
        arr.setflags(write=False)
    return _Envelope(*arrays)


def shapes_for_params(
    n_def: NDefinition,
    family: ArchFamily,
    targets: np.ndarray,
    constraints: ShapeConstraints,
) -> tuple[np.ndarray, np.ndarray]:
    """Widths and depths whose N (by ``n_def``) best meet ``targets`` (aspect policy):
    the minimum of ``|ln(p / N*)| + 0.05 |ln((w/d) / r)|`` over every feasible shape,
    found by one binary search per target in the cached :class:`_Envelope`
    (``tests/fitting/test_shape.py`` checks it against an exhaustive scan).
    """
    x = np.log(np.atleast_1d(np.asarray(targets, dtype=float)))
    e = _envelope(n_def, family, constraints)
    last = e.log_p.size - 1
    k = np.searchsorted(e.log_p, x, side="right")  # shapes [0, k) lie at or below x
    left = np.maximum(k - 1, 0)
    right = np.minimum(k, last)
    cost_below = np.where(k > 0, e.below_cost[left] + x, np.inf)
    cost_above = np.where(k <= last, e.above_cost[right] - x, np.inf)
    pick = np.where(cost_below <= cost_above, e.below[left], e.above[right])
    return e.width[pick].astype(np.int64), e.depth[pick].astype(np.int64)


@dataclass(frozen=True)
class WidthDepthHull:
    """Lower convex hull of (f^beta, S) over every feasible shape of a width-depth law."""

    width: np.ndarray
    depth: np.ndarray
    x: np.ndarray
    """f^beta per hull vertex, increasing."""
    s: np.ndarray
    """Shape terms S per hull vertex, decreasing."""
    neg_slopes: np.ndarray
    """-(dS/dx) between consecutive vertices, decreasing."""
    beta: float
    B: float

    def best(self, flops: np.ndarray) -> np.ndarray:
        """Index of the loss-minimising hull vertex for each budget."""
        k = self.B * np.power(np.asarray(flops, dtype=float), -self.beta)
        # vertex i is optimal for k in [neg_slopes[i], neg_slopes[i-1]]
        return np.searchsorted(-self.neg_slopes, -k, side="left")


ShapeTerms = Callable[[np.ndarray, np.ndarray, np.ndarray], Any]
"""``terms(width, depth, params)``: the loss terms of a width-depth law that depend on
the shape alone (the form supplies them: this module knows no form)."""


def _lower_hull(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of the lower-left convex hull of points sorted by x (monotone chain)."""
    hull: list[int] = []
    for i in range(x.size):
        while len(hull) >= 2:
            o, a = hull[-2], hull[-1]
            cross = (x[a] - x[o]) * (y[i] - y[o]) - (y[a] - y[o]) * (x[i] - x[o])
            if cross <= 0:
                hull.pop()
            else:
                break
        hull.append(i)
    return np.asarray(hull, dtype=np.int64)


_HULLS: BytesCache[tuple[Law, ArchFamily, ShapeConstraints], WidthDepthHull]
_HULLS = BytesCache(CACHE_BYTES)


def shape_tables_cached(law: Law, constraints: ShapeConstraints) -> bool:
    """Whether a search for ``law`` under ``constraints`` finds its tables built (then
    an answer is cheap; building one may take a second)."""
    family = constraints.family(law.family)
    return (law, family, constraints) in _HULLS or (
        law.n_definition,
        family,
        constraints,
    ) in _ENVELOPES


def width_depth_hull(
    law: Law, family: ArchFamily, constraints: ShapeConstraints, terms: ShapeTerms
) -> WidthDepthHull:
    """The hull of a width-depth law whose shape terms are ``terms``, cached per law,
    family and constraints."""
    return _HULLS.get(
        (law, family, constraints), lambda: _build_hull(law, family, constraints, terms)
    )


def _build_hull(
    law: Law, family: ArchFamily, constraints: ShapeConstraints, terms: ShapeTerms
) -> WidthDepthHull:
    """Build the hull of a width-depth law over every feasible shape."""
    widths = constraints.widths(family)
    depths = np.arange(constraints.min_depth, constraints.max_depth + 1, dtype=np.int64)
    w, d = (g.ravel() for g in np.meshgrid(widths, depths))
    params = law_params(NDefinition.TOTAL, family, w, d).astype(float)
    f = np.asarray(law_flops_per_token(law, family, w, d), dtype=float)
    beta = law.constants["beta"]
    s = np.asarray(terms(w.astype(float), d.astype(float), params), dtype=float)
    return hull_of_points(w, d, np.power(f, beta), s, beta=beta, B=law.constants["B"])


def hull_of_points(
    w: np.ndarray, d: np.ndarray, x: np.ndarray, s: np.ndarray, *, beta: float, B: float
) -> WidthDepthHull:
    """The hull of shapes ``(w, d)`` with cost ``x`` (resource per token, to the ``beta``)
    and shape terms ``s``: loss ``s + B (R / x^(1/beta))^-beta`` for a resource ``R``."""
    order = np.lexsort((s, x))
    x, s, w, d = x[order], s[order], w[order], d[order]
    pareto = s < np.minimum.accumulate(np.concatenate([[np.inf], s[:-1]]))
    x, s, w, d = x[pareto], s[pareto], w[pareto], d[pareto]
    idx = _lower_hull(x, s)
    x, s, w, d = x[idx], s[idx], w[idx], d[idx]
    neg_slopes = -np.diff(s) / np.diff(x) if x.size > 1 else np.empty(0)
    return WidthDepthHull(width=w, depth=d, x=x, s=s, neg_slopes=neg_slopes, beta=beta, B=B)

"""The one source of an answer's caveats: every answer (allocation, prediction, frontier,
time-optimal plans, overspend; over the API, the command line and the planner) states
the same reasons to doubt its numbers, from :func:`answer_caveats`.

A caveat says why an answer may be off: the law's own known limits, intervals resting on
the documented default spread, the warnings of the fit that produced the law, a point
outside the ranges the law was fitted on (its N, its tokens, its budget, its tokens per
parameter), and a concrete shape whose cost departs from the budget by more than
:data:`SHAPE_COST_TOLERANCE`. Values may be arrays (a frontier): a caveat then names the
extremes outside the range.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from flopwise.fitting.laws import DownstreamLink, Law, NDefinition
from flopwise.fitting.uncertainty import DEFAULT_GROWTH, DEFAULT_NOISE_SD

__all__ = [
    "SHAPE_COST_TOLERANCE",
    "answer_caveats",
    "fit_caveats",
    "link_caveats",
    "n_label",
    "range_caveats",
    "ratio_caveat",
    "shape_cost_caveat",
    "spread_caveats",
]

SHAPE_COST_TOLERANCE = 0.10
"""A shape trained on the answer's tokens may cost this fraction more or less than the
budget before the answer says so (whole heads and whole blocks make shapes discrete)."""


def n_label(law: Law) -> str:
    """What the law's N is, in words: DeepSeek's M is FLOPs per token, not parameters."""
    if law.n_definition is NDefinition.MODEL_SCALE:
        return "model scale M (non-embedding FLOPs per token)"
    return "params"


def spread_caveats(law: Law) -> tuple[str, ...]:
    """The law's caveats, plus one when its intervals rest on the default spread."""
    if law.spread is not None:
        return tuple(law.caveats)
    note = (
        f"{law.id} carries no estimate of run-to-run noise or extrapolation error: "
        f"loss_interval assumes the default ({DEFAULT_NOISE_SD} in log loss, growing "
        f"{DEFAULT_GROWTH} per decade of compute beyond its fitted range)"
    )
    if law.domain.params is None and law.domain.tokens is None:
        note += "; its fitted range is unknown, so the interval does not widen with scale"
    return (*law.caveats, note)


def fit_caveats(law: Law) -> tuple[str, ...]:
    """The warnings of the fit that produced ``law`` (none for a built-in law)."""
    warnings = law.diagnostics.get("warnings") or ()
    return tuple(f"the fit of {law.id} warned: {w}" for w in warnings)


def _extremes(values: Any) -> tuple[float, float] | None:
    if values is None:
        return None
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr) & (arr > 0)]
    return (float(arr.min()), float(arr.max())) if arr.size else None


def range_caveats(
    law: Law, *, params: Any = None, tokens: Any = None, flops: Any = None
) -> tuple[str, ...]:
    """One caveat for each of N, tokens and budget with a value outside the range the
    law was fitted on (``law.domain``; nothing where the range is unknown)."""
    out = []
    dom = law.domain
    for name, values, rng in (
        ("budget", flops, dom.flops),
        (n_label(law), params, dom.params),
        ("tokens", tokens, dom.tokens),
    ):
        ends = _extremes(values)
        if ends is None or rng is None:
            continue
        outside = [v for v in ends if not rng[0] <= v <= rng[1]]
        if outside:
            shown = " and ".join(f"{v:.3g}" for v in dict.fromkeys(outside))
            out.append(
                f"{name} {shown} lies outside the range {law.id} was fitted on "
                f"({rng[0]:.3g} to {rng[1]:.3g}): this is an extrapolation"
            )
    return tuple(out)


def ratio_caveat(law: Law, params: Any, tokens: Any) -> tuple[str, ...]:
    """A caveat when tokens per parameter lie outside those the law was fitted on (the
    interval widens with the decades outside, :func:`fitting.uncertainty.distance`)."""
    spread = law.spread
    if params is None or tokens is None or spread is None:
        return ()
    lo, hi = spread.log10_ratio_min, spread.log10_ratio_max
    ratio = np.asarray(tokens, dtype=float) / np.asarray(params, dtype=float)
    ends = _extremes(ratio)
    if lo is None or hi is None or ends is None:
        return ()
    outside = [r for r in ends if not lo <= math.log10(r) <= hi]
    if not outside:
        return ()
    shown = " and ".join(f"{r:.3g}" for r in dict.fromkeys(outside))
    return (
        f"{shown} tokens per parameter is outside the {10**lo:.3g} to {10**hi:.3g} the law "
        "was fitted on: laws of this kind err most far from the ratios they saw, and "
        "loss_interval widens with the decades outside",
    )


def link_caveats(law_id: str, link: DownstreamLink, x: Any) -> tuple[str, ...]:
    """A caveat when the intermediate loss ``x`` a downstream answer passes through (one
    value or a path's) lies outside the range the link's step 2 was fitted on: the
    metric is then an extrapolation of the link itself (docs/laws.md §20)."""
    ends = _extremes(x)
    if ends is None or link.x_range is None:
        return ()
    lo, hi = link.x_range
    outside = [v for v in ends if not lo <= v <= hi]
    if not outside:
        return ()
    shown = " and ".join(f"{v:.3g}" for v in dict.fromkeys(outside))
    return (
        f"{link.metric}: the predicted {link.via} {shown} lies outside the {lo:.3g} to "
        f"{hi:.3g} that the {link.link} link of {law_id} was fitted on, so the metric "
        "extrapolates the link itself",
    )


def shape_cost_caveat(shape_flops: float, budget: float) -> tuple[str, ...]:
    """A caveat when the concrete shape, trained on the answer's tokens, costs more than
    :data:`SHAPE_COST_TOLERANCE` off the budget."""
    if not (budget > 0 and math.isfinite(shape_flops)):
        return ()
    ratio = shape_flops / budget
    if abs(ratio - 1.0) <= SHAPE_COST_TOLERANCE:
        return ()
    return (
        f"the nearest feasible shape trained on these tokens costs {shape_flops:.3g} FLOPs, "
        f"{ratio:.3g}x the budget (more than {SHAPE_COST_TOLERANCE:.0%} off): its loss is not "
        "the optimum's",
    )


def answer_caveats(
    law: Law,
    *,
    params: Any = None,
    tokens: Any = None,
    flops: Any = None,
    intervals: bool = True,
) -> tuple[str, ...]:
    """Every caveat of an answer at ``params`` (the law's N), ``tokens`` and budget
    ``flops`` (scalars or arrays; ``None`` where the answer has none). ``intervals``:
    the answer carries loss intervals (so the default-spread note applies)."""
    own = spread_caveats(law) if intervals else tuple(law.caveats)
    return (
        *own,
        *fit_caveats(law),
        *range_caveats(law, params=params, tokens=tokens, flops=flops),
        *ratio_caveat(law, params, tokens),
    )

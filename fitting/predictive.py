"""A law's predictive intervals: its curve band widened by run-to-run noise and by
extrapolation error (:mod:`fitting.uncertainty` holds the mathematics)."""

from __future__ import annotations

import math

import numpy as np

from flopwise.fitting.forms import law_form
from flopwise.fitting.laws import Law
from flopwise.fitting.shape import law_params
from flopwise.fitting.uncertainty import (
    DEFAULT_GROWTH,
    DEFAULT_NOISE_SD,
    PredictiveError,
    default_spread,
    new_run_error,
    predictive_band,
)

__all__ = [
    "law_spread",
    "loss_band",
    "path_loss_bands",
    "point_params",
    "ratio_caveat",
    "spread_caveats",
]


def law_spread(law: Law) -> PredictiveError:
    """The law's own estimate, else the documented default placed at its fitted range."""
    if law.spread is not None:
        return law.spread
    dom = law.domain
    return default_spread(
        None if dom.params is None else math.log10(dom.params[1]),
        None if dom.tokens is None else math.log10(dom.tokens[1]),
    )


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


def ratio_caveat(law: Law, params: float | None, tokens: float) -> tuple[str, ...]:
    """A caveat when a point's tokens per parameter lie outside those the law was
    fitted on (the interval widens with the decades outside, :func:`fitting.uncertainty.distance`)."""
    spread = law.spread
    if params is None or spread is None or not (params > 0 and tokens > 0):
        return ()
    lo, hi = spread.log10_ratio_min, spread.log10_ratio_max
    if lo is None or hi is None or lo <= math.log10(tokens / params) <= hi:
        return ()
    return (
        f"{tokens / params:.3g} tokens per parameter is outside the {10**lo:.3g} to "
        f"{10**hi:.3g} the law was fitted on: laws of this kind err most far from the ratios "
        "they saw, and loss_interval widens with the decades outside",
    )


def point_params(
    law: Law, params: float | None, width: int | None = None, depth: int | None = None
) -> float | None:
    """N of one model as the law counts it (from its shape when not given)."""
    if params is not None:
        return params
    if width is None or depth is None:
        return None
    return float(law_params(law.n_definition, law.family, width, depth))


def loss_band(
    law: Law,
    loss: float,
    curve: tuple[float, float] | None,
    params: float | None,
    tokens: float,
    level: float,
) -> tuple[float, float] | None:
    """Where a new run's measured loss will fall for a model of ``params`` (as the law
    counts N) trained on ``tokens``, with ``level`` coverage."""
    if params is None or not (math.isfinite(loss) and loss > 0 and params > 0 and tokens > 0):
        return None
    extra, dof = new_run_error(law_spread(law), (math.log10(params), math.log10(tokens)))
    return predictive_band(loss, curve, extra, level, dof)


def path_loss_bands(
    law: Law,
    loss: np.ndarray,
    params: np.ndarray,
    tokens: np.ndarray,
    *,
    width: np.ndarray,
    depth: np.ndarray,
    unique_tokens: float | None,
    level: float,
) -> list[tuple[float, float] | None]:
    """Predictive intervals along a compute-optimal path (one per point), each widening
    the law's bootstrap band at that point (when it has draws)."""
    from flopwise.fitting.predict import intervals, predict_loss  # predict imports this module

    draws = law.draw_constants()
    curves: list[tuple[float, float] | None] = [None] * len(loss)
    if draws is not None:
        shaped = law_form(law).shape_aware
        with np.errstate(all="ignore"):
            samples = predict_loss(
                law,
                params=None if shaped else params[None, :],
                tokens=tokens[None, :],
                width=width[None, :] if shaped else None,
                depth=depth[None, :] if shaped else None,
                unique_tokens=unique_tokens,
                constants={k: v[:, None] for k, v in draws.items()},
            )
        curves = intervals(np.asarray(samples, dtype=float).T, level)
    return [
        loss_band(law, float(v), c, float(n), float(d), level)
        for v, c, n, d in zip(loss, curves, params, tokens, strict=True)
    ]

"""Predicted loss of a law at a model size and token count, with its intervals.

``curve_interval`` is the mean curve's bootstrap band (the law's draws);
``loss_interval`` is where a new run's measured loss will fall: that band widened by
run-to-run noise and extrapolation error (:mod:`fitting.uncertainty` holds the
mathematics, :func:`loss_band` applies a law's estimate of them). Every answer, here
and in ``fitting.allocation``, takes its bands and caveats from this module.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

import numpy as np

from flopwise.fitting.caveats import answer_caveats
from flopwise.fitting.checks import optional_positive
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.forms import draw_constants, law_form
from flopwise.fitting.laws import Law
from flopwise.fitting.schedules import Schedule
from flopwise.fitting.shape import law_params
from flopwise.fitting.stats import DEFAULT_LEVEL, Band, check_level, interval, intervals
from flopwise.fitting.uncertainty import (
    PredictiveError,
    default_spread,
    new_run_error,
    predictive_band,
)

__all__ = [
    "Prediction",
    "law_spread",
    "loss_band",
    "path_loss_bands",
    "point_params",
    "predict",
    "predict_loss",
]


def predict_loss(
    law: Law,
    *,
    params: Any = None,
    tokens: Any = None,
    width: Any = None,
    depth: Any = None,
    unique_tokens: Any = None,
    constants: Mapping[str, Any] | None = None,
    schedule: Any = None,
) -> Any:
    """Loss of ``law`` (or of ``constants``, e.g. bootstrap draws) at the given point.

    Chinchilla-type forms need ``params`` (counted as the law counts N) and
    ``tokens``; width-depth forms need ``width``, ``depth`` and ``tokens``
    (``params``, the total count, is derived from the law's family when absent);
    loss-curve forms the run's ``schedule`` too (the loss after ``tokens`` of it).
    Raises ``ValueError`` naming what is missing, or when the law predicts loss
    only on its compute-optimal frontier.
    """
    k = dict(law.constants if constants is None else constants)
    if tokens is None:
        raise ArgumentError("tokens", "required to predict loss")
    form = law_form(law)
    if schedule is not None and not form.reads_schedule:
        raise ArgumentError(
            "schedule", f"law {law.id} ({law.form}) does not read a learning-rate schedule"
        )
    return form.predict(
        law,
        k,
        params=params,
        tokens=tokens,
        width=width,
        depth=depth,
        unique_tokens=unique_tokens,
        schedule=schedule,
    )


@dataclass(frozen=True)
class Prediction:
    """A predicted loss: ``loss_interval`` is where a new run's measured loss will fall
    (``fitting.uncertainty``), ``curve_interval`` the mean curve's bootstrap band."""

    law_id: str
    law_version: int
    loss: float
    loss_interval: Band
    params: float | None
    tokens: float
    curve_interval: Band = None
    level: float = DEFAULT_LEVEL
    caveats: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types, laid out as the CLI and the HTTP API answer."""
        return {
            "law": {"id": self.law_id, "version": self.law_version},
            "loss": self.loss,
            "loss_interval": None if self.loss_interval is None else list(self.loss_interval),
            "curve_interval": None if self.curve_interval is None else list(self.curve_interval),
            "level": self.level,
            "params": self.params,
            "tokens": self.tokens,
            "caveats": list(self.caveats),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Inverse of :meth:`to_dict` (an HTTP API answer reads the same way); keys it
        does not know are ignored."""
        loss, curve = data.get("loss_interval"), data.get("curve_interval")
        return cls(
            law_id=data["law"]["id"],
            law_version=data["law"]["version"],
            loss=data["loss"],
            loss_interval=None if loss is None else (loss[0], loss[1]),
            params=data.get("params"),
            tokens=data["tokens"],
            curve_interval=None if curve is None else (curve[0], curve[1]),
            level=data.get("level", DEFAULT_LEVEL),
            caveats=tuple(data.get("caveats", ())),
        )


def predict(
    law: Law,
    *,
    params: float | None = None,
    tokens: float | None = None,
    width: int | None = None,
    depth: int | None = None,
    unique_tokens: float | None = None,
    level: float = DEFAULT_LEVEL,
    schedule: Schedule | None = None,
) -> Prediction:
    """Validated single-point prediction: the mean curve's band from the law's draws
    and the predictive interval for a new run (``level`` coverage, in (0, 1)); a
    loss-curve law predicts the loss after ``tokens`` of ``schedule``."""
    level = check_level(level)
    params = optional_positive("params", params)
    tokens = optional_positive("tokens", tokens)
    unique_tokens = optional_positive("unique_tokens", unique_tokens)
    for name, value in (("width", width), ("depth", depth)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise ArgumentError(name, f"must be a positive integer, got {value!r}")
    kwargs: dict[str, Any] = {
        "params": params,
        "tokens": tokens,
        "width": width,
        "depth": depth,
        "unique_tokens": unique_tokens,
        "schedule": schedule,
    }
    loss = float(predict_loss(law, **kwargs))
    draws = draw_constants(law)
    band = None if draws is None else interval(predict_loss(law, constants=draws, **kwargs), level)
    n = point_params(law, params, width, depth)
    new_run = loss_band(law, loss, band, n, float(tokens or 0.0), level)
    return Prediction(
        law.id,
        law.version,
        loss,
        new_run,
        params,
        float(tokens or 0.0),
        curve_interval=band,
        level=level,
        caveats=answer_caveats(law, params=n, tokens=tokens),
    )


# -- predictive intervals ---------------------------------------------------------


def law_spread(law: Law) -> PredictiveError:
    """The law's own estimate, else the documented default placed at its fitted range."""
    if law.spread is not None:
        return law.spread
    dom = law.domain
    return default_spread(
        None if dom.params is None else math.log10(dom.params[1]),
        None if dom.tokens is None else math.log10(dom.tokens[1]),
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
    curve: Band,
    params: float | None,
    tokens: float,
    level: float,
) -> Band:
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
) -> list[Band]:
    """Predictive intervals along a compute-optimal path (one per point), each widening
    the law's bootstrap band at that point (when it has draws)."""
    draws = draw_constants(law)
    curves: list[Band] = [None] * len(loss)
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

"""A run's loss curve under its schedule, and where a live run will land (docs/laws.md
§21.6).

:func:`predict_curve` gives a loss-curve law's loss at points along a run (each with its
predictive interval, ``fitting.prediction.loss_band``). :func:`forecast` takes what a
run has logged so far: it predicts the run's loss at its planned end, and compares the
logged checkpoints with the law. A run is *tracking* the law while its recent
checkpoints (the last third of the tokens logged) sit, on average, inside the law's
predictive band at the last of them; otherwise the answer says so, and also gives the
end loss with that offset carried forward (``adjusted_loss``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from flopwise.fitting.caveats import answer_caveats
from flopwise.fitting.checks import positive
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.forms import draw_constants, law_form
from flopwise.fitting.laws import Law
from flopwise.fitting.prediction import loss_band, predict_loss
from flopwise.fitting.schedules import Schedule, lr_at
from flopwise.fitting.stats import DEFAULT_LEVEL, Band, check_level, intervals

__all__ = ["CURVE_POINTS", "RECENT_SHARE", "Forecast", "forecast", "predict_curve"]

CURVE_POINTS = 64
"""Points of a predicted curve."""
RECENT_SHARE = 1.0 / 3.0
"""The share of the logged tokens whose checkpoints say whether a run tracks the law."""


def _curve_law(law: Law) -> None:
    if not law_form(law).reads_schedule:
        raise ArgumentError(
            "law", f"law {law.id} ({law.form}) is no loss-curve law: fit one with fit-curve"
        )


def _losses(law: Law, params: float, schedule: Schedule, tokens: np.ndarray, level: float) -> Any:
    """Mean losses at ``tokens`` and their predictive bands."""
    loss = np.asarray(predict_loss(law, params=params, tokens=tokens, schedule=schedule))
    draws = draw_constants(law)
    curves: list[Band] = [None] * len(tokens)
    if draws is not None:
        with np.errstate(all="ignore"):
            samples = predict_loss(
                law, params=params, tokens=tokens, schedule=schedule, constants=draws
            )
        curves = intervals(np.asarray(samples, dtype=float).T, level)
    bands = [
        loss_band(law, float(v), c, params, float(t), level)
        for v, c, t in zip(loss, curves, tokens, strict=True)
    ]
    return loss, curves, bands


def predict_curve(
    law: Law,
    *,
    params: float,
    schedule: Schedule,
    total_tokens: float,
    level: float = DEFAULT_LEVEL,
    points: int = CURVE_POINTS,
    start: float | None = None,
) -> list[dict[str, Any]]:
    """The law's loss at ``points`` log-spaced token counts from ``start`` (default: the
    end of warmup, or 1% of the run) to ``total_tokens``: tokens, LR, loss and
    ``loss_interval`` each."""
    _curve_law(law)
    total = positive("total_tokens", total_tokens)
    schedule = schedule.with_total(total)
    first = start or max(schedule.warmup_tokens, 0.01 * total)
    tokens = np.geomspace(min(first, total), total, points)
    loss, _, bands = _losses(law, params, schedule, tokens, check_level(level))
    lr = lr_at(schedule, tokens)
    return [
        {"tokens": float(t), "lr": float(e), "loss": float(v), "loss_interval": b}
        for t, e, v, b in zip(tokens, lr, loss, bands, strict=True)
    ]


@dataclass(frozen=True)
class Forecast:
    """Where a run will land: the law's loss at the planned end, and how the logged
    checkpoints compare with the law."""

    law_id: str
    law_version: int
    params: float
    total_tokens: float
    loss: float
    loss_interval: Band
    curve_interval: Band
    level: float
    observed: int
    tracking: bool | None
    """``None`` when no checkpoint was given."""
    offset: float | None
    """Mean log(logged / law) over the recent checkpoints (0.01 is 1% above the law)."""
    adjusted_loss: float | None
    adjusted_interval: Band
    caveats: tuple[str, ...] = ()
    curve: list[dict[str, Any]] | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types, laid out as the CLI and the HTTP API answer."""
        band = None if self.loss_interval is None else list(self.loss_interval)
        adjusted = None if self.adjusted_interval is None else list(self.adjusted_interval)
        return {
            "law": {"id": self.law_id, "version": self.law_version},
            "params": self.params,
            "total_tokens": self.total_tokens,
            "loss": self.loss,
            "loss_interval": band,
            "curve_interval": None if self.curve_interval is None else list(self.curve_interval),
            "level": self.level,
            "observed": self.observed,
            "tracking": self.tracking,
            "offset": self.offset,
            "adjusted_loss": self.adjusted_loss,
            "adjusted_interval": adjusted,
            "caveats": list(self.caveats),
            "curve": self.curve,
        }


def _observed(tokens: Any, loss: Any, total: float) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(tokens if tokens is not None else [], dtype=float).ravel()
    y = np.asarray(loss if loss is not None else [], dtype=float).ravel()
    if len(t) != len(y):
        raise ArgumentError("loss", f"expected {len(t)} losses (one per checkpoint), got {len(y)}")
    for name, values in (("tokens", t), ("loss", y)):
        if not np.all(np.isfinite(values) & (values > 0)):
            raise ArgumentError(name, "every checkpoint needs a positive finite value")
    if np.any(t > total * (1 + 1e-9)):
        raise ArgumentError("tokens", f"a checkpoint lies beyond the run's end ({total:.4g})")
    order = np.argsort(t, kind="stable")
    return t[order], y[order]


def _tracking(
    law: Law, params: float, schedule: Schedule, t: np.ndarray, y: np.ndarray, level: float
) -> tuple[bool, float, str | None]:
    recent = t >= t[-1] * (1.0 - RECENT_SHARE)
    loss, _, bands = _losses(law, params, schedule, t[recent], level)
    offset = float(np.mean(np.log(y[recent]) - np.log(loss)))
    band = bands[-1]
    if band is None:
        return True, offset, None
    lo, hi = (math.log(b / float(loss[-1])) for b in band)
    if lo <= offset <= hi:
        return True, offset, None
    side = "above" if offset > 0 else "below"
    return (
        False,
        offset,
        (
            f"the run is not tracking {law.id}: its last {int(recent.sum())} checkpoint(s) sit "
            f"{math.expm1(abs(offset)):.2%} {side} the law, outside its {level:.0%} band; "
            "adjusted_loss carries that offset to the end of the run"
        ),
    )


def forecast(
    law: Law,
    *,
    params: float,
    schedule: Schedule,
    tokens: Any = None,
    loss: Any = None,
    total_tokens: float | None = None,
    level: float = DEFAULT_LEVEL,
    curve: bool = False,
) -> Forecast:
    """The run's loss at ``total_tokens`` (default: the schedule's end) under ``law``,
    and whether its logged ``(tokens, loss)`` checkpoints track the law."""
    _curve_law(law)
    level = check_level(level)
    params = positive("params", params)
    total = total_tokens if total_tokens is not None else schedule.total_tokens
    if total is None:
        raise ArgumentError("total_tokens", "give the run's planned end (or the schedule's)")
    total = positive("total_tokens", total)
    schedule = schedule.with_total(total)
    t, y = _observed(tokens, loss, total)
    end, curves, bands = _losses(law, params, schedule, np.array([total]), level)
    tracking = offset = adjusted = None
    adjusted_band: Band = None
    notes: list[str] = []
    if len(t):
        tracking, offset, note = _tracking(law, params, schedule, t, y, level)
        adjusted = float(end[0]) * math.exp(offset)
        band = bands[0]
        adjusted_band = (
            None if band is None else (band[0] * math.exp(offset), band[1] * math.exp(offset))
        )
        notes += [note] if note else []
    return Forecast(
        law.id, law.version, params, total, float(end[0]), bands[0], curves[0], level, len(t),
        tracking, offset, adjusted, adjusted_band,
        caveats=(*answer_caveats(law, params=params, tokens=total), *notes),
        curve=predict_curve(law, params=params, schedule=schedule, total_tokens=total,
                            level=level) if curve else None,
    )  # fmt: skip

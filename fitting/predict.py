"""Predicted loss of a law at a model size and token count, with bootstrap intervals."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from flopwise.fitting.checks import optional_positive
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.forms import law_form
from flopwise.fitting.laws import Law
from flopwise.fitting.predictive import loss_band, point_params, ratio_caveat, spread_caveats
from flopwise.fitting.uncertainty import DEFAULT_LEVEL, check_level

__all__ = ["Prediction", "interval", "intervals", "predict", "predict_loss"]


def predict_loss(
    law: Law,
    *,
    params: Any = None,
    tokens: Any = None,
    width: Any = None,
    depth: Any = None,
    unique_tokens: Any = None,
    constants: Mapping[str, Any] | None = None,
) -> Any:
    """Loss of ``law`` (or of ``constants``, e.g. bootstrap draws) at the given point.

    Chinchilla-type forms need ``params`` (counted as the law counts N) and
    ``tokens``; width-depth forms need ``width``, ``depth`` and ``tokens``
    (``params``, the total count, is derived from the law's family when absent).
    Raises ``ValueError`` naming what is missing, or when the law predicts loss
    only on its compute-optimal frontier.
    """
    k = dict(law.constants if constants is None else constants)
    if tokens is None:
        raise ArgumentError("tokens", "required to predict loss")
    return law_form(law).predict(
        law,
        k,
        params=params,
        tokens=tokens,
        width=width,
        depth=depth,
        unique_tokens=unique_tokens,
    )


def interval(samples: np.ndarray, level: float = 0.95) -> tuple[float, float] | None:
    """Central percentile interval of finite ``samples``; ``None`` if there are none.

    The same order statistics as ``np.percentile`` (linear interpolation), from one
    partial sort: answers carry intervals on a hot path.
    """
    return intervals(np.atleast_2d(np.asarray(samples, dtype=float)), level)[0]


def intervals(rows: np.ndarray, level: float = 0.95) -> list[tuple[float, float] | None]:
    """:func:`interval` of each row of a 2-D array, with one partial sort when every
    value is finite."""
    rows = np.asarray(rows, dtype=float)
    if not np.all(np.isfinite(rows)):
        return [_interval_of(row[np.isfinite(row)], level) for row in rows]
    return _interval_of(rows, level) if rows.shape[1] >= 2 else [None] * rows.shape[0]


@functools.lru_cache(maxsize=64)
def _order_statistics(n: int, level: float) -> tuple[list[int], np.ndarray, np.ndarray, np.ndarray]:
    """For ``n`` samples at ``level``: the ranks to partition on, the ranks just below and
    above each end's position, and each end's fraction between them (``np.percentile``'s
    linear interpolation)."""
    positions = np.array([(1.0 - level) / 2.0 * (n - 1), (1.0 + level) / 2.0 * (n - 1)])
    below = positions.astype(np.int64)
    above = np.minimum(below + 1, n - 1)
    return sorted({*below.tolist(), *above.tolist()}), below, above, positions - below


def _interval_of(values: np.ndarray, level: float) -> Any:
    n = values.shape[-1]
    if n < 2:
        return None
    kth, below, above, frac = _order_statistics(n, level)
    part = np.partition(values, kth, axis=-1)
    low = part[..., below]
    ends = (low + frac * (part[..., above] - low)).tolist()
    if values.ndim == 1:
        return tuple(ends)
    return [tuple(row) for row in ends]


@dataclass(frozen=True)
class Prediction:
    """A predicted loss: ``loss_interval`` is where a new run's measured loss will fall
    (``fitting.uncertainty``), ``curve_interval`` the mean curve's bootstrap band."""

    law_id: str
    law_version: int
    loss: float
    loss_interval: tuple[float, float] | None
    params: float | None
    tokens: float
    curve_interval: tuple[float, float] | None = None
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


def predict(
    law: Law,
    *,
    params: float | None = None,
    tokens: float | None = None,
    width: int | None = None,
    depth: int | None = None,
    unique_tokens: float | None = None,
    level: float = DEFAULT_LEVEL,
) -> Prediction:
    """Validated single-point prediction: the mean curve's band from the law's draws
    and the predictive interval for a new run (``level`` coverage, in (0, 1))."""
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
    }
    loss = float(predict_loss(law, **kwargs))
    draws = law.draw_constants()
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
        caveats=spread_caveats(law) + ratio_caveat(law, n, float(tokens or 0.0)),
    )

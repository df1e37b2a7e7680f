"""Predicted benchmark metrics of a law with downstream links, with honest bands
(docs/laws.md §20).

A link's chain is step 1, the law that predicts the intermediate loss ``x`` from (N, D)
(the law itself, or the link's own ``step1`` law), then step 2, the link from ``x`` to
the metric (``fitting.links``). Three numbers come back per metric:

- ``value``: the chain at the point estimates;
- ``curve_interval``: the chain's bootstrap band, draw ``i`` of step 1 with draw ``i`` of
  the link (both resample whole runs);
- ``interval``: where a new run's measured metric will fall: each bootstrap chain
  widened by step 1's predictive error in log ``x`` at (N, D) (noise and extrapolation
  growth, ``fitting.uncertainty``: the same error a loss answer's ``loss_interval``
  carries) and by the metric's own scatter about the link, sampled with a fixed seed so
  an answer is a pure function of its inputs.

Every answer's caveats come from ``fitting.caveats``: here, when the predicted ``x``
lies outside the range step 2 was fitted on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from flopwise.fitting.caveats import link_caveats
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.forms import draw_constants
from flopwise.fitting.laws import DownstreamLink, Law
from flopwise.fitting.links import link_kind
from flopwise.fitting.prediction import law_spread, predict_loss
from flopwise.fitting.stats import DEFAULT_LEVEL, Band, interval, intervals
from flopwise.fitting.uncertainty import new_run_error

__all__ = [
    "SAMPLES",
    "Chain",
    "MetricPrediction",
    "chain",
    "link_of",
    "metric_value",
    "predict_metrics",
]

SAMPLES = 2000
"""Samples behind each ``interval`` (and ``run_probability``); a frontier of many points
asks for fewer per point (``chain(samples=...)``)."""
SEED = 20
"""Seed of those samples: an answer is a pure function of its inputs."""


@dataclass(frozen=True, eq=False)
class Chain:
    """One link evaluated at ``P`` points: step 1's ``x``, the metric, and samples."""

    x: np.ndarray
    """(P,) intermediate loss at the point estimates."""
    x_draws: np.ndarray | None
    """(P, B) step 1's bootstrap draws of ``x``, paired with ``curve``."""
    value: np.ndarray
    """(P,) the metric at the point estimates."""
    curve: np.ndarray | None
    """(P, B) the metric per bootstrap chain; ``None`` without draws."""
    runs: np.ndarray
    """(P, SAMPLES) a new run's metric: bootstrap chains plus step 1's predictive error and
    the metric's scatter."""
    x_runs: np.ndarray
    """(P, SAMPLES) a new run's ``x`` behind ``runs``."""


@dataclass(frozen=True)
class MetricPrediction:
    """A predicted metric at one point, with the intermediate loss it came through."""

    metric: str
    value: float
    interval: Band
    curve_interval: Band
    level: float
    link: str
    via: str
    via_value: float
    via_interval: Band
    fitted_range: tuple[float, float] | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types, as ``"downstream": {metric: ...}`` of every answer."""
        return {
            "value": self.value,
            "interval": None if self.interval is None else list(self.interval),
            "curve_interval": None if self.curve_interval is None else list(self.curve_interval),
            "level": self.level,
            "link": self.link,
            "via": {
                "metric": self.via,
                "value": self.via_value,
                "interval": None if self.via_interval is None else list(self.via_interval),
                "fitted_range": None if self.fitted_range is None else list(self.fitted_range),
            },
        }


def link_of(law: Law, metric: str) -> DownstreamLink:
    """The link of ``law`` to ``metric``; :class:`ArgumentError` naming ``metric`` else."""
    try:
        return law.downstream[metric]
    except KeyError:
        known = ", ".join(law.downstream) or "none"
        raise ArgumentError(
            "metric", f"{law.id} has no link to {metric!r} (links: {known})"
        ) from None


def _step1(law: Law, link: DownstreamLink, inputs: dict[str, Any]) -> tuple[Law, Any, Any]:
    """Step 1's law, ``x`` at the points and its draws at the points (or ``None``)."""
    source = law if link.step1 is None else link.step1
    with np.errstate(all="ignore"):
        x = np.asarray(predict_loss(source, **inputs), dtype=float)
        draws = draw_constants(source)
        if draws is None:
            return source, x, None
        columns = {k: v[None, :] for k, v in draws.items()}
        expanded = {k: (None if v is None else np.asarray(v)[:, None]) for k, v in inputs.items()}
        x_draws = np.asarray(predict_loss(source, constants=columns, **expanded), dtype=float)
    return source, x, x_draws


def _pairs(link: DownstreamLink, x_draws: np.ndarray | None) -> tuple[Any, dict[str, Any] | None]:
    """Step 1's draws and the link's, truncated to the same count (paired by row)."""
    kind = link_kind(link.link)
    if link.draws is None and x_draws is None:
        return None, None
    n_link = len(link.draws) if link.draws is not None else math.inf
    n_x = x_draws.shape[1] if x_draws is not None else math.inf
    n = int(min(n_link, n_x))
    constants = (
        {k: np.full(n, v) for k, v in link.constants.items()}
        if link.draws is None
        else {name: link.draws[:n, j] for j, name in enumerate(kind.constants)}
    )
    return (None if x_draws is None else x_draws[:, :n]), constants


def metric_value(
    law: Law, link: DownstreamLink, *, params: Any, tokens: Any, width: Any = None,
    depth: Any = None,
) -> np.ndarray:  # fmt: skip
    """The chain at the point estimates only (no draws, no samples), at ``P`` points."""
    source = law if link.step1 is None else link.step1
    with np.errstate(all="ignore"):
        x = predict_loss(source, params=params, tokens=tokens, width=width, depth=depth)
        return np.atleast_1d(np.asarray(link_kind(link.link).predict(x, link.constants)))


def chain(
    law: Law,
    link: DownstreamLink,
    *,
    params: Any,
    tokens: Any,
    width: Any = None,
    depth: Any = None,
    samples: int = SAMPLES,
) -> Chain:
    """``link`` of ``law`` at points (arrays broadcast to ``P`` points), with ``samples``
    of a new run at each."""
    kind = link_kind(link.link)
    n = np.atleast_1d(np.asarray(params, dtype=float))
    d = np.broadcast_to(np.asarray(tokens, dtype=float), n.shape)
    shape = {k: None if v is None else np.broadcast_to(np.asarray(v), n.shape)
             for k, v in (("width", width), ("depth", depth))}  # fmt: skip
    source, x, x_draws = _step1(law, link, {"params": n, "tokens": d, **shape})
    x = np.broadcast_to(x, n.shape).astype(float)
    value = np.asarray(kind.predict(x, link.constants), dtype=float)
    x_draws, constants = _pairs(link, x_draws)
    curve = None
    if constants is not None:
        xs = x[:, None] if x_draws is None else x_draws
        curve = np.asarray(kind.predict(xs, {k: v[None, :] for k, v in constants.items()}))
        curve = np.broadcast_to(curve, (len(x), len(next(iter(constants.values()))))).copy()
    x_runs, runs = _new_runs(source, link, x, x_draws, constants, (n, d), samples)
    return Chain(x, x_draws, value, curve, runs, x_runs)


def _new_runs(
    source: Law,
    link: DownstreamLink,
    x: np.ndarray,
    x_draws: np.ndarray | None,
    constants: dict[str, Any] | None,
    point: tuple[np.ndarray, np.ndarray],
    samples: int,
) -> tuple[np.ndarray, np.ndarray]:
    """``samples`` of a new run's ``x`` and metric at each (N, D) ``point``."""
    kind = link_kind(link.link)
    rng = np.random.default_rng(SEED)
    spread = law_spread(source)
    errors = [
        new_run_error(spread, (math.log10(a), math.log10(b))) for a, b in zip(*point, strict=True)
    ]
    sd = np.array([e[0] for e in errors])[:, None]
    dof = np.array([e[1] for e in errors])[:, None]
    t = _student(rng, dof, (len(x), samples))
    n_draws = 1 if constants is None else len(next(iter(constants.values())))
    pick = rng.integers(0, n_draws, samples)
    base = x[:, None] if x_draws is None else x_draws[:, pick]
    with np.errstate(all="ignore"):  # far beyond the data a t draw may overflow: x is inf
        x_runs = base * np.exp(sd * t)
    k = link.constants if constants is None else {c: v[pick][None, :] for c, v in constants.items()}
    noise = link.noise_sd * _student(rng, np.array(link.noise_dof or math.inf), (len(x), samples))
    with np.errstate(all="ignore"):
        runs = np.clip(np.asarray(kind.predict(x_runs, k), dtype=float) + noise, 0.0, 1.0)
    return x_runs, runs


def _student(rng: np.random.Generator, dof: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Student t samples with ``dof`` degrees of freedom (broadcast; infinite: normal)."""
    z = rng.standard_normal(shape)
    finite = np.isfinite(dof)
    safe = np.where(finite, dof, 1.0)
    scale = np.sqrt(rng.chisquare(np.broadcast_to(safe, shape)) / safe)
    return np.where(finite, z / scale, z)


def predict_metrics(
    law: Law,
    *,
    params: float,
    tokens: float,
    width: int | None = None,
    depth: int | None = None,
    level: float = DEFAULT_LEVEL,
) -> tuple[dict[str, MetricPrediction], tuple[str, ...]]:
    """Every linked metric of ``law`` at one model (``params`` as the law counts N, or a
    shape), and the caveats they carry."""
    out: dict[str, MetricPrediction] = {}
    caveats: list[str] = []
    for name, link in law.downstream.items():
        c = chain(law, link, params=params, tokens=tokens, width=width, depth=depth)
        x_band = intervals(c.x_runs, level)[0]
        out[name] = MetricPrediction(
            metric=name,
            value=float(c.value[0]),
            interval=interval(c.runs[0], level),
            curve_interval=None if c.curve is None else interval(c.curve[0], level),
            level=level,
            link=link.link,
            via=link.via,
            via_value=float(c.x[0]),
            via_interval=x_band,
            fitted_range=link.x_range,
        )
        caveats.extend(link_caveats(law.id, link, c.x))
    return out, tuple(caveats)

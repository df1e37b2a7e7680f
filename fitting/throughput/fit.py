"""Fitting a throughput model to measured step times, and checking it held out.

:func:`fit_throughput` fits the five constants of ``fitting.throughput`` by least
squares on log step time, from a few starts in unbounded coordinates (logit of the
matmul efficiency, logs of the rest); :func:`leave_one_shape_out` refits without each
shape and predicts it (the accuracy test of issue 11 on the 22 Gemstones models).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from flopwise.fitting.checks import positive
from flopwise.fitting.counting import ArchFamily
from flopwise.fitting.datasets import DATA_DIR
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.hardware import gpu
from flopwise.fitting.throughput.model import (
    CONSTANTS,
    ThroughputDomain,
    ThroughputModel,
    step_seconds,
)

__all__ = [
    "GEMSTONES_BATCH_TOKENS",
    "StepTimes",
    "ThroughputFit",
    "fit_throughput",
    "gcd_peak",
    "gemstones_step_times",
    "leave_one_shape_out",
    "predict_times",
]


@dataclass(frozen=True, eq=False)
class StepTimes:
    """Measured step times: one row per (shape, GPU count, batch) measurement."""

    width: np.ndarray
    depth: np.ndarray
    n_gpus: np.ndarray
    batch_tokens: np.ndarray
    """Global tokens per step."""
    seconds_per_step: np.ndarray
    gpu: str

    def __post_init__(self) -> None:
        n = len(self.seconds_per_step)
        for f in fields(self):
            if f.name == "gpu":
                continue
            col = np.asarray(getattr(self, f.name), dtype=float)
            if col.shape != (n,):
                raise ArgumentError(f.name, f"expected {n} values, got shape {col.shape}")
            if not np.all(np.isfinite(col) & (col > 0)):
                raise ArgumentError(f.name, "every value must be positive and finite")
            object.__setattr__(self, f.name, col)

    def __len__(self) -> int:
        return len(self.seconds_per_step)

    def subset(self, index: np.ndarray) -> StepTimes:
        """The rows at ``index``."""
        cols = {f.name: getattr(self, f.name)[index] for f in fields(self) if f.name != "gpu"}
        return StepTimes(**cols, gpu=self.gpu)

    def domain(self) -> ThroughputDomain:
        """The ranges these measurements span."""
        per_gpu = self.batch_tokens / self.n_gpus

        def span(x: np.ndarray) -> tuple[float, float]:
            return float(x.min()), float(x.max())

        return ThroughputDomain(
            width=span(self.width),
            depth=span(self.depth),
            n_gpus=span(self.n_gpus),
            tokens_per_gpu=span(per_gpu),
        )


@dataclass(frozen=True, eq=False)
class ThroughputFit:
    """The outcome of a fit: failure is a value (``success``, ``message``)."""

    model: ThroughputModel | None
    success: bool
    message: str
    relative_errors: np.ndarray
    """Predicted over measured step time minus 1, per row (empty on failure)."""


_STARTS = (
    (0.0, 6.0, -6.0, -3.0, -20.0),
    (1.0, 8.0, -4.0, -1.0, -22.0),
    (-1.0, 5.0, -8.0, -2.0, -21.0),
)
"""Starting points (logit eta, then logs of w_half, k_layer, k_step, k_comm)."""


def _unpack(x: np.ndarray) -> dict[str, Any]:
    return {
        "matmul_efficiency": float(1.0 / (1.0 + math.exp(-x[0]))),
        **{name: float(math.exp(v)) for name, v in zip(CONSTANTS[1:], x[1:], strict=True)},
    }


def fit_throughput(
    times: StepTimes,
    *,
    family: ArchFamily,
    peak_flops: float,
    model_id: str,
    version: int = 1,
    source: str = "",
) -> ThroughputFit:
    """Fit the five constants to measured step times (least squares on log time).

    Needs at least six measurements of at least three shapes. Constants are fitted in
    unbounded coordinates (logit of eta, log of the rest) from a few starts; the best
    start wins. Returns a :class:`ThroughputFit`; a failed fit has ``model=None``.
    """
    positive("peak_flops", peak_flops)
    n_shapes = _enough(times)
    log_measured = np.log(times.seconds_per_step)
    base = ThroughputModel(
        id=model_id,
        version=version,
        gpu=times.gpu,
        peak_flops=peak_flops,
        matmul_efficiency=1.0,
        half_width=0.0,
        layer_seconds=0.0,
        step_overhead=0.0,
        comm_per_param=0.0,
        batch_tokens=float(np.median(times.batch_tokens)),
        domain=times.domain(),
        source=source,
    )

    def model_at(x: np.ndarray) -> ThroughputModel:
        return replace(base, **_unpack(x))

    def residuals(x: np.ndarray) -> np.ndarray:
        return np.log(predict_times(model_at(x), family, times)) - log_measured

    runs = [least_squares(residuals, np.asarray(x0, dtype=float)) for x0 in _STARTS]
    best = min(runs, key=lambda r: float(r.cost))
    if not (best.success and np.all(np.isfinite(best.x))):
        return ThroughputFit(None, False, str(best.message), np.empty(0))
    errors = np.expm1(residuals(best.x))
    model = replace(model_at(best.x), diagnostics=_diagnostics(errors, n_shapes))
    return ThroughputFit(model, True, str(best.message), errors)


def _enough(times: StepTimes) -> int:
    """The number of shapes, if there are enough measurements to fit five constants."""
    n_shapes = len({(float(w), float(d)) for w, d in zip(times.width, times.depth, strict=True)})
    if len(times) < 6 or n_shapes < 3:
        raise ArgumentError(
            "times", f"need at least 6 step times of 3 shapes, got {len(times)} of {n_shapes}"
        )
    return n_shapes


def predict_times(model: ThroughputModel, family: ArchFamily, times: StepTimes) -> np.ndarray:
    """Predicted seconds per step of every measurement in ``times``."""
    return np.asarray(
        step_seconds(
            model,
            family,
            times.width.astype(np.int64),
            times.depth,
            tokens_per_gpu=times.batch_tokens / times.n_gpus,
            n_gpus=times.n_gpus,
        ),
        dtype=float,
    )


def _diagnostics(errors: np.ndarray, n_shapes: int) -> dict[str, Any]:
    return {
        "n_measurements": len(errors),
        "n_shapes": n_shapes,
        "rms_log_error": float(np.sqrt(np.mean(np.log1p(errors) ** 2))),
        "median_relative_error": float(np.median(np.abs(errors))),
        "max_relative_error": float(np.max(np.abs(errors))),
    }


def leave_one_shape_out(
    times: StepTimes, *, family: ArchFamily, peak_flops: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Refit without each shape and predict its step times: ``(widths, depths, errors)``.

    ``errors`` is the worst relative error of the held-out shape's predictions, one per
    shape (the Gemstones files hold one step time per model, so one row per shape).
    """
    pairs = np.stack([times.width, times.depth], axis=1)
    shapes = np.unique(pairs, axis=0)
    errors = np.empty(len(shapes))
    for i, (w, d) in enumerate(shapes):
        held = (times.width == w) & (times.depth == d)
        fit = fit_throughput(
            times.subset(~held), family=family, peak_flops=peak_flops, model_id="loo"
        )
        if fit.model is None:
            errors[i] = np.inf
            continue
        rest = times.subset(held)
        pred = predict_times(fit.model, family, rest)
        errors[i] = float(np.max(np.abs(pred / rest.seconds_per_step - 1.0)))
    return shapes[:, 0], shapes[:, 1], errors


GEMSTONES_BATCH_TOKENS = 2048.0 * 2048.0
GCDS_PER_NODE = 8
"""Frontier: 4 MI250X per node, 2 GCDs each."""


def gemstones_step_times() -> StepTimes:
    """One step time per Gemstones model (22 shapes), on ``num_nodes x 8`` GCDs."""
    path = DATA_DIR / "gemstones_wandb_df_for_fitting_hot.jsonl"
    shapes: dict[tuple[int, int], tuple[int, float]] = {}
    with open(path) as fh:
        for line in fh:
            if line.strip():
                r = json.loads(line)
                shapes[(int(r["width"]), int(r["depth"]))] = (
                    int(r["num_nodes"]) * GCDS_PER_NODE,
                    float(r["seconds_per_step"]),
                )
    keys = sorted(shapes)
    return StepTimes(
        width=np.array([k[0] for k in keys]),
        depth=np.array([k[1] for k in keys]),
        n_gpus=np.array([shapes[k][0] for k in keys]),
        batch_tokens=np.full(len(keys), GEMSTONES_BATCH_TOKENS),
        seconds_per_step=np.array([shapes[k][1] for k in keys]),
        gpu="mi250x-gcd",
    )


def gcd_peak() -> float:
    """Dense BF16 peak of one MI250X GCD (``fitting.hardware``): 191.5 TFLOPS."""
    return gpu("mi250x-gcd").peak_bf16_flops

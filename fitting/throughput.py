"""Throughput: seconds per training step of a shape on a GPU, from first principles.

One step of data-parallel training on ``g`` GPUs, each holding ``b`` tokens of the
global batch, costs

    t = b F_mm / (peak eta) (1 + w_half / width)       matmuls, slower when narrow
      + k_layer depth                                   per-layer latency (launches, syncs)
      + k_step                                          per-step overhead (optimizer, data)
      + k_comm params 2 (g - 1) / g                     ring all-reduce of the gradients

``F_mm`` is the matmul FLOPs per token (:func:`matmul_flops_per_token`). The free
constants are ``eta`` (the matmul fraction of the GPU's dense BF16 peak a wide model
reaches, at most 1, so achieved FLOP/s never exceed the peak), ``w_half`` (the width
at which matmul efficiency halves: narrow matrices fill the tensor cores poorly and
their elementwise work, proportional to tokens x depth x width, weighs more),
``k_layer``, ``k_step`` and ``k_comm`` (seconds per parameter all-reduced: bytes per
parameter over bus bandwidth). A separate elementwise term ``tokens x depth x width``
would be the same function of the shape as the ``w_half`` term, so it is folded in.

The constants are fitted by least squares on log step time
(:func:`fit_throughput`); a model is a versioned value like a law, carrying the range
of shapes, GPU counts and per-GPU batches it was fitted on (:class:`ThroughputDomain`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from flopwise.fitting.checks import positive
from flopwise.fitting.counting import (
    ArchFamily,
    ArchSpec,
    Num,
    block_matmul_params,
    param_counts,
)
from flopwise.fitting.errors import ArgumentError

__all__ = [
    "StepTimes",
    "ThroughputDomain",
    "ThroughputFit",
    "ThroughputModel",
    "fit_throughput",
    "from_dict",
    "leave_one_shape_out",
    "matmul_flops_per_token",
    "spec_step_seconds",
    "step_seconds",
    "to_dict",
]

CONSTANTS = ("matmul_efficiency", "half_width", "layer_seconds", "step_overhead", "comm_per_param")
"""The free constants, in the order the fit stores them."""


def matmul_flops_per_token(width: Num, depth: Num, family: ArchFamily) -> Num:
    """Training matmul FLOPs per token of ``family`` shapes; vectorised.

    ``6 x`` (block matmul weights x depth + output head): forward 2 per weight, backward
    twice the forward (Kaplan et al. 2020, Table 1); plus attention scores and
    softmax @ V, ``6 s head_dim n_heads`` per layer with the causal half skipped
    (Gemstones App. M counts them the same way). Gemstones 1024 x 28 gives 3.304e9.
    """
    kw = family.shape_kwargs(width)
    weights = block_matmul_params(
        width, kw["n_heads"], kw["n_kv_heads"], family.head_dim, kw["ffn_size"], family.gated_ffn
    )
    attention = 6.0 * family.seq_len * family.head_dim * kw["n_heads"]
    return 6.0 * (depth * weights + family.vocab_size * width) + depth * attention


def total_params(width: Num, depth: Num, family: ArchFamily) -> Num:
    """Every parameter (what the all-reduce moves); vectorised."""
    total, _, _ = param_counts(
        width,
        depth,
        tied_embeddings=family.tied_embeddings,
        positions=family.positions,
        norm=family.norm,
        bias=family.bias,
        **family.shape_kwargs(width),
    )
    return total


def spec_step_seconds(
    model: ThroughputModel, spec: ArchSpec, tokens_per_gpu: float, n_gpus: int = 1
) -> float:
    """Predicted seconds per step of one concrete model (its family read off the spec)."""
    family = ArchFamily(
        head_dim=spec.head_dim,
        kv_group=max(1, spec.n_heads // spec.n_kv_heads),
        ffn_multiplier=spec.ffn_size / spec.width,
        gated_ffn=spec.gated_ffn,
        vocab_size=spec.vocab_size,
        seq_len=spec.seq_len,
        tied_embeddings=spec.tied_embeddings,
        positions=spec.positions,
        norm=spec.norm,
        bias=spec.bias,
    )
    return float(
        step_seconds(
            model, family, spec.width, spec.depth, tokens_per_gpu=tokens_per_gpu, n_gpus=n_gpus
        )
    )


def ring_factor(n_gpus: Num) -> Num:
    """Bytes each GPU sends per byte all-reduced by a ring: ``2 (g - 1) / g``
    (Patarasuk & Yuan 2009, *Bandwidth optimal all-reduce algorithms*)."""
    g = np.asarray(n_gpus, dtype=float)
    return 2.0 * (g - 1.0) / g


@dataclass(frozen=True, kw_only=True)
class ThroughputDomain:
    """The ranges a model was fitted on: an answer outside them is an extrapolation."""

    width: tuple[float, float]
    depth: tuple[float, float]
    n_gpus: tuple[float, float]
    tokens_per_gpu: tuple[float, float]
    """Tokens of the global batch each GPU processes per step."""

    def outside(self, **values: float) -> list[str]:
        """A warning per value outside its range, naming the range."""
        out = []
        for name, value in values.items():
            lo, hi = getattr(self, name)
            if not lo <= value <= hi:
                out.append(
                    f"{name} {value:.4g} lies outside the range the throughput model was "
                    f"fitted on ({lo:.4g} to {hi:.4g}): its step time is an extrapolation"
                )
        return out


@dataclass(frozen=True, kw_only=True, eq=False)
class ThroughputModel:
    """Fitted constants of the step-time model for one GPU (see module docstring)."""

    id: str
    version: int = 1
    gpu: str
    """The GPU (``fitting.hardware`` name) one of the model's devices is."""
    peak_flops: float
    """Dense BF16 peak of one device, FLOP/s."""
    matmul_efficiency: float
    """eta: fraction of peak wide matmuls reach, in (0, 1]."""
    half_width: float
    """w_half: the width at which matmul efficiency is halved."""
    layer_seconds: float
    """k_layer: seconds per layer per step."""
    step_overhead: float
    """k_step: seconds per step."""
    comm_per_param: float
    """k_comm: seconds per parameter all-reduced (times the ring factor)."""
    batch_tokens: float
    """Global batch (tokens per step) the model answers at unless told otherwise."""
    domain: ThroughputDomain
    source: str = ""
    notes: str = ""
    diagnostics: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0 < self.matmul_efficiency <= 1:
            raise ArgumentError(
                "matmul_efficiency", f"must be in (0, 1], got {self.matmul_efficiency}"
            )
        positive("peak_flops", self.peak_flops)
        positive("batch_tokens", self.batch_tokens)
        for name in ("half_width", "layer_seconds", "step_overhead", "comm_per_param"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ArgumentError(name, f"must be a finite number >= 0, got {value!r}")

    @property
    def ref(self) -> str:
        """``id@version``."""
        return f"{self.id}@{self.version}"

    def constants(self) -> dict[str, float]:
        """The free constants by name."""
        return {name: getattr(self, name) for name in CONSTANTS}


def step_seconds(
    model: ThroughputModel,
    family: ArchFamily,
    width: Num,
    depth: Num,
    *,
    tokens_per_gpu: Num,
    n_gpus: Num,
) -> Num:
    """Predicted seconds per optimizer step; vectorised over shapes and GPU counts.

    The time is never below the step's matmul FLOPs at the GPU's peak (the ceiling).
    """
    w = np.asarray(width, dtype=float)
    f_mm = matmul_flops_per_token(width, depth, family)
    ideal = tokens_per_gpu * f_mm / model.peak_flops
    compute = ideal / model.matmul_efficiency * (1.0 + model.half_width / w)
    comm = model.comm_per_param * total_params(width, depth, family) * ring_factor(n_gpus)
    total = compute + model.layer_seconds * depth + model.step_overhead + comm
    return np.maximum(total, ideal)


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
    shapes = {(float(w), float(d)) for w, d in zip(times.width, times.depth, strict=True)}
    if len(times) < 6 or len(shapes) < 3:
        raise ArgumentError(
            "times", f"need at least 6 step times of 3 shapes, got {len(times)} of {len(shapes)}"
        )
    domain = times.domain()
    per_gpu = times.batch_tokens / times.n_gpus
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
        domain=domain,
        source=source,
    )

    def model_at(x: np.ndarray) -> ThroughputModel:
        return replace(base, **_unpack(x))

    def residuals(x: np.ndarray) -> np.ndarray:
        pred = step_seconds(
            model_at(x),
            family,
            times.width.astype(np.int64),
            times.depth,
            tokens_per_gpu=per_gpu,
            n_gpus=times.n_gpus,
        )
        return np.log(pred) - log_measured

    runs = [least_squares(residuals, np.asarray(x0, dtype=float)) for x0 in _STARTS]
    best = min(runs, key=lambda r: float(r.cost))
    if not (best.success and np.all(np.isfinite(best.x))):
        return ThroughputFit(None, False, str(best.message), np.empty(0))
    errors = np.expm1(residuals(best.x))
    diagnostics = {
        "n_measurements": len(times),
        "n_shapes": len(shapes),
        "rms_log_error": float(np.sqrt(np.mean(np.log1p(errors) ** 2))),
        "median_relative_error": float(np.median(np.abs(errors))),
        "max_relative_error": float(np.max(np.abs(errors))),
    }
    model = replace(model_at(best.x), diagnostics=diagnostics)
    return ThroughputFit(model, True, str(best.message), errors)


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
        pred = step_seconds(
            fit.model,
            family,
            rest.width.astype(np.int64),
            rest.depth,
            tokens_per_gpu=rest.batch_tokens / rest.n_gpus,
            n_gpus=rest.n_gpus,
        )
        errors[i] = float(np.max(np.abs(pred / rest.seconds_per_step - 1.0)))
    return shapes[:, 0], shapes[:, 1], errors


def to_dict(model: ThroughputModel) -> dict[str, Any]:
    """A JSON-ready dict of ``model``."""
    out = {f.name: getattr(model, f.name) for f in fields(model)}
    out["domain"] = {f.name: list(getattr(model.domain, f.name)) for f in fields(model.domain)}
    out["diagnostics"] = dict(model.diagnostics)
    return out


def from_dict(data: dict[str, Any]) -> ThroughputModel:
    """Inverse of :func:`to_dict`."""
    kwargs = dict(data)
    kwargs["domain"] = ThroughputDomain(**{k: tuple(v) for k, v in kwargs["domain"].items()})
    return ThroughputModel(**kwargs)

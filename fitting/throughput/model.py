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
(``fitting.throughput_fit``); a model is a versioned value like a law, carrying the range
of shapes, GPU counts and per-GPU batches it was fitted on (:class:`ThroughputDomain`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from flopwise.fitting.checks import positive
from flopwise.fitting.counting import (
    ArchFamily,
    ArchSpec,
    Num,
    block_matmul_params,
)
from flopwise.fitting.errors import ArgumentError

__all__ = [
    "CONSTANTS",
    "StepTerms",
    "ThroughputDomain",
    "ThroughputModel",
    "from_dict",
    "matmul_flops_per_token",
    "spec_step_seconds",
    "step_seconds",
    "step_terms",
    "step_time",
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
    total, _, _ = family.param_counts(width, depth)
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


@dataclass(frozen=True)
class StepTerms:
    """The parts of a step's time that depend on the shape alone, so that the time on
    any GPU count and batch is a few multiplications away (:func:`step_time`)."""

    ideal: Any
    """Seconds per token of a GPU's share at the GPU's peak: ``F_mm / peak``."""
    compute: Any
    """Seconds per token of a GPU's share as run: ``ideal / eta (1 + w_half / width)``."""
    fixed: Any
    """Seconds per step whatever the batch: ``k_layer depth + k_step``."""
    comm: Any
    """Seconds per step per unit of the ring factor: ``k_comm`` x every parameter."""


def step_terms(model: ThroughputModel, family: ArchFamily, width: Num, depth: Num) -> StepTerms:
    """:class:`StepTerms` of ``family`` shapes under ``model``; vectorised."""
    w = np.asarray(width, dtype=float)
    ideal = matmul_flops_per_token(width, depth, family) / model.peak_flops
    return StepTerms(
        ideal=ideal,
        compute=ideal / model.matmul_efficiency * (1.0 + model.half_width / w),
        fixed=model.layer_seconds * depth + model.step_overhead,
        comm=model.comm_per_param * total_params(width, depth, family),
    )


def step_time(terms: StepTerms, *, tokens_per_gpu: Num, n_gpus: Num) -> Num:
    """Seconds per optimizer step of shapes with ``terms``; vectorised over shapes and
    GPU counts. Never below the step's matmul FLOPs at the GPU's peak (the ceiling)."""
    total = tokens_per_gpu * terms.compute + terms.fixed + terms.comm * ring_factor(n_gpus)
    return np.maximum(total, tokens_per_gpu * terms.ideal)


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
    terms = step_terms(model, family, width, depth)
    return step_time(terms, tokens_per_gpu=tokens_per_gpu, n_gpus=n_gpus)


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

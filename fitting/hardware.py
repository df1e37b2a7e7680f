"""Accelerator peak throughput and budget conversions (GPU-hours, dollars -> FLOPs).

``FLOPs = GPU-hours x 3600 x peak FLOP/s x MFU``. Peaks are *dense* BF16 tensor-core
throughput (no 2:4 sparsity), from each vendor's datasheet. One entry is one device as
the framework sees it, except ``mi250x``, the whole MI250X package: PyTorch sees each of
its two dies as a GPU, ``mi250x-gcd``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flopwise.fitting.checks import positive
from flopwise.fitting.errors import ArgumentError

__all__ = ["GPU", "GPUS", "Cost", "budget_to_flops", "cost_of", "gpu"]


@dataclass(frozen=True)
class GPU:
    """One accelerator model."""

    name: str
    peak_bf16_flops: float
    """Dense BF16 tensor throughput, FLOP/s."""
    memory_gib: float
    source: str


GPUS: dict[str, GPU] = {
    g.name: g
    for g in (
        GPU(
            "a100",
            312e12,
            80,
            "NVIDIA A100 Tensor Core GPU datasheet (2021): BF16 312 TFLOPS dense",
        ),
        GPU(
            "h100",
            989.4e12,
            80,
            "NVIDIA H100 datasheet, SXM5: BF16 1,979 TFLOPS with sparsity, half dense",
        ),
        GPU(
            "h100-pcie",
            756e12,
            80,
            "NVIDIA H100 Tensor Core GPU datasheet, H100 PCIe: BF16 1,513 TFLOPS with sparsity, "
            "half dense",
        ),
        GPU(
            "h100-nvl",
            835.5e12,
            94,
            "NVIDIA H100 Tensor Core GPU datasheet, H100 NVL: BF16 1,671 TFLOPS with sparsity, "
            "half dense",
        ),
        GPU(
            "h200",
            989.4e12,
            141,
            "NVIDIA H200 datasheet, SXM: BF16 1,979 TFLOPS with sparsity, half dense",
        ),
        GPU(
            "b200",
            2.25e15,
            180,
            "NVIDIA HGX B200 datasheet: FP16/BF16 4.5 PFLOPS per GPU with sparsity, half dense",
        ),
        GPU(
            "mi250x",
            383e12,
            128,
            "AMD Instinct MI250X datasheet: peak BF16 383 TFLOPS for the package of two "
            "graphics compute dies (GCDs)",
        ),
        GPU(
            "mi250x-gcd",
            191.5e12,
            64,
            "AMD Instinct MI250X datasheet: one of the package's two GCDs (half its 383 "
            "TFLOPS BF16 and 128 GB); PyTorch and Slurm see each GCD as one GPU",
        ),
        GPU(
            "mi300x",
            1307.4e12,
            192,
            "AMD Instinct MI300X datasheet: peak BF16 1,307.4 TFLOPS dense",
        ),
        GPU(
            "l40s", 362.05e12, 48, "NVIDIA L40S datasheet: BF16 733 TFLOPS with sparsity, 362 dense"
        ),
        GPU(
            "rtx4090",
            165.2e12,
            24,
            "NVIDIA Ada Lovelace architecture whitepaper, RTX 4090: BF16 with FP32 accumulate 165.2 TFLOPS dense",
        ),
    )
}

_ALIASES = {
    "a100-80gb": "a100",
    "a100-40gb": "a100",
    "h100-sxm": "h100",
    "h100pcie": "h100-pcie",
    "h100nvl": "h100-nvl",
    "rtx-4090": "rtx4090",
    "4090": "rtx4090",
    "mi-300x": "mi300x",
    "mi-250x": "mi250x",
    "mi250x-package": "mi250x",
    "mi250xgcd": "mi250x-gcd",
}


def gpu(name: str) -> GPU:
    """Look a GPU up by name (case-insensitive); ``ValueError`` names the unknown one."""
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in GPUS:
        raise ArgumentError("gpu", f"unknown GPU {name!r}; known: {', '.join(sorted(GPUS))}")
    return GPUS[key]


@dataclass(frozen=True)
class Cost:
    """What a FLOP budget costs on one kind of GPU."""

    gpu_hours: float
    wall_clock_hours: float | None
    dollars: float | None


def budget_to_flops(
    *,
    flops: float | None = None,
    gpu_hours: float | None = None,
    dollars: float | None = None,
    gpu_name: str | None = None,
    mfu: float = 0.4,
    price_per_gpu_hour: float | None = None,
) -> float:
    """Convert exactly one budget kind to training FLOPs.

    ``gpu_hours`` needs ``gpu_name``; ``dollars`` needs ``gpu_name`` and
    ``price_per_gpu_hour``. FLOPs = GPU-hours x 3600 x peak x MFU.
    """
    given = [
        k
        for k, v in (("flops", flops), ("gpu_hours", gpu_hours), ("dollars", dollars))
        if v is not None
    ]
    if len(given) != 1:
        raise ArgumentError(
            "budget", f"give exactly one of flops, gpu_hours, dollars (got {given or 'none'})"
        )
    if flops is not None:
        return positive("flops", flops)
    positive("mfu", mfu)
    if mfu > 1:
        raise ArgumentError("mfu", f"must be in (0, 1], got {mfu}")
    if gpu_name is None:
        raise ArgumentError("gpu", "a GPU-hour or dollar budget needs a GPU name")
    peak = gpu(gpu_name).peak_bf16_flops
    if gpu_hours is not None:
        hours = positive("gpu_hours", gpu_hours)
    else:
        assert dollars is not None
        if price_per_gpu_hour is None:
            raise ArgumentError("price_per_gpu_hour", "a dollar budget needs a price per GPU-hour")
        hours = positive("dollars", dollars) / positive("price_per_gpu_hour", price_per_gpu_hour)
    return hours * 3600.0 * peak * mfu


def cost_of(
    flops: float,
    gpu_name: str,
    *,
    mfu: float = 0.4,
    n_gpus: int | None = None,
    price_per_gpu_hour: float | None = None,
) -> Cost:
    """GPU-hours, wall-clock hours (with ``n_gpus``) and dollars (with a price) for ``flops``."""
    positive("flops", flops)
    positive("mfu", mfu)
    hours = flops / (3600.0 * gpu(gpu_name).peak_bf16_flops * mfu)
    wall = None
    if n_gpus is not None:
        if isinstance(n_gpus, bool) or not isinstance(n_gpus, int) or n_gpus < 1:
            raise ArgumentError("n_gpus", f"must be a positive integer, got {n_gpus!r}")
        wall = hours / n_gpus
    dollars = (
        None
        if price_per_gpu_hour is None
        else hours * positive("price_per_gpu_hour", price_per_gpu_hour)
    )
    return Cost(gpu_hours=hours, wall_clock_hours=wall, dollars=dollars)

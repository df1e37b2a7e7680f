"""Throughput and model FLOPs utilisation, counted with the project's own FLOP counter.

FLOPs per training token come from ``fitting.counting.gemstones_flops_per_token``
(McLeish et al. 2025, App. M): every matmul at 2 FLOPs per multiply-add, attention
scores and softmax included (causal half), backward = 2x forward (2.5x for attention
scores), the ~6N of Kaplan et al. 2020 plus what 6N leaves out. MFU is then

    MFU = flops_per_token x tokens_per_second / (n_devices x peak FLOP/s)

as defined by Chowdhery et al. 2022 (PaLM, App. B) and estimated in nanoGPT's
``estimate_mfu``: the FLOPs the model needs, not the ones the hardware happened to run
(no recomputation counted). Peaks are the dense BF16 datasheet numbers in
``fitting.hardware.GPUS``.
"""

from __future__ import annotations

import time

import torch

from flopwise.fitting.counting import ArchSpec
from flopwise.fitting.flops import gemstones_flops_per_token
from flopwise.fitting.hardware import GPUS

__all__ = [
    "StepClock",
    "device_gpu_name",
    "flops_per_token",
    "gpu_name",
    "mfu",
    "peak_flops",
]

_NAME_HINTS = (
    ("h200", "h200"),
    ("h100pcie", "h100-pcie"),  # before plain h100: the PCIe and NVL cards peak lower
    ("h100nvl", "h100-nvl"),
    ("h100", "h100"),
    ("a100", "a100"),
    ("b200", "b200"),
    ("l40s", "l40s"),
    ("4090", "rtx4090"),
    ("mi300x", "mi300x"),
    ("mi250x", "mi250x-gcd"),  # PyTorch sees each of the package's two dies
)


def flops_per_token(spec: ArchSpec) -> float:
    """Training FLOPs per token of ``spec`` by Gemstones' counter (docs/laws.md §8.4)."""
    return float(gemstones_flops_per_token(spec.width, spec.depth, **spec.shape_kwargs()))


def device_gpu_name(device: torch.device) -> str:
    """``fitting.hardware`` name of the device's GPU (``cpu`` on CPU; the raw name when
    the catalogue does not know the GPU)."""
    if device.type != "cuda":
        return "cpu"
    return gpu_name(torch.cuda.get_device_name(device))


def gpu_name(device_name: str) -> str:
    """``fitting.hardware`` name of a CUDA device name (the lowered name when unknown).

    >>> [gpu_name(n) for n in ("NVIDIA H100 80GB HBM3", "NVIDIA H100 PCIe", "NVIDIA H100 NVL")]
    ['h100', 'h100-pcie', 'h100-nvl']
    """
    raw = device_name.lower()
    for hint, name in _NAME_HINTS:
        if hint in raw.replace(" ", ""):
            return name
    return raw


def peak_flops(gpu_name: str) -> float | None:
    """Dense BF16 peak FLOP/s of a catalogued GPU; ``None`` for a CPU or unknown GPU."""
    gpu = GPUS.get(gpu_name)
    return None if gpu is None else gpu.peak_bf16_flops


def mfu(
    flops_per_token: float, tokens_per_second: float, peak: float | None, n_devices: int
) -> float | None:
    """Model FLOPs utilisation (PaLM App. B); ``None`` without a known peak.

    >>> round(mfu(3.578e9, 1.0e5, 989.4e12, 1), 3)  # Gemstones 1024x28 at 100k tok/s, H100
    0.362
    """
    if peak is None or tokens_per_second <= 0:
        return None
    return flops_per_token * tokens_per_second / (n_devices * peak)


class StepClock:
    """Wall time of training steps only: paused around evaluation and checkpoints, and
    blind to the first step after a (re)start (allocation, compilation warm-up). On GPU
    it synchronises only when read, so it never stalls the launch queue."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.total = 0.0
        self.window_seconds = 0.0
        self.window_steps = 0
        self.since: float | None = None

    def _now(self) -> float:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return time.perf_counter()

    def step_done(self, first: bool) -> None:
        if first:
            self.since = self._now()
        else:
            self.window_steps += 1

    def lap(self) -> None:
        if self.since is not None:
            now = self._now()
            self.window_seconds += now - self.since
            self.total += now - self.since
            self.since = now

    def seconds_per_step(self) -> float:
        self.lap()
        return self.window_seconds / self.window_steps if self.window_steps else 0.0

    def pause(self) -> None:
        self.lap()
        self.since = None

    def resume(self) -> None:
        self.window_seconds, self.window_steps = 0.0, 0
        self.since = self._now()

"""The local host's devices and how fast they train, for planning.

A GPU's sustained throughput is estimated as its datasheet BF16 peak
(``fitting.hardware``) times an assumed MFU; a CPU's is measured by a short probe: a
few timed steps of a small model of the tiny family, converted to FLOP/s with the
Gemstones counter.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from flopwise.fitting.counting import ArchSpec
from flopwise.trainer.config import ModelConfig
from flopwise.trainer.ddp import resolve_device
from flopwise.trainer.metrics import device_gpu_name, flops_per_token, peak_flops
from flopwise.trainer.model import Transformer

__all__ = ["ASSUMED_GPU_MFU", "LocalDevices", "local_devices", "probe_cpu_flops"]

ASSUMED_GPU_MFU = 0.3
"""MFU assumed for time estimates on a GPU (small models rarely do better)."""


@dataclass(frozen=True)
class LocalDevices:
    """What a sweep can run on."""

    kind: str
    """``cuda`` or ``cpu``."""
    slots: list[str]
    """CUDA device ordinals, or CPU job slots."""
    name: str
    """GPU name by ``fitting.hardware`` (``cpu`` on CPU)."""


def local_devices(preference: str, cpu_slots: int = 1) -> LocalDevices:
    """Every local GPU (``auto``/``cuda``), or ``cpu_slots`` CPU slots."""
    device = resolve_device(preference)
    if device.type == "cuda":
        count = torch.cuda.device_count()
        return LocalDevices("cuda", [str(i) for i in range(count)], device_gpu_name(device))
    return LocalDevices("cpu", [f"cpu{i}" for i in range(cpu_slots)], "cpu")


def probe_cpu_flops(threads: int, steps: int = 6) -> float:
    """Measured training FLOP/s of one CPU job with ``threads`` threads."""
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        spec = ArchSpec(width=64, depth=2, head_dim=16, vocab_size=256, seq_len=128)
        torch.manual_seed(0)
        model = Transformer(ModelConfig(arch=spec))
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        x = torch.arange(16 * 128).reshape(16, 128) % 256
        start = 0.0
        for i in range(steps + 1):
            if i == 1:
                start = time.perf_counter()
            model(x, x).backward()
            opt.step()
            opt.zero_grad()
        seconds = (time.perf_counter() - start) / steps
    finally:
        torch.set_num_threads(previous)
    return flops_per_token(spec) * 16 * 128 / seconds


def estimated_flops(devices: LocalDevices, threads: int) -> float:
    """Sustained training FLOP/s of one device slot."""
    if devices.kind == "cuda":
        peak = peak_flops(devices.name) or 100e12
        return peak * ASSUMED_GPU_MFU
    return probe_cpu_flops(threads)

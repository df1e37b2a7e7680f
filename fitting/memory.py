"""Memory to hold a model for training (weights, gradients, optimiser states) and the
fewest GPUs whose memory holds it.

Rajbhandari et al. 2020 (ZeRO, arXiv:1910.02054) §3.1: mixed-precision training with
Adam keeps 16-bit weights and gradients (2 + 2 bytes a parameter) and an fp32 master
copy, momentum and variance (K = 12 bytes), 16 bytes a parameter in all: "a 1.5B
parameter model ... requires at least 24 GB". The count is of the model states only;
activations, buffers and fragmentation come on top, so the GPU count is a lower bound
(and an MoE holds its *total* parameters even though a token uses only the active ones).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

from flopwise.fitting.checks import positive
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.hardware import gpu

__all__ = ["PRECISIONS", "Memory", "Precision", "min_gpus", "model_memory"]

Precision = Literal["mixed-adam", "fp32-adam", "bf16-weights", "fp8-weights"]

PRECISIONS: dict[str, tuple[int, int, int]] = {
    "mixed-adam": (2, 2, 12),
    "fp32-adam": (4, 4, 8),
    "bf16-weights": (2, 0, 0),
    "fp8-weights": (1, 0, 0),
}
"""Bytes per parameter of (weights, gradients, optimiser states). ``mixed-adam``: ZeRO
§3.1 (16-bit weights and gradients, fp32 master weights, momentum and variance);
``fp32-adam``: the same accounting in fp32 without a master copy (4 + 4 + 2 x 4);
``*-weights``: the weights alone, to serve the model."""

assert set(PRECISIONS) == set(get_args(Precision))


@dataclass(frozen=True)
class Memory:
    """Bytes of the model states of a model at one precision."""

    precision: str
    weights_bytes: float
    gradients_bytes: float
    optimizer_bytes: float

    @property
    def total_bytes(self) -> float:
        return self.weights_bytes + self.gradients_bytes + self.optimizer_bytes


def model_memory(params: float, precision: str = "mixed-adam") -> Memory:
    """Rajbhandari et al. 2020 (ZeRO) §3.1: bytes of weights, gradients and optimiser
    states of ``params`` parameters; 16 bytes a parameter under mixed precision with Adam,
    so GPT-2's 1.5B parameters need 24 GB (the paper's own example).

    >>> model_memory(1.5e9).total_bytes
    24000000000.0
    """
    positive("params", params)
    if precision not in PRECISIONS:
        raise ArgumentError(
            "precision", f"expected one of {', '.join(PRECISIONS)}, got {precision!r}"
        )
    w, g, o = PRECISIONS[precision]
    return Memory(precision, w * params, g * params, o * params)


def min_gpus(memory_bytes: float, gpu_name: str) -> int:
    """The fewest GPUs named ``gpu_name`` whose memory (``hardware.GPU.memory_gib``
    GiB each) together holds ``memory_bytes``, the model states spread evenly over them
    (ZeRO stage 3 partitions all three, §5.3). 120 GB on 80 GiB H100s: 2.

    >>> min_gpus(120e9, "h100")
    2
    """
    positive("memory_bytes", memory_bytes)
    per_gpu = gpu(gpu_name).memory_gib * 2.0**30
    return max(1, math.ceil(memory_bytes / per_gpu))

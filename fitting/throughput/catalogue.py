"""Built-in throughput models: MI250X fitted on the Gemstones runs, H100 and A100 derived.

**MI250X (``gemstones-mi250x``).** McLeish et al. 2025 (Gemstones) trained their 22
models on Frontier: ``num_nodes`` nodes of 4 AMD MI250X, each MI250X two graphics
compute dies (GCDs) that PyTorch sees as two GPUs, so ``num_nodes x 8`` counts GCDs,
and every step was 2,048 sequences of 2,048 tokens (docs/laws.md §8.1). The model's
device is one GCD, ``mi250x-gcd`` in ``fitting.hardware`` (half the MI250X package's
383 TFLOPS dense BF16 peak): its GPU-hours are GCD-hours, as Gemstones counts them
(Fig. 7). Fitted on the
``seconds_per_step`` of ``fitting/datasets/gemstones_wandb_df_for_fitting_hot.jsonl``.

**H100, A100 (``h100-default``, ``a100-default``).** Not measured: the MI250X fit with
the device's datasheet peak (``fitting.hardware``) in place of the GCD's. The
dimensionless constants (matmul efficiency, half width) carry over; per-layer and
per-step overheads scale with the peak ratio (a faster GPU runs its kernels
proportionally faster); the all-reduce constant is kept (interconnects are not
scaled by compute). Replace them with a fit to your own step times (a calibration
sweep posts them) as soon as you have some.

Regenerate the JSON files with ``python -m flopwise.fitting.regenerate throughput``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.throughput.model import ThroughputModel, from_dict

__all__ = [
    "BUILTIN_DIR",
    "DERIVED",
    "GEMSTONES_MODEL",
    "builtin_path",
    "builtin_throughput",
    "builtin_throughputs",
    "default_for_gpu",
]

BUILTIN_DIR = Path(__file__).parent.parent / "builtin"
GEMSTONES_MODEL = "gemstones-mi250x"
DERIVED = {"h100-default": "h100", "a100-default": "a100"}
"""Models derived from ``gemstones-mi250x``: id -> ``fitting.hardware`` GPU name."""


def builtin_path(model_id: str) -> Path:
    return BUILTIN_DIR / f"throughput_{model_id}.json"


@cache
def builtin_throughputs() -> dict[str, ThroughputModel]:
    """Every built-in throughput model by id."""
    ids = (GEMSTONES_MODEL, *DERIVED)
    return {i: from_dict(json.loads(builtin_path(i).read_text())) for i in ids}


def builtin_throughput(model_id: str) -> ThroughputModel:
    """A built-in throughput model; ``ArgumentError('throughput')`` names an unknown one."""
    models = builtin_throughputs()
    if model_id not in models:
        raise ArgumentError(
            "throughput", f"unknown throughput model {model_id!r}; known: {', '.join(models)}"
        )
    return models[model_id]


def default_for_gpu(gpu_name: str) -> ThroughputModel | None:
    """The built-in model of a GPU (``fitting.hardware`` name), or ``None``."""
    for model in builtin_throughputs().values():
        if model.gpu == gpu_name:
            return model
    return None

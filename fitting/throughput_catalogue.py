"""Built-in throughput models: MI250X fitted on the Gemstones runs, H100 and A100 derived.

**MI250X (``gemstones-mi250x``).** McLeish et al. 2025 (Gemstones) trained their 22
models on Frontier: ``num_nodes`` nodes of 4 AMD MI250X, each MI250X two graphics
compute dies (GCDs) that PyTorch sees as two GPUs, so ``num_nodes x 8`` counts GCDs,
and every step was 2,048 sequences of 2,048 tokens (docs/laws.md §8.1). The model's device is one GCD,
with half the MI250X's 383 TFLOPS dense BF16 peak (AMD Instinct MI250X datasheet):
its GPU-hours are GCD-hours, as Gemstones counts them (Fig. 7). Fitted on the
``seconds_per_step`` of ``fitting/datasets/gemstones_wandb_df_for_fitting_hot.jsonl``.

**H100, A100 (``h100-default``, ``a100-default``).** Not measured: the MI250X fit with
the device's datasheet peak (``fitting.hardware``) in place of the GCD's. The
dimensionless constants (matmul efficiency, half width) carry over; per-layer and
per-step overheads scale with the peak ratio (a faster GPU runs its kernels
proportionally faster); the all-reduce constant is kept (interconnects are not
scaled by compute). Replace them with a fit to your own step times (a calibration
sweep posts them) as soon as you have some.

Regenerate the JSON files with ``python -m flopwise.fitting.throughput_catalogue``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from pathlib import Path

import numpy as np

from flopwise.fitting.counting import ArchFamily
from flopwise.fitting.datasets import DATA_DIR, GEMSTONES_SOURCE
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.hardware import gpu
from flopwise.fitting.throughput import ThroughputModel, from_dict, to_dict
from flopwise.fitting.throughput_fit import StepTimes, fit_throughput

__all__ = [
    "BUILTIN_DIR",
    "GEMSTONES_MODEL",
    "builtin_throughput",
    "builtin_throughputs",
    "default_for_gpu",
    "derived_model",
    "gemstones_step_times",
]

BUILTIN_DIR = Path(__file__).with_name("builtin")
GEMSTONES_MODEL = "gemstones-mi250x"
GEMSTONES_BATCH_TOKENS = 2048.0 * 2048.0
GCDS_PER_NODE = 8
"""Frontier: 4 MI250X per node, 2 GCDs each."""
DERIVED = {"h100-default": "h100", "a100-default": "a100"}


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
        gpu="mi250x",
    )


def gcd_peak() -> float:
    """Dense BF16 peak of one MI250X GCD: half the package's datasheet 383 TFLOPS."""
    return gpu("mi250x").peak_bf16_flops / 2.0


def fit_gemstones_model() -> ThroughputModel:
    """Fit ``gemstones-mi250x`` from the bundled runs."""
    result = fit_throughput(
        gemstones_step_times(),
        family=ArchFamily(),
        peak_flops=gcd_peak(),
        model_id=GEMSTONES_MODEL,
        source=f"{GEMSTONES_SOURCE}, wandb_dfs/wandb_df_for_fitting_hot.jsonl seconds_per_step",
    )
    assert result.model is not None, result.message
    return replace(
        result.model, notes="device = one MI250X GCD (num_nodes x 8); GPU-hours are GCD-hours"
    )


def derived_model(base: ThroughputModel, model_id: str, gpu_name: str) -> ThroughputModel:
    """``base`` moved to ``gpu_name``: its datasheet peak, overheads scaled by the peak ratio."""
    target = gpu(gpu_name)
    ratio = base.peak_flops / target.peak_bf16_flops
    return replace(
        base,
        id=model_id,
        gpu=target.name,
        peak_flops=target.peak_bf16_flops,
        layer_seconds=base.layer_seconds * ratio,
        step_overhead=base.step_overhead * ratio,
        source=f"derived from {base.ref} with the {target.source}",
        notes="not measured: efficiency constants of the MI250X fit, overheads "
        "scaled by the peak ratio, all-reduce constant kept",
    )


def _path(model_id: str) -> Path:
    return BUILTIN_DIR / f"throughput_{model_id}.json"


@cache
def builtin_throughputs() -> dict[str, ThroughputModel]:
    """Every built-in throughput model by id."""
    ids = (GEMSTONES_MODEL, *DERIVED)
    return {i: from_dict(json.loads(_path(i).read_text())) for i in ids}


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


def write_builtins() -> list[Path]:
    """Refit the MI250X model, derive the others, and write them to ``BUILTIN_DIR``."""
    base = fit_gemstones_model()
    models = [base, *(derived_model(base, i, g) for i, g in DERIVED.items())]
    paths = []
    for model in models:
        path = _path(model.id)
        path.write_text(json.dumps(to_dict(model), indent=2, sort_keys=True) + "\n")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in write_builtins():
        print(p)

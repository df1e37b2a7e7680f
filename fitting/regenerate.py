"""Regenerate the files the built-in laws and throughput models ship with, from the
bundled data and the fit engine. Nothing at runtime imports this module: answers read
the stored files (:mod:`fitting.bundled`, :mod:`fitting.throughput.catalogue`), and the
tests check that a regeneration reproduces them.

    python -m flopwise.fitting.regenerate draws       # fitting/builtin/epoch-2024-huber-draws.json
    python -m flopwise.fitting.regenerate spreads     # fitting/builtin/spreads.json
    python -m flopwise.fitting.regenerate throughput  # fitting/builtin/throughput_*.json
    python -m flopwise.fitting.regenerate critical    # fitting/builtin/critical-batch_zhang-2024.json
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from flopwise.fitting.bundled import DRAW_NAMES, DRAWS_FILE, SPREAD_SOURCES, SPREADS_FILE
from flopwise.fitting.catalogue import BUILTIN_LAWS
from flopwise.fitting.counting import ArchFamily
from flopwise.fitting.critical_batch import BUILTIN_FILE, CriticalBatchLaw, critical_law_to_dict
from flopwise.fitting.datasets import GEMSTONES_SOURCE, load_dataset
from flopwise.fitting.fit import fit
from flopwise.fitting.fit.critical_batch import ZHANG_SOURCE, fit_zhang
from flopwise.fitting.fit.spread import noise_dof, noise_sd
from flopwise.fitting.forms import law_form
from flopwise.fitting.hardware import gpu
from flopwise.fitting.laws import Law
from flopwise.fitting.prediction import predict_loss
from flopwise.fitting.throughput.catalogue import DERIVED, GEMSTONES_MODEL, builtin_path
from flopwise.fitting.throughput.fit import fit_throughput, gcd_peak, gemstones_step_times
from flopwise.fitting.throughput.model import ThroughputModel, to_dict
from flopwise.fitting.uncertainty import PredictiveError

__all__ = [
    "derived_model",
    "epoch_draws",
    "estimate_spread_of",
    "fit_gemstones_model",
    "write_critical_batch",
    "write_draws",
    "write_spreads",
    "write_throughputs",
    "zhang_critical_batch",
]


def epoch_draws(
    n_draws: int = 1000, seed: int = 0, workers: int = 0
) -> tuple[dict[str, float], np.ndarray]:
    """Refit the Epoch data ``n_draws`` times on bootstrap resamples: (point fit, draws)."""
    report = fit(
        load_dataset("epoch-chinchilla").runs,
        form="chinchilla",
        bootstrap=n_draws,
        seed=seed,
        workers=workers,
    )
    if report.law is None or report.law.draws is None:
        raise RuntimeError(f"Epoch bootstrap failed: {report.message}")
    return dict(report.law.constants), np.asarray(report.law.draws)


def write_draws() -> Path:
    """Recompute ``epoch-2024-huber``'s 1,000 draws and store them."""
    fitted, draws = epoch_draws()
    payload = {
        "description": "bootstrap refits of the 240 Epoch points; see fitting/bundled.py",
        "names": list(DRAW_NAMES),
        "seed": 0,
        "fitted": fitted,
        "draws": [[float(f"{x:.9g}") for x in row] for row in draws],
    }
    DRAWS_FILE.write_text(json.dumps(payload) + "\n")
    return DRAWS_FILE


def estimate_spread_of(law: Law) -> PredictiveError:
    """Noise of ``law`` on its bundled data and growth from refits of that data."""
    name, form, delta = SPREAD_SOURCES[law.id]
    runs = load_dataset(name).runs
    predicted = predict_loss(
        law, params=runs.params, tokens=runs.tokens, width=runs.width, depth=runs.depth
    )
    residuals = np.log(runs.loss) - np.log(np.asarray(predicted, dtype=float))
    report = fit(runs, form=form, workers=1, delta=delta)
    if report.law is None or report.law.spread is None:
        raise RuntimeError(f"{law.id}: refit of {name} failed: {report.message}")
    n_constants = len(law_form(law).constants)
    return replace(
        report.law.spread,
        noise_sd=noise_sd(residuals, n_constants),
        noise_dof=noise_dof(len(residuals), n_constants),
        source=f"bundled ({name})",
    )


def write_spreads() -> Path:
    """Re-estimate the built-in laws' spreads and store them."""
    spreads = {k: estimate_spread_of(BUILTIN_LAWS[k]).to_dict() for k in SPREAD_SOURCES}
    payload = {"description": "see fitting/bundled.py", "spreads": spreads}
    SPREADS_FILE.write_text(json.dumps(payload, indent=1) + "\n")
    return SPREADS_FILE


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


def write_throughputs() -> list[Path]:
    """Refit the MI250X model, derive the others, and write them."""
    base = fit_gemstones_model()
    models = [base, *(derived_model(base, i, g) for i, g in DERIVED.items())]
    paths = []
    for model in models:
        path = builtin_path(model.id)
        path.write_text(json.dumps(to_dict(model), indent=2, sort_keys=True) + "\n")
        paths.append(path)
    return paths


def zhang_critical_batch(bootstrap: int = 400, seed: int = 0) -> CriticalBatchLaw:
    """``zhang-2024``: B_noise in tokens against E_min tokens over Zhang et al.'s 5 model
    sizes (each group's McCandlish fit, then the power law across them)."""
    result = fit_zhang(bootstrap=bootstrap, seed=seed)
    assert result.data_law is not None
    return replace(
        result.data_law.law("zhang-2024", ZHANG_SOURCE),
        notes=(
            "B_noise (McCandlish et al. 2018) in tokens against the data size: the fewest "
            "tokens reaching the loss (E_min), for 85M to 1.2B models at their Chinchilla-"
            "like target losses; constant LR with weight averaging",
        ),
    )


def write_critical_batch() -> Path:
    """Refit the built-in critical-batch law and store it."""
    payload = critical_law_to_dict(zhang_critical_batch())
    BUILTIN_FILE.write_text(json.dumps(payload, indent=1) + "\n")
    return BUILTIN_FILE


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - rewrites shipped files
    parser = argparse.ArgumentParser(prog="python -m flopwise.fitting.regenerate")
    parser.add_argument("what", choices=("draws", "spreads", "throughput", "critical"))
    what = parser.parse_args(argv).what
    if what == "critical":
        print(write_critical_batch())
    elif what == "draws":
        print(write_draws())
    elif what == "spreads":
        print(write_spreads())
    else:
        print(*write_throughputs(), sep="\n")


if __name__ == "__main__":  # pragma: no cover
    main()

"""flopwise's core: scaling laws as values, exact counting, allocation and fitting.

Depends on numpy and scipy only. The public surface::

    from flopwise.fitting import allocate, builtin
    answer = allocate(builtin("epoch-2024"), 5.76e23)   # N* 7.2e10, D* 1.33e12, shape, loss

The names below are loaded on first use (PEP 562), so ``import flopwise.fitting``
costs nothing until one is asked for. The package is built in floors, each importing
only the floors below it (docs/architecture.md draws them; the import contracts in
pyproject.toml enforce them): ``errors``/``checks``; ``counting``, ``flops``,
``hardware``, ``runs``; ``stats``, ``uncertainty``; ``laws``; ``shape``, ``datasets``,
``bundled``; ``forms`` (one module per law form, and the registry); ``prediction``,
``hyperparams``, ``inference``, ``critical_batch``; ``hyperlaws``, ``downstream``
(benchmark metrics through a law's links, ``links`` below ``laws``); ``allocation``;
``throughput/`` (model, fit, catalogue, time-optimal, critical, overspend), ``targets``;
``fit/`` (the fitting engine); ``catalogue`` (built-in laws); ``coverage``,
``downstream_coverage``; ``regenerate`` (rewrites the shipped files; never imported at
runtime).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flopwise.fitting.lazy import lazy_exports

if TYPE_CHECKING:
    from flopwise.fitting.allocation import Allocation, Frontier, allocate, frontier
    from flopwise.fitting.catalogue import BUILTIN_LAWS, DEFAULT_LAW, builtin
    from flopwise.fitting.counting import ArchFamily, ArchSpec, Counts, count
    from flopwise.fitting.downstream import predict_metrics
    from flopwise.fitting.flops import flops_per_token
    from flopwise.fitting.hardware import GPUS, budget_to_flops, cost_of
    from flopwise.fitting.inference import inference_optimal_for_loss, quality_loss
    from flopwise.fitting.laws import CDefinition, Domain, DownstreamLink, Form, Law, NDefinition
    from flopwise.fitting.prediction import Prediction, predict
    from flopwise.fitting.runs import Runs
    from flopwise.fitting.shape import Shape, ShapeConstraints
    from flopwise.fitting.targets import target_budget

_EXPORTS = {
    "allocation": ("Allocation", "Frontier", "allocate", "frontier"),
    "catalogue": ("BUILTIN_LAWS", "DEFAULT_LAW", "builtin"),
    "counting": ("ArchFamily", "ArchSpec", "Counts", "count"),
    "downstream": ("predict_metrics",),
    "flops": ("flops_per_token",),
    "hardware": ("GPUS", "budget_to_flops", "cost_of"),
    "inference": ("inference_optimal_for_loss", "quality_loss"),
    "laws": ("CDefinition", "DownstreamLink", "Domain", "Form", "Law", "NDefinition"),
    "prediction": ("Prediction", "predict"),
    "runs": ("Runs",),
    "shape": ("Shape", "ShapeConstraints"),
    "targets": ("target_budget",),
}

__all__ = [
    "BUILTIN_LAWS",
    "DEFAULT_LAW",
    "GPUS",
    "Allocation",
    "ArchFamily",
    "ArchSpec",
    "CDefinition",
    "Counts",
    "Domain",
    "DownstreamLink",
    "Form",
    "Frontier",
    "Law",
    "NDefinition",
    "Prediction",
    "Runs",
    "Shape",
    "ShapeConstraints",
    "allocate",
    "budget_to_flops",
    "builtin",
    "cost_of",
    "count",
    "flops_per_token",
    "frontier",
    "inference_optimal_for_loss",
    "predict",
    "predict_metrics",
    "quality_loss",
    "target_budget",
]
"""The lazily loaded names (``tests/fitting/test_public_api.py`` pins them)."""


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

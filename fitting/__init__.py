"""flopwise's core: scaling laws as values, exact counting, allocation and fitting.

Depends on numpy and scipy only. The public surface::

    from flopwise.fitting import allocate, builtin
    answer = allocate(builtin("epoch-2024"), 5.76e23)   # N* 7.2e10, D* 1.33e12, shape, loss

Modules: ``counting`` (parameters), ``flops`` (FLOPs per token), ``laws`` (the ``Law``
value), ``forms`` (one module per law form and the registry every other module asks:
``forms.law_form(law)``; a new form is one module registered with ``forms.register``),
``predict``, ``allocation`` / ``optimum`` / ``shape`` (answers), ``inference`` (Sardana
et al.), ``hyperparams`` (DeepSeek), ``hardware`` (GPU peaks, budgets), ``catalogue``
(built-in laws), ``reconcile`` (Pearce & Song), ``runs`` and ``fit`` (the fitting
engine), ``datasets`` (bundled published runs), ``errors`` (``ArgumentError``),
``uncertainty`` / ``predictive`` / ``coverage`` (predictive intervals: where a new run's
loss will fall, and how well that is calibrated).
"""

from flopwise.fitting.allocation import Allocation, Frontier, allocate, frontier
from flopwise.fitting.catalogue import BUILTIN_LAWS, DEFAULT_LAW, builtin
from flopwise.fitting.counting import ArchFamily, ArchSpec, Counts, count
from flopwise.fitting.flops import flops_per_token
from flopwise.fitting.hardware import GPUS, budget_to_flops, cost_of
from flopwise.fitting.inference import inference_optimal_for_loss, quality_loss
from flopwise.fitting.laws import CDefinition, Domain, Form, Law, NDefinition
from flopwise.fitting.predict import Prediction, predict
from flopwise.fitting.runs import Runs
from flopwise.fitting.shape import Shape, ShapeConstraints

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
    "quality_loss",
]

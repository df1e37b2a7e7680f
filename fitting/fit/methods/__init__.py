"""Fitting methods, each supplying only its solve step to ``fit.pipeline``, and the
table of which method fits which form.

``approach1`` (envelope), ``approach2`` (isoFLOP profiles), ``approach3`` (parametric,
any form with an LSE layout; ``numeric`` for a form with a ``NumericSpec`` instead;
``curve`` for a loss-curve form, fitted on every checkpoint with its LR history),
``data_constrained`` (Muennighoff et al.'s decay, what ``approach3`` means for the
data-constrained form). A form lists the methods that
produce it (``LawForm.methods``); :data:`SOLVERS` says how: by method for every form,
or by (method, form) where one form needs its own solver.
"""

from __future__ import annotations

from collections.abc import Callable

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.fit.methods.approach1 import Approach1
from flopwise.fitting.fit.methods.approach2 import Approach2
from flopwise.fitting.fit.methods.approach3 import Approach3
from flopwise.fitting.fit.methods.curve import CurveApproach3
from flopwise.fitting.fit.methods.data_constrained import DataConstrainedMethod
from flopwise.fitting.fit.methods.numeric import NumericApproach3
from flopwise.fitting.fit.options import FitOptions
from flopwise.fitting.fit.pipeline import Method
from flopwise.fitting.forms import LawForm, form_names

__all__ = ["METHODS", "SOLVERS", "method_for"]

METHODS = ("approach1", "approach2", "approach3")
"""Hoffmann et al. 2022 §3.1 (envelope), §3.2 (isoFLOP profiles), §3.3 (parametric)."""


def _approach3(form: LawForm, options: FitOptions) -> Method:
    if form.reads_schedule:
        return CurveApproach3(form, options)
    if form.lse is None and form.numeric is not None:
        return NumericApproach3(form, options)
    if form.lse is None:
        raise ArgumentError("form", f"the {form.name} form has no LSE layout to fit")
    return Approach3(form.name, form.lse, options)


SOLVERS: dict[tuple[str, str | None], Callable[[LawForm, FitOptions], Method]] = {
    ("approach1", None): lambda form, options: Approach1(),
    ("approach2", None): lambda form, options: Approach2(),
    ("approach3", None): _approach3,
    ("approach3", "data-constrained"): lambda form, options: DataConstrainedMethod(),
}
"""(method, form or ``None`` for any form) -> the solver the pipeline runs."""


def method_for(form: LawForm, method: str, options: FitOptions) -> Method:
    """The solver that fits ``form`` by ``method``; ``ArgumentError`` naming ``method``
    or ``form`` when the pair does not exist."""
    if method not in METHODS:
        raise ArgumentError("method", f"expected one of {', '.join(METHODS)}, got {method!r}")
    if method not in form.methods:
        fits = " or ".join(form_names(method=method)) or "no form"
        raise ArgumentError("form", f"{method} fits {fits} laws, not {form.name}")
    factory = SOLVERS.get((method, form.name)) or SOLVERS[(method, None)]
    return factory(form, options)

"""Fitting engine: turn training runs into a :class:`~fitting.laws.Law`.

CONTRACT (the service's refit worker and the trainer call exactly this):

    from flopwise.fitting.fit import fit, FitReport
    report = fit(runs, form="chinchilla", method="approach3", law_id="my-data-chinchilla",
                 delta=1e-3, bootstrap=0, seed=0, **options)

``runs`` is a :class:`fitting.runs.Runs`. ``report`` is a frozen :class:`FitReport`:
``success`` (bool), ``message`` (str), ``law`` (a ``Law`` when success, else ``None``;
its ``id`` is ``law_id`` and ``version`` 1 — the caller re-versions it with
``law.evolve(version=...)``), ``method``, ``form``, ``objective`` (float | None),
``n_runs`` (observations used), ``warnings`` (tuple[str, ...]) and ``diagnostics``
(a JSON-ready dict). Bad input raises ``ValueError`` naming the problem.

Forms and methods: ``approach3`` fits ``chinchilla``, ``width-depth``,
``width-depth-alt`` (summed Huber on log loss, LSE parameterisation, grid of
starts, batched L-BFGS) and ``data-constrained`` (Muennighoff's R_N*, R_D*);
``approach1`` (envelope) and ``approach2`` (isoFLOP) fit ``power-law``. Options are
listed, with defaults, in :class:`FitOptions`.

Modules, from the bottom up: ``huber`` and ``objectives`` (the losses), ``lse``
(batched objective and analytic gradient in the forms' log-sum-exp layout),
``constraints`` (ties and fixed constants as a parameter map), ``solver`` (batched
L-BFGS), ``batch`` (many starts to convergence), ``newton`` (final polish),
``parametric`` (start grids, bounds), ``search`` (huge grids), ``multistart`` (the
multi-start solver), ``decay`` (data-constrained), ``envelope`` / ``isoflop``
(Approach 1 and 2 optima), ``powerlaw`` / ``optima`` (power laws through optima),
``bootstrap`` / ``intervals`` (uncertainty; the predictive error of a loss law,
``fitting.uncertainty``, is estimated by the pipeline for every method that can
refit), ``diagnostics``, ``validate``, ``common`` (law building), ``pipeline`` (validate -> solve -> leave-largest-out -> bootstrap ->
law -> report, once), ``methods/`` (each method's solve step), ``front`` (:func:`fit`).
"""

from flopwise.fitting.fit.front import METHODS, fit
from flopwise.fitting.fit.options import FitOptions
from flopwise.fitting.fit.report import FitReport, ParametricResult

__all__ = ["METHODS", "FitOptions", "FitReport", "ParametricResult", "fit"]

"""Approach 3 reproduces the published parametric fits on the authors' own data."""

from __future__ import annotations

import numpy as np
import pytest

from flopwise.fitting.datasets import load_dataset
from flopwise.fitting.fit import fit
from flopwise.fitting.fit.multistart import fit_lse
from flopwise.fitting.fit.parametric import LSE_SPECS, chinchilla_grid
from flopwise.fitting.forms import law_form
from flopwise.fitting.laws import CDefinition, Form, NDefinition
from tests.pins import BESIROGLU, EPOCH_REPO, HOFFMANN, published, regression_pin

EPOCH_HUBER = published(
    {"alpha": 0.347313, "beta": 0.367183, "E": 1.81724, "A": 477.84, "B": 2143.86},
    f"{BESIROGLU}: the {EPOCH_REPO} notebook's run of Chinchilla's own recipe (summed Huber, "
    "δ 1e-3, L-BFGS over the 4,500-start grid; docs/laws.md §3.1, §11 row 4)",
)
EPOCH_OBJECTIVE = published(1.01827e-3, f"{BESIROGLU}: that run's best objective (6 figures)")
EPOCH_POINTS = published(
    240, f"{BESIROGLU}: the 245 digitised points less the five highest losses (docs/laws.md §3)"
)
CHINCHILLA_STARTS = published(
    4500,
    f"{HOFFMANN}, App. D.2: the start grid (docs/laws.md §2.2)",
    derived="α, β in {0, 0.5, ..., 2} x e in {-1, ..., 1} x a, b in {0, 5, ..., 25}: 5·5·5·6·6",
)
EPOCH_RESIDUALS = regression_pin(
    (0.003, 0.007),
    how="fit(epoch-chinchilla, form='chinchilla').diagnostics['mean_abs_relative_error']: 0.5%",
    why="the residuals of a fit that lands on the published constants stay where they were",
)


@pytest.fixture(scope="module")
def epoch_report():
    runs = load_dataset("epoch-chinchilla").runs
    return fit(runs, form="chinchilla", law_id="epoch-refit", extrapolation=True)


def test_epoch_plain_huber_fit(epoch_report) -> None:
    # docs/laws.md §3.1 / §11 row 4: summed Huber (delta 1e-3), L-BFGS, 4,500-start grid.
    report = epoch_report
    assert report.success, report.message
    k = report.law.constants
    for name in ("alpha", "beta", "E"):
        assert k[name] == pytest.approx(EPOCH_HUBER[name], rel=1e-3), name
    assert k["A"] == pytest.approx(EPOCH_HUBER["A"], rel=5e-3)
    assert k["B"] == pytest.approx(EPOCH_HUBER["B"], rel=5e-3)
    assert report.objective == pytest.approx(EPOCH_OBJECTIVE, rel=1e-5)
    assert report.n_runs == EPOCH_POINTS


def test_epoch_law_carries_its_meaning(epoch_report) -> None:
    law = epoch_report.law
    assert law.id == "epoch-refit" and law.version == 1 and law.form is Form.CHINCHILLA
    assert tuple(law.constants) == law_form(Form.CHINCHILLA).constants
    assert law.n_definition is NDefinition.TOTAL and law.c_definition is CDefinition.SIX_ND
    runs = load_dataset("epoch-chinchilla").runs
    assert law.domain.params == (runs.params.min(), runs.params.max())
    assert law.domain.flops == (runs.flops.min(), runs.flops.max())
    assert law.draws is None


def test_epoch_diagnostics(epoch_report) -> None:
    d = epoch_report.diagnostics
    assert d["n_grid"] == d["n_starts"] == CHINCHILLA_STARTS
    assert d["n_converged"] > CHINCHILLA_STARTS - 100  # nearly every start converges
    assert d["at_bound"] == []
    # the residuals are those of the published fit: mean |relative error| about 0.5%
    low, high = EPOCH_RESIDUALS
    assert low < d["mean_abs_relative_error"] < high
    ext = d["extrapolation"]
    assert ext["held_out_models"] >= 1 and ext["held_out_points"] > 0
    assert 0 < ext["mean_abs_relative_error"] < 0.05
    # N* at the largest budget trained lies among the trained sizes: no warning
    assert epoch_report.warnings == ()


def test_parametric_result_is_a_full_value() -> None:
    runs = load_dataset("epoch-chinchilla").runs
    grid = chinchilla_grid(2)[::9]  # any grid by option
    res = fit_lse(LSE_SPECS[Form.CHINCHILLA], runs, grid=grid)
    assert res.success and res.n_starts == 500 and res.n_grid == 500
    assert 0 < res.n_converged <= 500
    assert res.residuals.shape == (EPOCH_POINTS,)
    assert res.n_runs == EPOCH_POINTS
    assert res.constants["alpha"] == pytest.approx(EPOCH_HUBER["alpha"], rel=1e-3)
    # residuals are log L - log L_hat: their Huber sum is the objective
    r = res.residuals
    h = np.where(np.abs(r) <= 1e-3, 0.5 * r * r, 1e-3 * (np.abs(r) - 0.5e-3))
    assert h.sum() == pytest.approx(res.objective, rel=1e-9)


def test_recovers_a_known_law_from_noisy_synthetic_runs() -> None:
    # Known truth + seeded noise: the fit must find the generating constants.
    from flopwise.fitting.runs import Runs

    rng = np.random.default_rng(7)
    n = np.repeat(np.geomspace(5e7, 5e9, 12), 8)
    d = n * np.tile(np.geomspace(5, 200, 8), 12)
    truth = {"E": 1.7, "A": 400.0, "B": 1500.0, "alpha": 0.33, "beta": 0.30}
    loss = truth["E"] + truth["A"] / n ** truth["alpha"] + truth["B"] / d ** truth["beta"]
    loss = loss * np.exp(rng.normal(0, 0.002, len(loss)))
    runs = Runs(n, d, loss, np.array([f"r{i}" for i in range(len(n))], dtype=object))
    report = fit(runs, form="chinchilla", extrapolation=False)
    k = report.law.constants
    assert k["alpha"] == pytest.approx(0.33, abs=0.02)
    assert k["beta"] == pytest.approx(0.30, abs=0.02)
    assert k["E"] == pytest.approx(1.7, abs=0.03)


def test_untied_free_bounds_are_each_parameters_own_bounds() -> None:
    """Without ties the solver's bounds are theta's: log coefficients and log E keep
    theirs (a refit or bootstrap draw is not squeezed into the exponents' range)."""
    from flopwise.fitting.fit.methods.approach3 import Approach3
    from flopwise.fitting.fit.options import FitOptions
    from flopwise.fitting.fit.parametric import default_bounds
    from flopwise.fitting.forms import law_form

    spec = law_form("width-depth").lse
    assert spec is not None
    lower, upper = Approach3("width-depth", spec, FitOptions()).free_bounds
    expected = default_bounds(spec.k)
    assert np.array_equal(lower, expected[0]) and np.array_equal(upper, expected[1])

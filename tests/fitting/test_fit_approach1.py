"""Approach 1 (envelope) reproduces Gemstones' convex-hull regression exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from flopwise.fitting.datasets import load_dataset
from flopwise.fitting.fit import fit
from flopwise.fitting.fit.envelope import binned_minimum, lower_hull
from flopwise.fitting.laws import CDefinition, Form
from tests.pins import GEMSTONES_REPO, MCLEISH, published, regression_pin

HULL_FIT = published(
    {
        "log_k_N": -2.8451076960767026,
        "a_N": 0.499380216082636,
        "log_k_D": 1.8963208273327723,
        "a_D": 0.4809888232129201,
    },
    f"{MCLEISH}: {GEMSTONES_REPO} parameters/approach_1_linear_regression_params.json and "
    "..._tokens.json (intercept, coef; docs/laws.md §8.3)",
)
HULL_POINTS = regression_pin(
    21,
    how="fit(load_dataset('gemstones-hot-477').runs, method='approach1', "
    "c_definition='gemstones').diagnostics['n_optima']",
    why="the hull the published regression goes through: another count is another envelope",
)


@pytest.fixture(scope="module")
def hull_report():
    ds = load_dataset("gemstones-hot-477")
    return fit(
        ds.runs, form="power-law", method="approach1", c_definition="gemstones", bootstrap=40
    )


def test_gemstones_hot_477_hull_regression(hull_report) -> None:
    # N_opt = e^-2.845108 C^0.499380, D_opt = e^1.896321 C^0.480989, Gemstones FLOPs.
    assert hull_report.success, hull_report.message
    k = hull_report.law.constants
    assert math.log(k["k_N"]) == pytest.approx(HULL_FIT["log_k_N"], abs=1e-9)
    assert k["a_N"] == pytest.approx(HULL_FIT["a_N"], abs=1e-10)
    assert math.log(k["k_D"]) == pytest.approx(HULL_FIT["log_k_D"], abs=1e-9)
    assert k["a_D"] == pytest.approx(HULL_FIT["a_D"], abs=1e-10)
    assert hull_report.diagnostics["n_optima"] == HULL_POINTS
    law = hull_report.law
    assert law.form is Form.POWER_LAW and law.c_definition is CDefinition.GEMSTONES


def test_hull_bootstrap_and_diagnostics(hull_report) -> None:
    d = hull_report.diagnostics
    lo, hi = d["bootstrap"]["intervals"]["a_N"]
    assert lo < HULL_FIT["a_N"] < hi and hi - lo < 0.15
    assert hull_report.law.draws is not None and hull_report.law.draws.shape[1] == 2
    ext = d["extrapolation"]
    assert ext["held_out_points"] >= 1
    assert ext["params_mean_abs_log10_error"] < 0.1  # within 25% on the largest budgets
    rows = d["frontier_intervals"]
    assert (
        len(rows) == 3
        and rows[0]["params_interval"][0] < rows[0]["params"] < rows[0]["params_interval"][1]
    )


def test_hull_is_the_lower_envelope() -> None:
    flops = np.array([1.0, 2.0, 3.0, 4.0, 8.0, 2.5])
    loss = np.array([5.0, 4.0, 3.9, 3.0, 2.5, 6.0])
    idx = lower_hull(flops, loss)
    # in log-log space (2, 4) and (3, 3.9) lie above the chord from (1, 5) to (4, 3)
    # (slopes must rise along a lower hull), and (2.5, 6) is above everything
    assert list(idx) == [0, 3, 4]


def test_binned_minimum_picks_lowest_per_bin() -> None:
    flops = np.array([1.0, 1.1, 10.0, 11.0, 100.0])
    loss = np.array([3.0, 2.0, 2.5, 1.9, 1.5])
    idx = binned_minimum(flops, loss, 4)
    assert set(idx) == {1, 3, 4}


def test_binned_envelope_option() -> None:
    ds = load_dataset("gemstones-hot-477")
    report = fit(
        ds.runs,
        form="power-law",
        method="approach1",
        envelope="binned",
        n_bins=40,
        c_definition="gemstones",
        extrapolation=False,
    )
    assert report.success
    # the binned minimum follows the same frontier, more noisily
    assert report.law.constants["a_N"] == pytest.approx(HULL_FIT["a_N"], abs=0.06)

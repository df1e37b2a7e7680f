"""Links from a loss to a metric (docs/laws.md §20): the two published formulas, the
ladder's row treatment, and step 2 fitted to runs generated from known constants."""

from __future__ import annotations

import math

import numpy as np
import pytest

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.fit.links import fit_link, link_rows
from flopwise.fitting.links import (
    LINKS,
    early_mask,
    gadre_accuracy,
    gadre_error,
    ladder_accuracy,
    link_kind,
    trailing_mean,
)
from flopwise.fitting.runs import Runs
from tests.downstream_samples import GADRE, SIGMOID, metric_runs


def test_ladder_sigmoid_worked_number_and_limits() -> None:
    # 1 - 0.75 / (1 + e^-1): the docstring's worked number, by hand
    assert ladder_accuracy(1.2, a=-0.75, x0=1.0, k=5.0, b=1.0) == pytest.approx(
        1.0 - 0.75 / (1.0 + math.exp(-1.0)), rel=1e-12
    )
    assert ladder_accuracy(1.2, a=-0.75, x0=1.0, k=5.0, b=1.0) == pytest.approx(0.4517, abs=1e-4)
    # midway at x0; b at a perfect model's loss 0 (steep k); a + b for a useless model
    assert ladder_accuracy(0.9, a=-0.6, x0=0.9, k=3.0, b=0.9) == pytest.approx(0.6)
    assert ladder_accuracy(0.0, a=-0.6, x0=0.9, k=60.0, b=0.9) == pytest.approx(0.9, abs=1e-9)
    assert ladder_accuracy(50.0, a=-0.6, x0=0.9, k=3.0, b=0.9) == pytest.approx(0.3)
    # vectorised, and finite where exp would overflow
    assert np.all(np.isfinite(ladder_accuracy(np.array([-500.0, 500.0]), a=-1, x0=0, k=10, b=1)))


def test_gadre_error_worked_number() -> None:
    assert gadre_error(3.0, epsilon=0.9, k=2.0, gamma=0.8) == pytest.approx(
        0.9 - 2.0 * math.exp(-2.4), rel=1e-12
    )
    assert gadre_error(3.0, epsilon=0.9, k=2.0, gamma=0.8) == pytest.approx(0.71856, abs=1e-5)
    assert gadre_accuracy(3.0, epsilon=0.9, k=2.0, gamma=0.8) == pytest.approx(1 - 0.7185641)


def test_link_kinds_carry_the_authors_bounds() -> None:
    sigmoid = LINKS["sigmoid"]
    assert sigmoid.lower == (-1.0, 0.0, 0.0, 0.0)  # a, x0, k, b (src/fitting/step2.py)
    assert sigmoid.upper == (0.0, math.inf, math.inf, 1.0)
    assert sigmoid.helper == (0.0, 1.0) and sigmoid.rows == "every"
    assert LINKS["exponential"].rows == "final"
    assert all(math.isinf(b) for b in LINKS["exponential"].lower)  # unbounded, as curve_fit
    with pytest.raises(ArgumentError) as err:
        link_kind("logistic")
    assert err.value.name == "link"


def test_early_checkpoints_are_skipped_then_smoothed_within_runs() -> None:
    run = np.array(["a"] * 10 + ["b"] * 3)
    keep = early_mask(run)  # ceil(10%) of a's checkpoints, ceil(0.3) of b's
    assert keep.tolist() == [False] + [True] * 9 + [False, True, True]
    values = np.array([1.0, 2.0, 3.0, 4.0, 10.0, 20.0])
    runs = np.array(["a"] * 4 + ["b"] * 2)
    assert trailing_mean(values, runs, 3).tolist() == [1.0, 1.5, 2.0, 3.0, 10.0, 15.0]


def _runs() -> Runs:
    return Runs.from_records(metric_runs())


def test_link_rows_follow_each_paper() -> None:
    runs = _runs()
    x, y = runs.metric("task_bpb"), runs.metric("task_acc")
    every = link_rows(LINKS["sigmoid"], x, y, runs.run, runs.tokens)
    final = link_rows(LINKS["exponential"], x, y, runs.run, runs.tokens)
    assert len(every[0]) == 10 * (20 - 2)  # 10 runs, each loses ceil(2.0) = 2 checkpoints
    assert len(final[0]) == 10
    last = runs.tokens == np.array([runs.tokens[runs.run == r].max() for r in runs.run])
    assert sorted(final[1]) == sorted(y[last])


def test_sigmoid_fit_recovers_the_generating_constants_with_a_band() -> None:
    runs = _runs()
    rows = link_rows(LINKS["sigmoid"], runs.metric("task_bpb"), runs.metric("task_acc"),
                     runs.run, runs.tokens)  # fmt: skip
    fitted = fit_link("sigmoid", *rows, bootstrap=40, seed=1)
    assert fitted.success
    for name in ("a", "x0", "k"):
        assert fitted.constants[name] == pytest.approx(SIGMOID[name], rel=0.15)
    assert fitted.draws is not None and fitted.draws.shape[1] == 4 and len(fitted.draws) >= 30
    lo, hi = fitted.diagnostics["bootstrap"]["intervals"]["x0"]
    assert lo <= fitted.constants["x0"] <= hi
    assert 0.0005 < fitted.noise_sd < 0.01  # the data's 0.004, smoothed over 5 checkpoints
    assert fitted.x_range == (min(rows[0]), max(rows[0]))


def test_exponential_fit_recovers_gadre_constants() -> None:
    runs = _runs()
    rows = link_rows(LINKS["exponential"], runs.loss, runs.metric("score_acc"), runs.run,
                     runs.tokens)  # fmt: skip
    fitted = fit_link("exponential", *rows)
    assert fitted.success and not fitted.warnings
    assert fitted.constants["epsilon"] == pytest.approx(GADRE["epsilon"], abs=0.05)
    assert fitted.constants["gamma"] == pytest.approx(GADRE["gamma"], rel=0.3)


def test_a_link_needs_three_runs() -> None:
    with pytest.raises(ArgumentError) as err:
        fit_link(
            "sigmoid", np.linspace(1, 2, 8), np.linspace(0.6, 0.3, 8), np.array(["a", "b"] * 4)
        )
    assert err.value.name == "runs"

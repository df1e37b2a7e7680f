"""Constraints (tie, fix), objectives, and Gadre et al.'s tied-exponent form."""

from __future__ import annotations

import numpy as np
import pytest

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.fit import fit
from flopwise.fitting.forms import overtraining_loss
from flopwise.fitting.prediction import predict_loss
from flopwise.fitting.runs import Runs

TRUTH = {"E": 1.85, "A": 380.0, "B": 900.0, "eta": 0.31}


def _runs(params: np.ndarray, tokens: np.ndarray, noise: float, seed: int) -> Runs:
    rng = np.random.default_rng(seed)
    loss = overtraining_loss(params, tokens, **TRUTH) * np.exp(rng.normal(0.0, noise, params.size))
    return Runs(
        params=params.astype(float),
        tokens=tokens.astype(float),
        loss=loss,
        run=np.array(
            [f"{p:.0e}-{t:.0e}" for p, t in zip(params, tokens, strict=True)], dtype=object
        ),
    )


def _five_runs() -> Runs:
    """Five small runs, token multipliers 10 to 160 (Gadre et al. fit on a handful)."""
    params = np.array([2e7, 4e7, 8e7, 1.6e8, 3.2e8])
    multipliers = np.array([160.0, 20.0, 80.0, 10.0, 40.0])
    return _runs(params, params * multipliers, noise=0.003, seed=7)


def test_gadre_five_runs_recover_the_law_and_extrapolate_30x() -> None:
    runs = _five_runs()
    report = fit(runs, form="overtraining", extrapolation=False)
    assert report.success, report.message
    assert report.law is not None
    k = report.law.constants
    assert set(k) == set(TRUTH)
    top = float(np.max(6 * runs.params * runs.tokens))
    for m in (20.0, 160.0):  # 30x the largest run's compute, at two token multipliers
        n = np.sqrt(30 * top / (6 * m))
        want = overtraining_loss(n, m * n, **TRUTH)
        got = predict_loss(report.law, params=n, tokens=m * n)
        assert got == pytest.approx(want, rel=0.01)


def test_chinchilla_with_tied_exponents_needs_fewer_runs() -> None:
    runs = _five_runs()
    with pytest.raises(ArgumentError, match="5 distinct observation"):
        fit(runs, form="chinchilla", extrapolation=False)
    report = fit(runs, form="chinchilla", tie={"beta": "alpha"}, extrapolation=False)
    assert report.success, report.message
    assert report.law is not None
    k = report.law.constants
    assert k["alpha"] == k["beta"]
    assert k["alpha"] == pytest.approx(TRUTH["eta"], abs=0.03)


def test_fixed_constant_is_held() -> None:
    runs = _five_runs()
    report = fit(runs, form="chinchilla", fix={"E": 1.85, "beta": 0.31}, extrapolation=False)
    assert report.success, report.message
    assert report.law is not None
    assert report.law.constants["E"] == pytest.approx(1.85, rel=1e-12)
    assert report.law.constants["beta"] == 0.31
    assert report.law.constants["alpha"] == pytest.approx(TRUTH["eta"], abs=0.03)


@pytest.mark.parametrize(
    ("options", "name", "words"),
    [
        ({"tie": {"gamma": "alpha"}}, "tie", "'gamma' is not a constant"),
        ({"tie": {"alpha": "beta", "beta": "alpha"}}, "tie", "cycle"),
        ({"tie": {"alpha": "A"}}, "tie", "an exponent to a coefficient"),
        ({"fix": {"Z": 1.0}}, "fix", "'Z' is not a constant"),
        ({"tie": {"beta": "alpha"}, "fix": {"beta": 0.3}}, "fix", "beta is tied"),
        ({"fix": {"E": -1.0}}, "fix", "must be finite"),
        ({"tie": ["beta"]}, "tie", "expected NAME=VALUE"),
        ({"objective": "l7"}, "objective", "expected one of"),
    ],
)
def test_bad_constraints_name_the_option(options: dict, name: str, words: str) -> None:
    with pytest.raises(ValueError, match=f"{name}: .*{words}") as info:
        fit(_five_runs(), form="chinchilla", extrapolation=False, **options)
    if isinstance(info.value, ArgumentError):
        assert info.value.name == name


def test_methods_that_cannot_honour_constraints_refuse_them() -> None:
    from flopwise.fitting.datasets import load_dataset

    runs = load_dataset("porian-2024").runs
    with pytest.raises(ArgumentError, match="tie: approach2") as info:
        fit(runs, form="power-law", method="approach2", tie={"a_N": "a_D"})
    assert info.value.name == "tie"
    with pytest.raises(ArgumentError, match="objective: approach1"):
        fit(runs, form="power-law", method="approach1", objective="mse")


def test_objectives_mse_and_asymmetric() -> None:
    params = np.repeat([2e7, 5e7, 1.2e8, 3e8], 3)
    tokens = params * np.tile([10.0, 30.0, 90.0], 4)
    runs = _runs(params, tokens, noise=0.01, seed=3)
    mse = fit(runs, form="overtraining", objective="mse", extrapolation=False)
    lower = fit(runs, form="overtraining", objective="asymmetric", extrapolation=False)
    assert mse.success and lower.success
    assert mse.law is not None and lower.law is not None
    below = predict_loss(lower.law, params=runs.params, tokens=runs.tokens) <= runs.loss * 1.0001
    centre = predict_loss(mse.law, params=runs.params, tokens=runs.tokens) <= runs.loss
    # the lower-bound objective puts the curve under (nearly) every run; MSE splits them
    assert below.mean() >= 0.9 > centre.mean()

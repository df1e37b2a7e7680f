"""Data-constrained decay constants: gradients and recovery of Muennighoff et al.'s values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import approx_fprime

from flopwise.fitting import forms
from flopwise.fitting.fit import fit
from flopwise.fitting.fit.decay import DecayData, decay_objective, decay_predict
from flopwise.fitting.prediction import predict_loss
from flopwise.fitting.runs import Runs
from tests.pins import MUENNIGHOFF, published

# The generating law of the synthetic runs, and what the fit must recover.
BASE = published(
    {
        "E": float(np.exp(0.6254804)),
        "A": float(np.exp(6.255414)),
        "B": float(np.exp(7.3049974)),
        "alpha": 0.3526596,
        "beta": 0.3526596,
    },
    f"{MUENNIGHOFF}, App. A: the C4 base law, α = β tied (docs/laws.md §7.2)",
)
R_N, R_D = published(
    (5.309743, 15.387756), f"{MUENNIGHOFF}, App. A: the decay constants (docs/laws.md §7.2)"
)
C4_LOSS = published(
    2.1891,
    f"{MUENNIGHOFF}, App. A constants (docs/laws.md §7.3)",
    derived="Eq. 5 to 7 at N = 5.1e9, D = 4e11, U_D = 1e11",
)


def _runs(seed: int = 3) -> tuple[Runs, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = np.repeat(np.geomspace(1e8, 9e9, 8), 10)
    unique = np.repeat(np.geomspace(1e9, 1e11, 8), 10)
    d = unique * np.tile(np.geomspace(1, 60, 10), 8)
    loss = forms.data_constrained_loss(n, d, unique, **BASE, R_N=R_N, R_D=R_D)
    loss = loss * np.exp(rng.normal(0, 0.002, len(n)))
    return Runs(n, d, loss, np.array([f"r{i}" for i in range(len(n))], dtype=object)), unique


def test_gradient_and_prediction() -> None:
    runs, unique = _runs()
    data = DecayData(runs.params, runs.tokens, unique, runs.loss, BASE)
    theta = np.log([[4.0, 12.0]])
    _, g = decay_objective(theta, data, 1e-3)
    num = approx_fprime(theta[0], lambda v: decay_objective(v[None, :], data, 1e-3)[0][0], 1e-7)
    np.testing.assert_allclose(g[0], num, rtol=1e-4, atol=1e-9)
    expected = forms.data_constrained_loss(
        runs.params, runs.tokens, unique, **BASE, R_N=4.0, R_D=12.0
    )
    np.testing.assert_allclose(decay_predict(data, theta[0]), expected)


def test_recovers_decay_constants() -> None:
    runs, unique = _runs()
    report = fit(runs, form="data-constrained", unique_tokens=unique, base=BASE, bootstrap=30)
    assert report.success, report.message
    k = report.law.constants
    assert k["R_D"] == pytest.approx(R_D, rel=0.1)
    lo, hi = report.diagnostics["bootstrap"]["intervals"]["R_D"]
    assert lo < k["R_D"] < hi
    # the fitted law predicts through the shared formula
    law = report.law.evolve(constants={**BASE, "R_N": R_N, "R_D": R_D}, draws=None)
    assert predict_loss(law, params=5.1e9, tokens=4e11, unique_tokens=1e11) == pytest.approx(
        C4_LOSS, abs=1e-4
    )


def test_needs_unique_tokens() -> None:
    runs, _ = _runs()
    with pytest.raises(ValueError, match="unique_tokens: the data-constrained form needs"):
        fit(runs, form="data-constrained", base=BASE)

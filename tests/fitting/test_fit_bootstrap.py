"""Bootstrap intervals on the Epoch data match Epoch AI's published intervals."""

from __future__ import annotations

import numpy as np
import pytest

from flopwise.fitting.datasets import load_dataset
from flopwise.fitting.fit import fit
from flopwise.fitting.fit.bootstrap import resample_counts
from flopwise.fitting.forms import law_form
from flopwise.fitting.laws import Form, from_dict, to_dict
from flopwise.fitting.prediction import predict
from tests.pins import BESIROGLU, published

EPOCH_ALPHA, EPOCH_ALPHA_95, EPOCH_E_95 = published(
    (0.3478, (0.317, 0.373), (1.769, 1.871)),
    f"{BESIROGLU}: α's estimate and the 95% bootstrap intervals of α and E from 4,000 "
    "resamples (docs/laws.md §3.1)",
)


@pytest.fixture(scope="module")
def boot():
    runs = load_dataset("epoch-chinchilla").runs
    return fit(
        runs,
        form="chinchilla",
        law_id="epoch-boot",
        bootstrap=200,
        seed=0,
        workers=2,
        extrapolation=False,
    )


def test_alpha_interval_matches_epoch(boot) -> None:
    lo, hi = boot.diagnostics["bootstrap"]["intervals"]["alpha"]
    assert lo < EPOCH_ALPHA < hi
    width = EPOCH_ALPHA_95[1] - EPOCH_ALPHA_95[0]
    assert width / 1.5 <= hi - lo <= width * 1.5


def test_every_parameter_has_an_interval(boot) -> None:
    intervals = boot.diagnostics["bootstrap"]["intervals"]
    assert set(intervals) == set(law_form(Form.CHINCHILLA).constants)
    for name, (lo, hi) in intervals.items():
        assert lo < boot.law.constants[name] < hi, name
    lo, hi = intervals["E"]
    assert lo == pytest.approx(EPOCH_E_95[0], abs=0.03)
    assert hi == pytest.approx(EPOCH_E_95[1], abs=0.03)


def test_draws_are_stored_with_the_law(boot) -> None:
    law = boot.law
    assert law.draws is not None and law.draws.shape == (200, 5)
    again = from_dict(to_dict(law))
    np.testing.assert_allclose(again.draws, law.draws)
    # the service answers intervals from the draws
    p = predict(law, params=7e10, tokens=1.4e12)
    assert p.loss_interval is not None and p.loss_interval[0] < p.loss < p.loss_interval[1]


def test_intervals_on_the_frontier(boot) -> None:
    rows = boot.diagnostics["frontier_intervals"]
    assert len(rows) == 3
    for row in rows:
        for key in ("params", "tokens", "loss"):
            lo, hi = row[f"{key}_interval"]
            assert lo < row[key] < hi


def test_seeded_and_reproducible() -> None:
    runs = load_dataset("epoch-chinchilla").runs
    a = fit(
        runs,
        form="chinchilla",
        bootstrap=8,
        seed=3,
        workers=1,
        extrapolation=False,
        grid=np.array([[0.35, 0.37, 6.0, 7.5, 0.6]]),
    )
    b = fit(
        runs,
        form="chinchilla",
        bootstrap=8,
        seed=3,
        workers=2,
        extrapolation=False,
        grid=np.array([[0.35, 0.37, 6.0, 7.5, 0.6]]),
    )
    np.testing.assert_allclose(a.law.draws, b.law.draws, rtol=1e-10)


def test_resampling_is_by_whole_runs() -> None:
    runs = np.array(["a", "a", "a", "b", "c", "c"], dtype=object)
    w = resample_counts(runs, 50, np.random.default_rng(0))
    assert w.shape == (50, 6)
    # all checkpoints of a run share its count; each draw picks as many runs as exist
    assert np.all(w[:, 0] == w[:, 1]) and np.all(w[:, 1] == w[:, 2]) and np.all(w[:, 4] == w[:, 5])
    np.testing.assert_allclose(w[:, [0, 3, 4]].sum(axis=1), 3)

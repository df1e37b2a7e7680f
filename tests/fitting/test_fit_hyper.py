"""Fitting a hyper-parameter law to a learning-rate and batch sweep (docs/laws.md §18.5):
a sweep drawn from a known optimum recovers it, per (N, D) and as a power law."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.fit.hyper import fit_hyperparams, sweep_optima, vertex
from flopwise.fitting.hyperlaws import recommend


def lr_star(n: float, d: float) -> float:
    return 0.5 * n**-0.5 * d**0.1


def batch_star(d: float) -> float:
    return 0.3 * d**0.6


def sweep(
    noise: float = 0.0, sizes: tuple[float, ...] = (1e7, 3e7, 1e8, 3e8)
) -> dict[str, np.ndarray]:
    """Loss = base(N, D) + 0.02 ln(LR/LR*)^2 + 0.01 ln(B/B*)^2 on a 7 x 7 grid per (N, D)."""
    rng = np.random.default_rng(3)
    rows = []
    for n, d in itertools.product(sizes, (1e9, 3e9, 1e10)):
        lrs = lr_star(n, d) * 2.0 ** (np.arange(-3, 4) * 0.5 + 0.13)
        batches = batch_star(d) * 2.0 ** (np.arange(-3, 4) - 0.21)
        for lr, b in itertools.product(lrs, batches):
            loss = 2 + 400 / n**0.34 + 0.02 * math.log(lr / lr_star(n, d)) ** 2
            loss += 0.01 * math.log(b / batch_star(d)) ** 2 + noise * rng.standard_normal()
            rows.append((n, d, lr, b, loss))
    return dict(zip(("params", "tokens", "lr", "batch", "loss"), np.array(rows).T, strict=True))


def test_vertex_of_a_parabola_and_its_edges() -> None:
    x = np.linspace(-2, 2, 9)
    assert vertex(x, (x - 0.3) ** 2) == (pytest.approx(0.3), False)
    assert vertex(x, (x - 5.0) ** 2) == (2.0, True)  # the best is the sweep's edge
    assert vertex(x, -((x - 0.3) ** 2) + 0.001 * x)[1]  # no convex parabola: flagged


def test_optima_recover_the_known_ones() -> None:
    s = sweep()
    optima = sweep_optima(s["params"], s["tokens"], s["lr"], s["batch"], s["loss"])
    assert len(optima) == 12
    for o in optima:
        assert o.learning_rate == pytest.approx(lr_star(o.params, o.tokens), rel=1e-6)
        assert o.batch_tokens == pytest.approx(batch_star(o.tokens), rel=1e-6)
        assert not (o.lr_on_edge or o.batch_on_edge) and o.runs == 49


def test_power_law_in_n_and_d_with_bands() -> None:
    s = sweep(noise=0.002)
    fit = fit_hyperparams(s["params"], s["tokens"], s["lr"], s["batch"], s["loss"], bootstrap=300)
    k = fit.law.constants
    assert fit.joint
    assert k["lr_n"] == pytest.approx(-0.5, abs=0.05)
    assert k["lr_d"] == pytest.approx(0.1, abs=0.05)
    assert k["batch_d"] == pytest.approx(0.6, abs=0.05)
    assert k["batch_n"] == pytest.approx(0.0, abs=0.05)
    lo, hi = fit.intervals["lr_n"]
    assert lo < k["lr_n"] < hi
    answer = recommend(fit.law, 5e7, 3e9)
    assert answer.learning_rate == pytest.approx(lr_star(5e7, 3e9), rel=0.1)
    assert answer.learning_rate_interval is not None
    assert fit.to_dict()["law"]["form"] == "power-law"


def test_one_d_per_n_is_fitted_in_n_alone() -> None:
    s = sweep()
    keep = s["tokens"] == 1e9
    fit = fit_hyperparams(
        *(s[k][keep] for k in ("params", "tokens", "lr", "batch", "loss")), bootstrap=50
    )
    assert not fit.joint and fit.law.constants["lr_d"] == 0.0
    assert fit.law.constants["lr_n"] == pytest.approx(-0.5, abs=1e-6)
    assert any("fitted in N alone" in w for w in fit.warnings)


def test_sequences_and_bad_input() -> None:
    s = sweep()
    fit = fit_hyperparams(
        s["params"],
        s["tokens"],
        s["lr"],
        s["batch"] / 512,
        s["loss"],
        sequence_length=512,
        batch_in_sequences=True,
        bootstrap=0,
    )
    assert fit.law.constants["batch_d"] == pytest.approx(0.6, abs=1e-6)
    assert fit.law.sequence_length == 512 and fit.intervals == {}
    with pytest.raises(ArgumentError) as info:
        fit_hyperparams([1e7], [1e9], [1e-3], [1e5], [3.0])
    assert info.value.name == "params"
    with pytest.raises(ArgumentError) as info:
        sweep_optima([1e7, 1e7], [1e9, 1e9], [1e-3, -1], [1e5, 1e5], [3.0, 3.1])
    assert info.value.name == "learning_rate"

"""The batched L-BFGS and its analytic gradients agree with scipy, start by start."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import approx_fprime, minimize

from flopwise.fitting.datasets import load_dataset
from flopwise.fitting.fit.huber import huber, huber_grad
from flopwise.fitting.fit.lse import LogData, log_predict, objective, objective_and_grad
from flopwise.fitting.fit.parametric import LSE_SPECS, chinchilla_grid, grid_rows, grid_size
from flopwise.fitting.fit.solver import CONVERGED, lbfgs_batch
from flopwise.fitting.laws import Form
from tests.pins import HOFFMANN, MCLEISH, published

STARTS = published(
    {2: 4500, 4: 4_050_000},
    f"{HOFFMANN}, App. D.2 (two inputs) and {MCLEISH}'s depth_width.py (four inputs): the start "
    "grids (docs/laws.md §2.2, §8.3)",
    derived="5^k exponents x 6^k log-coefficients x 5 log-E values for k inputs",
)
GRID_CORNERS = published(
    ([0, 0, 0, 0, 0, 0, 0, 0, -1], [2, 2, 2, 2, 25, 25, 25, 25, 1]),
    f"{MCLEISH}, depth_width.py: exponents 0 to 2, log-coefficients 0 to 25, log E -1 to 1 "
    "(docs/laws.md §8.3)",
)


@pytest.fixture(scope="module")
def epoch() -> LogData:
    runs = load_dataset("epoch-chinchilla").runs
    return LogData(LSE_SPECS[Form.CHINCHILLA].log_inputs(runs), np.log(runs.loss))


def test_huber_is_scipys() -> None:
    from scipy.special import huber as scipy_huber

    r = np.linspace(-3e-3, 3e-3, 13)
    np.testing.assert_allclose(huber(r, 1e-3), scipy_huber(1e-3, r))
    np.testing.assert_allclose(huber(np.array([0.5e-3, 2e-3]), 1e-3), [1.25e-7, 1.5e-6])
    np.testing.assert_allclose(huber_grad(r, 1e-3), np.clip(r, -1e-3, 1e-3))


@pytest.mark.parametrize(
    "theta",
    [
        [0.35, 0.37, 6.17, 7.6, 0.6],
        [1.5, 0.0, 20.0, 25.0, 0.5],
        [60.0, 0.5, 25.0, 5.0, -1.0],  # rows far below the largest term: per-row shift
        [0.3, 0.3, 5.0, 5.0, -800.0],
    ],
)
def test_gradient_matches_finite_differences(epoch: LogData, theta: list[float]) -> None:
    t = np.array(theta)
    _, g = objective_and_grad(t[None, :], epoch, 1e-3)
    num = approx_fprime(t, lambda v: objective(v[None, :], epoch, 1e-3)[0], 1e-7)
    np.testing.assert_allclose(g[0], num, rtol=2e-4, atol=1e-6)


def test_weighted_objective_is_the_weighted_sum(epoch: LogData) -> None:
    # bootstrap counts: each observation's Huber term counts as often as its run was drawn
    rng = np.random.default_rng(1)
    counts = rng.integers(0, 4, size=(3, epoch.n)).astype(float)
    theta = np.tile([0.35, 0.37, 6.17, 7.6, 0.6], (3, 1)) + rng.normal(0, 0.01, (3, 5))
    weighted = LogData(epoch.log_x, epoch.log_loss, counts)
    r = log_predict(theta, epoch.log_x) - epoch.log_loss
    expected = (counts * huber(r, 1e-3)).sum(axis=1)
    f, g = objective_and_grad(theta, weighted, 1e-3, np.arange(3))
    np.testing.assert_allclose(f, expected, rtol=1e-12)
    np.testing.assert_allclose(objective(theta, weighted, 1e-3, np.arange(3)), expected, rtol=1e-12)
    single = LogData(epoch.log_x, epoch.log_loss, counts[0])
    num = approx_fprime(theta[0], lambda v: objective(v[None, :], single, 1e-3)[0], 1e-7)
    np.testing.assert_allclose(g[0], num, rtol=2e-4, atol=1e-6)


def test_float32_first_pass_agrees(epoch: LogData) -> None:
    theta = chinchilla_grid(2)[::97]
    f64, g64 = objective_and_grad(theta, epoch, 1e-3)
    f32, g32 = objective_and_grad(theta, epoch.as_type(np.float32), 1e-3)
    np.testing.assert_allclose(f32, f64, rtol=1e-4)
    np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-3 * np.abs(g64).max())


def test_log_predict_is_the_law(epoch: LogData) -> None:
    t = np.array([0.347, 0.367, np.log(477.8), np.log(2144.0), np.log(1.8172)])
    n, d = np.exp(epoch.log_x[:3, 0]), np.exp(epoch.log_x[:3, 1])
    expected = 1.8172 + 477.8 / n**0.347 + 2144.0 / d**0.367
    np.testing.assert_allclose(np.exp(log_predict(t[None, :], epoch.log_x[:3])[0]), expected)


def test_batched_solver_matches_scipy_per_start(epoch: LogData) -> None:
    # the baseline of the benchmark: one L-BFGS-B call per start, analytic gradient
    rng = np.random.default_rng(0)
    starts = chinchilla_grid(2)[rng.choice(4500, 40, replace=False)]

    def fg(v: np.ndarray) -> tuple[float, np.ndarray]:
        f, g = objective_and_grad(v[None, :], epoch, 1e-3)
        return float(f[0]), g[0]

    ref = np.array([minimize(fg, s, jac=True, method="L-BFGS-B").fun for s in starts])
    res = lbfgs_batch(lambda x, rows: objective_and_grad(x, epoch, 1e-3), starts)
    assert res.fun.min() <= ref.min() + 1e-9
    assert np.mean(res.status == CONVERGED) > 0.9
    # start by start, most starts end where scipy's do (the same local minimum)
    assert np.median(np.abs(res.fun - ref)) < 1e-7


def test_bounds_hold_and_per_start_weights(epoch: LogData) -> None:
    lower = np.array([0.0, 0.0, 0.0, 0.0, 0.7])  # E held above its optimum
    upper = np.array([2.0, 2.0, 30.0, 30.0, 2.0])
    starts = chinchilla_grid(2)[::300]
    res = lbfgs_batch(
        lambda x, rows: objective_and_grad(x, epoch, 1e-3), starts, lower=lower, upper=upper
    )
    assert np.all(res.x >= lower) and np.all(res.x <= upper)
    assert np.isclose(res.x[np.argmin(res.fun), 4], 0.7)
    ones = LogData(epoch.log_x, epoch.log_loss, np.ones((len(starts), epoch.n)))
    f1, _ = objective_and_grad(starts, ones, 1e-3, np.arange(len(starts)))
    f0, _ = objective_and_grad(starts, epoch, 1e-3)
    np.testing.assert_allclose(f1, f0)


def test_grid_rows_decode_the_full_grid() -> None:
    assert grid_size(4) == STARTS[4] and grid_size(2) == STARTS[2]
    rows = grid_rows(4, np.array([0, 1, STARTS[4] - 1]))
    first, last = GRID_CORNERS
    np.testing.assert_array_equal(rows[0], first)
    np.testing.assert_array_equal(rows[1], [*first[:-1], -0.5])  # log E steps by 0.5
    np.testing.assert_array_equal(rows[2], last)

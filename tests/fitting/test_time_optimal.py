"""Time-optimal allocation and overspend on Gemstones' law and measured throughput."""

from __future__ import annotations

import numpy as np
import pytest

from flopwise.fitting.catalogue import builtin
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.shape import ShapeConstraints
from flopwise.fitting.throughput.catalogue import builtin_throughput
from flopwise.fitting.throughput.grid import grid_cached
from flopwise.fitting.throughput.model import step_seconds
from flopwise.fitting.throughput.overspend import overspend, overspend_map, tokens_to_reach
from flopwise.fitting.throughput.time_optimal import allocate_hours, shape_grid

GEMSTONES = builtin("gemstones-2025")
MI250X = builtin_throughput("gemstones-mi250x")
SMALL = ShapeConstraints(max_width=8192, max_depth=160)


@pytest.mark.parametrize("gpu_hours", [1e3, 1e4, 1e5])
def test_time_optimal_is_wider_and_better_for_the_same_hours(gpu_hours: float) -> None:
    answer = allocate_hours(GEMSTONES, MI250X, gpu_hours, n_gpus=256, constraints=SMALL)
    fast, lean = answer.time_optimal, answer.flop_optimal
    assert fast.shape.width > lean.shape.width
    assert fast.shape.width / fast.shape.depth > lean.shape.width / lean.shape.depth
    assert fast.loss < lean.loss
    assert fast.gpu_hours == pytest.approx(gpu_hours) == lean.gpu_hours
    assert fast.wall_clock_hours == pytest.approx(gpu_hours / 256)
    # each plan in the other's currency: the faster shape trains more tokens per hour
    assert fast.model_flops_per_gpu > lean.model_flops_per_gpu


def test_time_optimal_matches_brute_force_over_every_shape() -> None:
    answer = allocate_hours(GEMSTONES, MI250X, 2e4, n_gpus=128, constraints=SMALL)
    grid = shape_grid(GEMSTONES, MI250X, SMALL, 128, MI250X.batch_tokens)
    wall = 2e4 * 3600 / 128
    losses = grid.shape_terms + grid.B * (wall / grid.seconds_per_token) ** -grid.beta
    best = int(np.argmin(losses))
    assert (answer.time_optimal.shape.width, answer.time_optimal.shape.depth) == (
        grid.width[best],
        grid.depth[best],
    )
    assert answer.time_optimal.loss == pytest.approx(losses[best])


def test_flop_optimal_plan_is_the_laws_shape_for_its_own_flops() -> None:
    answer = allocate_hours(GEMSTONES, MI250X, 1e4, n_gpus=128, price_per_gpu_hour=2.0)
    lean = answer.flop_optimal
    from flopwise.fitting.allocation import allocate

    again = allocate(GEMSTONES, lean.flops)
    assert (again.shape.width, again.shape.depth) == (lean.shape.width, lean.shape.depth)
    assert lean.dollars == pytest.approx(2e4)


def test_chinchilla_form_stays_in_the_aspect_band() -> None:
    answer = allocate_hours(
        builtin("epoch-2024"), builtin_throughput("h100-default"), 1e5, n_gpus=64
    )
    shape = answer.time_optimal.shape
    assert 20 <= shape.width / shape.depth <= 200
    assert answer.time_optimal.loss <= answer.flop_optimal.loss


def test_deadline_sets_the_gpu_count_and_warns_outside_the_fitted_range() -> None:
    answer = allocate_hours(GEMSTONES, MI250X, 1e6, deadline_hours=1000.0)
    assert answer.n_gpus == 1000
    assert answer.time_optimal.wall_clock_hours <= 1000.0
    assert any("outside the range" in w and "3072" in w for w in answer.warnings)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_gpus": 0}, "n_gpus"),
        ({}, "n_gpus"),
        ({"n_gpus": 4, "deadline_hours": 1.0}, "deadline_hours"),
        ({"n_gpus": 4096}, "n_gpus"),
        ({"deadline_hours": 1e-6, "gpu_hours": 1e-4}, "deadline_hours"),
        ({"n_gpus": 64, "gpu_hours": 1e-3}, "gpu_hours"),
        ({"n_gpus": 64, "law": "porian-2024"}, "law"),
    ],
)
def test_bad_input_names_the_argument(kwargs: dict, name: str) -> None:
    law = builtin(kwargs.pop("law", "gemstones-2025"))
    hours = kwargs.pop("gpu_hours", 100.0)
    with pytest.raises(ArgumentError) as err:
        allocate_hours(law, MI250X, hours, constraints=SMALL, **kwargs)
    assert err.value.name == name


def test_skinny_shapes_overspend_hours_far_more_than_flops() -> None:
    """Gemstones Fig. 7: narrow models need more tokens *and* run each one slower."""
    widths, depths = np.array([256, 1024, 3072]), np.array([64, 80, 128])
    flops_x, hours_x = overspend_map(
        GEMSTONES, MI250X, widths, depths, target_loss=3.2, n_gpus=128, constraints=SMALL
    )
    skinny = hours_x[:, 0] / flops_x[:, 0]
    wide = hours_x[:, 2] / flops_x[:, 2]
    assert np.all(skinny > 2.0)
    assert np.all(wide < 1.0)
    one = overspend(GEMSTONES, MI250X, 256, 80, n_gpus=128, target_loss=3.2, constraints=SMALL)
    assert one.gpu_hours_overspend > 2 * one.flops_overspend > 2
    assert one.time_optimal.width > one.flop_optimal.width
    optimum = one.time_optimal
    at_best = overspend(
        GEMSTONES,
        MI250X,
        optimum.width,
        optimum.depth,
        n_gpus=128,
        target_loss=3.2,
        constraints=SMALL,
    )
    assert at_best.gpu_hours_overspend == pytest.approx(1.0)


def test_overspend_from_a_budget_and_unreachable_losses() -> None:
    o = overspend(GEMSTONES, MI250X, 1024, 28, n_gpus=128, flops=1e20, constraints=SMALL)
    assert o.flop_optimal.flops == pytest.approx(1e20, rel=1e-6)
    assert o.flops_overspend >= 1.0
    assert np.isinf(tokens_to_reach(2.0, 2.5, 1e4, 0.5))
    with pytest.raises(ArgumentError) as err:
        overspend(GEMSTONES, MI250X, 256, 80, n_gpus=128, target_loss=2.9, constraints=SMALL)
    assert err.value.name == "target_loss"
    with pytest.raises(ArgumentError) as err:
        overspend(GEMSTONES, MI250X, 300, 80, n_gpus=128, target_loss=3.2, constraints=SMALL)
    assert err.value.name == "width"


def test_overspend_under_a_shape_blind_law_warns_outside_the_aspect_band() -> None:
    law, h100 = builtin("epoch-2024"), builtin_throughput("h100-default")
    o = overspend(law, h100, 8192, 2, n_gpus=64, target_loss=2.6, constraints=SMALL)
    assert np.isfinite(o.flops_overspend) and np.isfinite(o.gpu_hours_overspend)
    assert any("20-200" in w for w in o.warnings)
    best = o.time_optimal
    assert 20 <= best.width / best.depth <= 200


@pytest.mark.parametrize("target_loss", [1e200, 1e308, 1e30, 1e5])
def test_a_loss_reached_within_a_token_is_refused_not_divided_by_zero(target_loss: float) -> None:
    """Issue 24: above every floor by ~1e200, the tokens to reach a loss underflow to 0,
    and the overspends were 0 / 0 (ZeroDivisionError, a 500)."""
    with pytest.raises(ArgumentError) as err:
        overspend(
            GEMSTONES, MI250X, 1024, 28, n_gpus=64, target_loss=target_loss, constraints=SMALL
        )
    assert err.value.name == "target_loss"
    assert "under one" in str(err.value)
    with pytest.raises(ArgumentError) as err:
        overspend_map(
            GEMSTONES,
            MI250X,
            np.array([1024]),
            np.array([28]),
            target_loss=target_loss,
            n_gpus=64,
            constraints=SMALL,
        )
    assert err.value.name == "target_loss"


def test_a_new_gpu_count_reuses_the_counted_shapes() -> None:
    """Issue 24: the shapes are counted once per (law, model, constraints); a GPU count
    only retimes them, and the timing equals the step-time model's, shape by shape."""
    constraints = ShapeConstraints(max_width=4096, max_depth=64, aspect_ratio=55.5)
    assert not grid_cached(GEMSTONES, MI250X, constraints)
    first = shape_grid(GEMSTONES, MI250X, constraints, 64, MI250X.batch_tokens)
    assert grid_cached(GEMSTONES, MI250X, constraints)
    other = shape_grid(GEMSTONES, MI250X, constraints, 97, MI250X.batch_tokens / 2)
    assert other.width is first.width and other.shape_terms is first.shape_terms
    family = constraints.family(GEMSTONES.family)
    for grid in (first, other):
        step = step_seconds(
            MI250X,
            family,
            grid.width,
            grid.depth,
            tokens_per_gpu=grid.batch_tokens / grid.n_gpus,
            n_gpus=grid.n_gpus,
        )
        np.testing.assert_array_equal(grid.seconds_per_token, step / grid.batch_tokens)
    assert not np.array_equal(first.seconds_per_token, other.seconds_per_token)

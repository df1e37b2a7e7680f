"""Allocation behaviour: budgets, shapes, width-depth search, intervals, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from flopwise.fitting.allocation import allocate, frontier
from flopwise.fitting.catalogue import BUILTIN_LAWS, builtin
from flopwise.fitting.counting import count
from flopwise.fitting.flops import flops_per_token
from flopwise.fitting.forms import law_form
from flopwise.fitting.hardware import GPUS, budget_to_flops, cost_of
from flopwise.fitting.prediction import predict_loss
from flopwise.fitting.shape import ShapeConstraints, law_flops_per_token, law_params
from tests.pins import published

H100_PEAK = published(
    989.4e12,
    "NVIDIA H100 SXM5, dense BF16: 989.4 TFLOP/s (NVIDIA's Hopper architecture whitepaper; the "
    "datasheet prints 1,979 with sparsity)",
    derived="528 tensor cores x 1,024 FLOPs per clock x 1.83 GHz",
)


def test_gpu_hours_and_dollars_to_flops() -> None:
    flops = budget_to_flops(gpu_hours=1e5, gpu_name="h100", mfu=0.4)
    assert flops == pytest.approx(1e5 * 3600 * H100_PEAK * 0.4)
    assert budget_to_flops(
        dollars=2e5, price_per_gpu_hour=2.0, gpu_name="H100", mfu=0.4
    ) == pytest.approx(flops)
    cost = cost_of(flops, "h100", mfu=0.4, n_gpus=64, price_per_gpu_hour=2.0)
    assert cost.gpu_hours == pytest.approx(1e5)
    assert cost.wall_clock_hours == pytest.approx(1e5 / 64)
    assert cost.dollars == pytest.approx(2e5)


def test_peak_table_covers_the_issue_gpus() -> None:
    assert {"a100", "h100", "h200", "b200", "mi250x", "mi300x", "l40s", "rtx4090"} <= set(GPUS)
    assert all(g.source and g.peak_bf16_flops > 1e14 for g in GPUS.values())


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"flops": 1.0, "gpu_hours": 1.0, "gpu_name": "h100"}, "exactly one"),
        ({"gpu_hours": 10.0}, "gpu"),
        ({"gpu_hours": 10.0, "gpu_name": "tpu9"}, "gpu"),
        ({"dollars": 10.0, "gpu_name": "h100"}, "price_per_gpu_hour"),
        ({"gpu_hours": -5.0, "gpu_name": "h100"}, "gpu_hours"),
        ({"gpu_hours": 5.0, "gpu_name": "h100", "mfu": 1.5}, "mfu"),
        ({"flops": math.nan}, "flops"),
    ],
)
def test_bad_budgets_name_the_problem(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        budget_to_flops(**kwargs)


@pytest.mark.parametrize("bad", [0.0, -1e20, math.inf, math.nan, 1e40])
def test_allocate_rejects_bad_flops(bad: float) -> None:
    with pytest.raises(ValueError, match="flops"):
        allocate(builtin("epoch-2024"), bad)


def test_impossible_shape_constraints() -> None:
    with pytest.raises(ValueError, match="no width"):
        allocate(
            builtin("epoch-2024"), 1e21, constraints=ShapeConstraints(min_width=300, max_width=380)
        )
    with pytest.raises(ValueError, match="min_depth"):
        ShapeConstraints(min_depth=10, max_depth=5)


@pytest.mark.parametrize("law_id", sorted(BUILTIN_LAWS))
def test_every_builtin_allocates_with_exact_shape_counts(law_id: str) -> None:
    law = builtin(law_id)
    result = allocate(law, 1e21)
    shape = result.shape
    assert shape is not None
    spec = law.family.spec(shape.width, shape.depth)
    assert shape.params == count(spec).total
    assert shape.n_heads * shape.head_dim == shape.width
    assert shape.n_heads % shape.n_kv_heads == 0
    assert shape.flops_per_token == pytest.approx(
        float(law_flops_per_token(law, law.family, shape.width, shape.depth))
    )
    assert shape.flops_per_token_6n == 6 * shape.params
    assert result.hyperparameters is not None and 1e-5 < result.hyperparameters.learning_rate < 1e-2
    if not law_form(law).shape_aware and law.table == ():
        n_star = result.params if result.model_scale is None else result.model_scale
        assert shape.params_law == pytest.approx(n_star, rel=0.05)
    if result.model_scale is not None:  # DeepSeek's M is never reported as parameters
        assert result.params == shape.params


def test_gemstones_shape_reports_6nd_drift() -> None:
    result = allocate(builtin("gemstones-2025"), 1e21)
    assert result.shape is not None
    spec = builtin("gemstones-2025").family.spec(result.shape.width, result.shape.depth)
    assert result.shape.flops_per_token == pytest.approx(flops_per_token(spec)["gemstones"])
    assert result.shape.flops_per_token != result.shape.flops_per_token_6n
    assert result.tokens * result.shape.flops_per_token == pytest.approx(1e21, rel=1e-12)


@pytest.mark.parametrize("flops", [1e19, 3e20, 1e22, 5.76e23, 1e26])
def test_width_depth_hull_equals_brute_force(flops: float) -> None:
    law = builtin("gemstones-2025")
    constraints = ShapeConstraints(max_width=8192, max_depth=160)
    widths = constraints.widths(law.family)
    w, d = (g.ravel() for g in np.meshgrid(widths, np.arange(1, 161)))
    f = law_flops_per_token(law, law.family, w, d)
    loss = predict_loss(
        law,
        width=w,
        depth=d,
        params=law_params(law.n_definition, law.family, w, d),
        tokens=flops / f,
    )
    best = int(np.argmin(loss))
    result = allocate(law, flops, constraints=constraints)
    assert result.shape is not None
    assert result.loss == pytest.approx(float(loss[best]), rel=1e-12)
    assert (result.shape.width, result.shape.depth) == (int(w[best]), int(d[best]))


def test_frontier_matches_allocate() -> None:
    for law_id in ("epoch-2024", "gemstones-2025", "kaplan-2020", "deepseek-2024", "porian-2024"):
        law = builtin(law_id)
        budgets = np.logspace(19, 25, 13)
        path = frontier(law, budgets)
        for i, c in enumerate(budgets):
            one = allocate(law, float(c))
            assert one.shape is not None
            n_star = one.params if one.model_scale is None else one.model_scale
            assert path.params[i] == pytest.approx(n_star, rel=1e-9)
            assert path.tokens[i] == pytest.approx(one.tokens, rel=1e-9)
            assert (int(path.width[i]), int(path.depth[i])) == (one.shape.width, one.shape.depth)


def test_aspect_ratio_policy_follows_the_target() -> None:
    law = builtin("epoch-2024")
    wide = allocate(law, 1e23, constraints=ShapeConstraints(aspect_ratio=256)).shape
    deep = allocate(law, 1e23, constraints=ShapeConstraints(aspect_ratio=32)).shape
    assert wide is not None and deep is not None
    assert wide.width / wide.depth > 150 and deep.width / deep.depth < 50
    assert wide.params == pytest.approx(deep.params, rel=0.03)


def test_extrapolation_warning() -> None:
    inside = allocate(builtin("epoch-2024"), 1e20)
    outside = allocate(builtin("epoch-2024"), 1e25)
    assert not any("outside the range" in w for w in inside.caveats)
    assert any("budget" in w and "outside the range" in w for w in outside.caveats)


def test_data_constrained_allocation_repeats_data() -> None:
    law = builtin("muennighoff-2023")
    free = allocate(law, 1e23)
    capped = allocate(law, 1e23, unique_tokens=free.tokens / 8)
    assert capped.loss is not None and free.loss is not None
    assert capped.loss > free.loss
    assert capped.epochs is not None and capped.epochs > 1
    # Excess parameters decay faster than repeated data (R_N* < R_D*), so Muennighoff et al.
    # (§6) advise spending extra compute on epochs rather than on a larger model.
    assert capped.params < free.params and capped.tokens > free.tokens
    assert any("repeats" in w for w in capped.warnings)
    # The optimum is a true minimum of the data-constrained loss along C = 6ND.
    k = law.constants
    for factor in (0.9, 1.1):
        n = capped.params * factor
        other = predict_loss(
            law, params=n, tokens=1e23 / (6 * n), unique_tokens=free.tokens / 8, constants={**k}
        )
        assert other > capped.loss


def test_inference_aware_allocation_spends_the_total_budget() -> None:
    law = builtin("sardana-2024")
    result = allocate(law, 1e23, inference_tokens=1e13)
    assert result.training_flops + result.inference_flops == pytest.approx(1e23, rel=1e-9)
    assert 6 * result.params * result.tokens == pytest.approx(result.training_flops, rel=1e-9)
    assert result.inference_flops == pytest.approx(2 * result.params * 1e13, rel=1e-9)


def test_unsupported_combinations_are_clear() -> None:
    with pytest.raises(ValueError, match="inference_tokens"):
        allocate(builtin("kaplan-2020"), 1e21, inference_tokens=1e12)
    with pytest.raises(ValueError, match="unique_tokens"):
        allocate(builtin("porian-2024"), 1e21, unique_tokens=1e9)
    with pytest.raises(ValueError, match="unique_tokens"):
        allocate(builtin("epoch-2024"), 1e21, unique_tokens=-3.0)


def test_intervals_from_bootstrap_draws() -> None:
    law = builtin("chinchilla-2022")
    rng = np.random.default_rng(0)
    names = law_form(law).constants
    centre = np.array([law.constants[n] for n in names])
    draws = centre * (1 + 0.01 * rng.standard_normal((400, len(names))))
    with_draws = law.evolve(draws=draws)
    result = allocate(with_draws, 1e22)
    assert result.loss_interval is not None and result.params_interval is not None
    lo, hi = result.loss_interval
    assert lo < result.loss < hi
    assert result.params_interval[0] < result.params < result.params_interval[1]
    assert result.curve_interval is not None
    assert result.curve_interval[0] > lo and result.curve_interval[1] < hi  # a new run scatters
    bare = allocate(builtin("chinchilla-2022"), 1e22)
    assert bare.curve_interval is None and bare.loss_interval is not None  # default spread
    assert any("default" in c for c in bare.caveats)


def test_n_star_below_the_smallest_shape_trains_that_shape_on_the_budget() -> None:
    """At 1e16 FLOPs epoch-2024's N* (7.6e6) lies below the Chinchilla family's smallest
    shape (128 x 1, 8.4e6 parameters with its 32k vocabulary): the plan trains that shape
    on the tokens the budget buys and says so; 1e14 would give it under one token per
    parameter, and is refused."""
    law = builtin("epoch-2024")
    plan = allocate(law, 1e16)
    assert plan.shape is not None and (plan.shape.width, plan.shape.depth) == (128, 1)
    assert plan.params == plan.shape.params
    assert 6.0 * plan.params * plan.tokens == pytest.approx(1e16)  # the budget, spent
    assert plan.loss == pytest.approx(predict_loss(law, params=plan.params, tokens=plan.tokens))
    assert plan.loss_interval is not None
    assert plan.loss_interval[0] < plan.loss < plan.loss_interval[1]
    assert plan.params_interval is None and plan.tokens_interval is None  # not the optimum's
    assert any("lies below the smallest feasible shape (128 x 1" in c for c in plan.caveats)
    with pytest.raises(ValueError, match="under 1 per parameter") as refused:
        allocate(law, 1e14)
    assert getattr(refused.value, "name", None) == "flops"

"""Sweep plans: sizes in log compute, three aspect ratios, evals in log tokens, the cap."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from flopwise.fitting.counting import count
from flopwise.trainer.metrics import flops_per_token
from flopwise.trainer.plan import Plan, PlanConfig, make_plan


def config(**changes: Any) -> PlanConfig:
    base: dict[str, Any] = {"dataset": "d", "flops": 1e13, "time_cap_hours": 1.0,
                            "throughput": 3e10, "tokens_per_param": 5.0}  # fmt: skip
    return PlanConfig(**{**base, **changes})


def test_sizes_aspects_and_budget() -> None:
    plan = make_plan(config())
    assert plan.family == "tiny" and len(plan.runs) == 9
    assert plan.limited_by == "budget"
    assert sum(r.flops for r in plan.runs) == pytest.approx(1e13, rel=0.02)
    by_size = [[r for r in plan.runs if r.size == s] for s in range(3)]
    compute = [np.mean([r.flops for r in runs]) for runs in by_size]
    assert compute[1] / compute[0] == pytest.approx(4, rel=0.05)
    assert compute[2] / compute[1] == pytest.approx(4, rel=0.05)
    for runs in by_size:
        assert [r.aspect for r in runs] == ["standard", "wide", "deep"]
        aspect = {r.aspect: r.arch.width / r.arch.depth for r in runs}
        assert aspect["wide"] > aspect["standard"] > aspect["deep"]
        assert max(r.flops for r in runs) / min(r.flops for r in runs) < 1.05  # isoFLOP
    assert len({(r.arch.width, r.arch.depth) for r in plan.runs}) == 9
    params = sorted(r.params for r in plan.runs)
    assert params[0] > 3e4 and params[-1] < 1.5e6


def test_runs_are_consistent() -> None:
    plan = make_plan(config())
    step = plan.batch_size * 128
    for run in plan.runs:
        assert run.params == count(run.arch).total
        assert run.flops == pytest.approx(run.tokens * flops_per_token(run.arch))
        assert run.tokens % step == 0 and all(t % step == 0 for t in run.eval_tokens)
        evals = np.array(run.eval_tokens, dtype=float)
        assert evals[-1] == run.tokens and len(evals) >= 6
        ratios = evals[1:] / evals[:-1]
        assert ratios.max() / ratios.min() < 2  # roughly even in log tokens
        assert evals[0] >= 2 * plan.warmup_tokens
        assert run.run_id.startswith(plan.sweep_id) and run.n_devices == 1


def test_time_cap_bounds_the_budget() -> None:
    plan = make_plan(config(flops=1e15, time_cap_hours=0.05))
    assert plan.limited_by == "time cap"
    assert plan.budget_flops == pytest.approx((0.9 * 180 - 9 * 5) * 3e10, rel=0.05)
    assert plan.est_wall_seconds <= 180


def test_large_runs_get_several_devices() -> None:
    plan = make_plan(config(flops=5e13, time_cap_hours=0.05, slots=8))
    assert max(r.n_devices for r in plan.runs) > 1
    assert all(16 % r.n_devices == 0 for r in plan.runs)  # the batch divides


def test_family_follows_the_budget() -> None:
    assert make_plan(config(flops=1e19, throughput=4e14, time_cap_hours=100)).family == "small"
    big = make_plan(config(flops=1e22, throughput=4e14, time_cap_hours=1e4, tokens_per_param=20))
    assert big.family == "gemstones"
    assert all(r.arch.head_dim == 128 and r.arch.width % 256 == 0 for r in big.runs)


def test_max_runs() -> None:
    assert len(make_plan(config(max_runs=6)).runs) == 6
    assert len(make_plan(config(max_runs=2)).runs) == 2


def test_too_small_a_budget_is_refused() -> None:
    with pytest.raises(ValueError, match="flops: the budget buys"):
        make_plan(config(flops=1e9))


@pytest.mark.parametrize(("field", "value"), [("flops", -1.0), ("time_cap_hours", 0.0),
    ("aspects", ("square",)), ("family", "huge"), ("n_evals", 0), ("compute_ratio", 1.0)])  # fmt: skip
def test_bad_requests_name_the_field(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=field):
        config(**{field: value})


def test_plan_round_trips_and_identity() -> None:
    plan = make_plan(config())
    assert Plan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
    assert config(throughput=1.0).request_hash() == config().request_hash()
    assert config(seed=1).request_hash() != config().request_hash()
    text = plan.table()
    assert plan.sweep_id in text and all(r.run_id in text for r in plan.runs)

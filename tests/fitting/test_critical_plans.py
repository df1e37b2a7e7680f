"""GPU-hour plans against the critical batch (``fitting.throughput.critical``): the
tokens a batch past B_noise needs, the largest useful GPU count, and deadlines."""

from __future__ import annotations

import math

import numpy as np
import pytest

from flopwise.fitting.catalogue import builtin
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.throughput.catalogue import builtin_throughput
from flopwise.fitting.throughput.critical import critical_batch_plan, gpu_points
from flopwise.fitting.throughput.time_optimal import TimeAllocation, allocate_hours

LAW = builtin("epoch-2024")
MODEL = builtin_throughput("h100-default")
FAMILY = LAW.family


@pytest.fixture(scope="module")
def hours_plan() -> TimeAllocation:
    return allocate_hours(LAW, MODEL, 2e4, n_gpus=64)


def test_the_plans_batch_costs_tokens(hours_plan: TimeAllocation) -> None:
    plan = hours_plan.time_optimal
    b_noise = 2e6
    out = critical_batch_plan(
        MODEL, FAMILY, plan, n_gpus=64, batch_tokens=hours_plan.batch_tokens, b_noise=b_noise
    )
    ratio = hours_plan.batch_tokens / b_noise
    assert out.extra_tokens == pytest.approx(plan.tokens * ratio)  # E = E_min (1 + B/B_noise)
    assert out.plan.tokens == pytest.approx(plan.tokens * (1 + ratio))
    assert out.tokens_per_gpu == pytest.approx(hours_plan.batch_tokens / 64)
    assert out.largest_useful_gpus == math.floor(b_noise / out.tokens_per_gpu)
    assert any("past the critical batch" in w for w in out.warnings)  # 4.2e6 > 2e6 tokens
    # fewer GPUs than the plan's would be useful: the saving is negative (slower, cheaper)
    assert out.wall_clock_saving_hours < 0 < out.plan.gpu_hours - out.at_largest_useful.gpu_hours


def test_scan_at_b_noise_takes_twice_the_tokens_and_steps(hours_plan: TimeAllocation) -> None:
    plan = hours_plan.time_optimal
    per_gpu = 65536.0
    counts = np.array([1, 16, 256, 4096])
    b_noise = 256 * per_gpu
    points = gpu_points(MODEL, FAMILY, plan, counts, tokens_per_gpu=per_gpu, b_noise=b_noise)
    at = points[2]
    assert at.tokens == pytest.approx(2 * plan.tokens)
    assert at.steps == pytest.approx(2 * plan.tokens / b_noise)
    hours = [p.gpu_hours for p in points]
    assert hours == sorted(hours)  # more GPUs never cost fewer GPU-hours
    walls = [p.wall_clock_hours for p in points]
    assert walls[:3] == sorted(walls[:3], reverse=True)  # up to B_noise, more GPUs are faster


def test_deadline_takes_the_fewest_gpus_that_meet_it(hours_plan: TimeAllocation) -> None:
    plan = hours_plan.time_optimal
    kwargs = {"n_gpus": 64, "batch_tokens": hours_plan.batch_tokens, "b_noise": 4e7}
    loose = critical_batch_plan(MODEL, FAMILY, plan, **kwargs, max_wall_clock_hours=1e5)
    assert loose.deadline is not None and loose.deadline.met
    assert loose.deadline.point is not None and loose.deadline.point.n_gpus == 1
    target = loose.plan.wall_clock_hours / 3
    out = critical_batch_plan(MODEL, FAMILY, plan, **kwargs, max_wall_clock_hours=target)
    assert out.deadline is not None and out.deadline.met and out.deadline.point is not None
    best = out.deadline.point
    assert best.wall_clock_hours <= target
    fewer = gpu_points(
        MODEL,
        FAMILY,
        plan,
        np.array([best.n_gpus - 1]),
        tokens_per_gpu=out.tokens_per_gpu,
        b_noise=4e7,
    )[0]
    assert fewer.wall_clock_hours > target
    assert best.gpu_hours > out.plan.gpu_hours  # meeting it costs GPU-hours


def test_an_impossible_deadline_says_why(hours_plan: TimeAllocation) -> None:
    plan = hours_plan.time_optimal
    out = critical_batch_plan(
        MODEL,
        FAMILY,
        plan,
        n_gpus=64,
        batch_tokens=hours_plan.batch_tokens,
        b_noise=4e6,
        max_wall_clock_hours=1e-3,
    )
    assert out.deadline is not None and not out.deadline.met and out.deadline.point is None
    assert "D / B_noise" in out.deadline.reason
    assert out.deadline.fastest.wall_clock_hours == pytest.approx(out.fewest_hours)
    assert out.deadline.reason in out.warnings
    with pytest.raises(ArgumentError) as info:
        critical_batch_plan(MODEL, FAMILY, plan, n_gpus=64, batch_tokens=4e6, b_noise=-1.0)
    assert info.value.name == "b_noise_tokens"

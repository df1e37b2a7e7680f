"""Sweep time estimates from a fitted throughput model instead of a constant FLOP/s."""

from __future__ import annotations

import io
from functools import partial

import pytest

from flopwise.fitting.throughput.catalogue import builtin_throughput, default_for_gpu
from flopwise.fitting.throughput.model import spec_step_seconds
from flopwise.trainer.plan import STARTUP_SECONDS, PlanConfig, make_plan
from flopwise.trainer.progress import TqdmReporter


def test_plan_estimates_follow_the_throughput_model() -> None:
    config = PlanConfig(
        dataset="d", flops=1e22, throughput=4e14, time_cap_hours=1e4, tokens_per_param=20
    )
    model = builtin_throughput("h100-default")
    assert default_for_gpu("h100") is model and default_for_gpu("cpu") is None
    flat = make_plan(config)
    fitted = make_plan(config, step_time=partial(spec_step_seconds, model))
    assert fitted.family == "gemstones"
    assert [r.run_id for r in fitted.runs] == [r.run_id for r in flat.runs]
    for run in fitted.runs:
        tps = fitted.batch_size * run.arch.seq_len
        assert run.n_devices == 1
        steps = run.tokens / tps  # plus evaluations, a third of a step's work per sequence
        floor = STARTUP_SECONDS + steps * spec_step_seconds(model, run.arch, tps)
        assert floor <= run.est_seconds < floor * 1.1
    for size in {r.size for r in fitted.runs}:
        runs = {r.aspect: r for r in fitted.runs if r.size == size}
        flat_runs = {r.aspect: r for r in flat.runs if r.size == size}
        # same FLOPs, but the model knows wide shapes run faster per FLOP than deep ones
        ratio = runs["deep"].est_seconds / runs["wide"].est_seconds
        flat_ratio = flat_runs["deep"].est_seconds / flat_runs["wide"].est_seconds
        assert ratio > flat_ratio * 1.05
    assert fitted.runs[0].est_seconds != pytest.approx(flat.runs[0].est_seconds, rel=0.01)


def test_sweep_shows_the_estimate_beside_the_measured_time() -> None:
    err = io.StringIO()
    report = TqdmReporter(err)
    report({"event": "run_done", "run": "r1", "done": 1, "total": 2, "status": "finished",
            "est_seconds": 186.0, "measured_seconds": 168.0})  # fmt: skip
    assert "[1/2] r1: finished, est. 3.1 min, measured 2.8 min (step clock)" in err.getvalue()

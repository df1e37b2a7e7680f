"""LR / batch sweeps: grid points, run ids, shared tokens per model, the best point."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flopwise.trainer import grid
from flopwise.trainer.plan import Plan, PlanConfig, make_plan


def config(**changes: Any) -> PlanConfig:
    base: dict[str, Any] = {"dataset": "d", "flops": 1e13, "time_cap_hours": 1.0,
                            "throughput": 3e10, "tokens_per_param": 5.0}  # fmt: skip
    return PlanConfig(**{**base, **changes})


def test_grid_points_cover_every_pair_and_default_to_the_family() -> None:
    assert grid.grid_points((), ()) == [(0.0, 0)]
    points = grid.grid_points((1e-3, 3e-3, 1e-2), (8, 16))
    assert len(points) == len(set(points)) == 6
    assert {lr for lr, _ in points} == {1e-3, 3e-3, 1e-2} and {b for _, b in points} == {8, 16}
    assert grid.grid_points((), (8, 16)) == [(0.0, 8), (0.0, 16)]


def test_point_suffixes_are_distinct_run_ids() -> None:
    points = grid.grid_points((1e-3, 3e-3, 1e-2), (8, 16))
    suffixes = [grid.point_suffix(lr, b) for lr, b in points]
    assert len(set(suffixes)) == len(suffixes)
    assert grid.point_suffix(0.0, 0) == "" and grid.point_suffix(0.0, 8) == "-b8"
    assert grid.point_suffix(1e-2, 0) == "-lr0.01"


def test_tokens_quantum_is_whole_steps_at_every_batch() -> None:
    quantum = grid.tokens_quantum((8, 12, 16), 64)
    assert all(quantum % (b * 64) == 0 for b in (8, 12, 16))
    assert quantum == 48 * 64


def test_best_runs_pick_each_models_lowest_final_loss() -> None:
    records = {
        "m1-lr0.001": [{"loss": 2.0}, {"loss": 1.5}],
        "m1-lr0.01": [{"loss": 1.9}, {"loss": 1.4}],
        "m2-lr0.001": [{"loss": 3.0}],
        "m2-lr0.01": [],  # finished with no evaluation: not a candidate
        "stray": [{"loss": 0.1}],  # not a grid run of the plan
    }
    models = {"m1-lr0.001": "m1", "m1-lr0.01": "m1", "m2-lr0.001": "m2", "m2-lr0.01": "m2"}
    assert grid.best_runs(records, models) == ["m1-lr0.01", "m2-lr0.001"]
    assert grid.best_dataset("d") == "d-best" and len(grid.best_dataset("x" * 64)) <= 64


def test_a_grid_plan_trains_every_model_at_every_point_on_the_same_tokens() -> None:
    plain = make_plan(config(aspects=("standard",), flops=3e13))
    swept = make_plan(config(aspects=("standard",), flops=3e13, lr_grid=(1e-3, 1e-2),
                             batch_grid=(8, 16)))  # fmt: skip
    assert len(swept.runs) == 4 * len(plain.runs)
    assert sum(r.flops for r in swept.runs) == pytest.approx(3e13, rel=0.05)  # budget shared
    models = {r.grid_of for r in swept.runs}
    assert len(models) == len(plain.runs) and "" not in models
    for model in models:
        runs = [r for r in swept.runs if r.grid_of == model]
        assert {(r.lr, r.batch_size) for r in runs} == {
            (lr, b) for lr in (1e-3, 1e-2) for b in (8, 16)
        }
        assert len({r.tokens for r in runs}) == 1 and len({r.params for r in runs}) == 1
        for r in runs:
            assert r.tokens % (r.batch_size * r.arch.seq_len) == 0
            assert r.run_id == model + grid.point_suffix(r.lr, r.batch_size)
    assert len({r.run_id for r in swept.runs}) == len(swept.runs)
    assert "LR x batch grid: 4 points per model" in swept.table()
    assert all(not r.grid_of and r.batch_size == plain.batch_size for r in plain.runs)


def test_a_grid_plan_round_trips_and_old_ids_stay() -> None:
    swept = make_plan(config(aspects=("standard",), lr_grid=(1e-3, 1e-2)))
    again = Plan.from_dict(json.loads(json.dumps(swept.to_dict())))
    assert again == swept
    assert config().request_hash() != config(lr_grid=(1e-3,)).request_hash()
    old = swept.to_dict()  # a plan written before grids: no batch_size per run, no grids
    for name in ("lr_grid", "batch_grid"):
        old["config"].pop(name)
    for run in old["runs"]:
        run.pop("batch_size")
    assert all(r.batch_size == swept.batch_size for r in Plan.from_dict(old).runs)


def test_max_runs_keeps_the_grid_and_drops_models() -> None:
    plan = make_plan(config(lr_grid=(1e-3, 3e-3, 1e-2), max_runs=9))
    assert len(plan.runs) <= 9 and len({r.lr for r in plan.runs}) == 3


@pytest.mark.parametrize(("field", "value"), [("lr_grid", (0.0,)), ("batch_grid", (0,))])
def test_bad_grids_name_the_field(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=field):
        config(**{field: value})

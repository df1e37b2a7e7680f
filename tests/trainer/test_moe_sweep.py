"""MoE calibration sweeps (``trainer.moe_sweep``): every planned model at each expert
granularity, its counts from ``fitting.moe``, the job that builds the MoE model, and the
run records that carry active_params and granularity into a fit."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from flopwise.fitting.moe import moe_counts
from flopwise.fitting.runs import Runs
from flopwise.protocol.sweep import SweepRequest
from flopwise.trainer.config import Job, ModelConfig, TrainConfig
from flopwise.trainer.families import family
from flopwise.trainer.model import Transformer
from flopwise.trainer.moe import MoETransformer, build_model
from flopwise.trainer.moe_sweep import granularity_points, moe_fields, moe_tags
from flopwise.trainer.plan import Plan, PlanConfig, make_plan
from flopwise.trainer.sweep import plan_config
from flopwise.trainer.train import train
from tests.trainer.helpers import tiny_job

STEP = 8 * 64  # tokens per step of the tiny job


def config(**changes: Any) -> PlanConfig:
    base: dict[str, Any] = {"dataset": "d", "flops": 1e13, "time_cap_hours": 1.0,
                            "throughput": 3e10, "tokens_per_param": 5.0,
                            "aspects": ("standard",)}  # fmt: skip
    return PlanConfig(**{**base, **changes})


def test_every_model_is_planned_at_each_granularity() -> None:
    plan = make_plan(config(experts=4, top_k=1, granularities=(1, 2, 4)))
    dense = make_plan(config())
    assert len(plan.runs) == 3 * len(dense.runs)
    by_shape: dict[tuple[int, int], list[int]] = {}
    for run in plan.runs:
        g = run.arch.ffn_size // run.expert_ffn_size
        assert run.run_id.endswith(f"-g{g}") and run.arch.ffn_size % run.expert_ffn_size == 0
        assert (run.experts, run.top_k) == (4 * g, g)  # Krajewski et al.: E x G, k x G
        counts = moe_counts(ModelConfig(arch=run.arch, experts=run.experts, top_k=run.top_k,
                                        expert_ffn_size=run.expert_ffn_size).moe)  # type: ignore[arg-type]  # fmt: skip
        assert run.params == counts.total_non_embedding
        assert run.flops == pytest.approx(run.tokens * counts.flops_per_token)
        by_shape.setdefault((run.arch.width, run.arch.depth), []).append(g)
    assert all(sorted(gs) == [1, 2, 4] for gs in by_shape.values())
    assert sum(r.flops for r in plan.runs) == pytest.approx(1e13, rel=0.05)
    assert Plan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
    assert "mixture of experts: 4 experts, top-1, at granularities 1, 2, 4" in plan.table()


def test_an_moe_sweep_without_granularities_trains_at_one() -> None:
    plan = make_plan(config(experts=8, top_k=2))
    assert all(r.experts == 8 and r.top_k == 2 and r.run_id.endswith("-g1") for r in plan.runs)
    assert granularity_points(0, ()) == (0,)
    assert all(r.experts == 0 and "-g" not in r.run_id for r in make_plan(config()).runs)


def test_an_moe_sweep_with_an_lr_grid_trains_each_granularity_at_each_rate() -> None:
    lrs = (1e-3, 3e-3)
    plan = make_plan(config(experts=4, top_k=1, granularities=(1, 2), lr_grid=lrs))
    dense = make_plan(config())
    assert len(plan.runs) == 2 * len(lrs) * len(dense.runs)
    assert len({r.run_id for r in plan.runs}) == len(plan.runs)
    points: dict[tuple[int, int, int], set[float]] = {}
    for run in plan.runs:
        g = run.arch.ffn_size // run.expert_ffn_size
        assert (run.experts, run.top_k) == (4 * g, g)
        points.setdefault((run.arch.width, run.arch.depth, g), set()).add(run.lr)
    assert all(sorted(rates) == list(lrs) for rates in points.values())
    assert sum(r.flops for r in plan.runs) == pytest.approx(1e13, rel=0.05)


def test_moe_options_change_the_sweep_but_not_a_dense_ones_id() -> None:
    dense = config().request_hash()
    assert config(experts=4).request_hash() != dense
    assert (
        config(experts=4, granularities=(1, 2)).request_hash() != config(experts=4).request_hash()
    )
    request = SweepRequest(dataset="d", flops=1e13, time_cap_hours=1.0, experts=4, top_k=2,
                           granularities=(1, 2))  # fmt: skip
    planned = plan_config(request)
    assert (planned.experts, planned.top_k, planned.granularities) == (4, 2, (1, 2))


@pytest.mark.parametrize(
    ("changes", "name"),
    [({"experts": 4, "top_k": 5}, "top_k"), ({"granularities": (2,)}, "granularities"),
     ({"experts": 4, "granularities": (0,)}, "granularities")],
)  # fmt: skip
def test_bad_moe_options_name_their_field(changes: dict[str, Any], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        config(**changes)


def test_a_granularity_must_divide_the_mlp() -> None:
    arch = family("tiny").arch.spec(32, 2)  # MLP 128 wide
    assert moe_fields(arch, 4, 1, 2)["expert_ffn_size"] == 64
    with pytest.raises(ValueError, match="granularities: 3 does not divide the MLP width 128"):
        moe_fields(arch, 4, 1, 3)
    with pytest.raises(ValueError, match="granularities"):
        make_plan(config(experts=4, granularities=(3,)))


def _job(**moe: int) -> Job:
    arch = family("tiny").with_vocab(64).arch.spec(32, 2)
    train = TrainConfig(data_dir="data", run_dir="run", tokens=1024)
    return Job(model=ModelConfig(arch=arch, **moe), train=train)


def test_a_job_builds_its_moe_model_and_round_trips() -> None:
    job = _job(experts=8, top_k=2, expert_ffn_size=64)
    assert Job.from_dict(json.loads(json.dumps(job.to_dict()))) == job
    model = build_model(job.model)
    assert isinstance(model, MoETransformer) and model.spec == job.model.moe
    assert model.num_params() == moe_counts(model.spec).total
    dense = _job()
    assert type(build_model(dense.model)) is Transformer
    assert "experts" not in dense.to_dict()["model"]  # a dense run's checkpoints still resume
    assert dense.identity() != job.identity()
    with pytest.raises(ValueError, match="top_k"):
        _job(experts=2, top_k=4, expert_ffn_size=64)


def test_moe_tags_carry_the_fit_columns_through_the_store() -> None:
    moe = _job(experts=8, top_k=2, expert_ffn_size=64).model.moe
    assert moe is not None
    tags = moe_tags(moe)
    assert all(isinstance(v, str) for v in tags.values())
    record = {"params": 1e5, "tokens": 1e6, "loss": 3.0, "run": "r", "tags": tags}
    runs = Runs.from_records([record, {**record, "tokens": 2e6}])
    assert runs.granularity is not None and np.all(runs.granularity == 2.0)
    assert runs.active_params is not None
    assert runs.active_params[0] == moe_counts(moe).active_non_embedding
    assert runs.sparsity is not None and runs.sparsity[0] == pytest.approx(0.75)
    with pytest.raises(ValueError, match="granularity"):
        Runs.from_records([{**record, "tags": {**tags, "granularity": "fine"}}])


class _Crash(Exception):
    pass


def test_an_moe_run_resumes_from_its_checkpoint(corpus_dir: Path, tmp_path: Path) -> None:
    moe = {"experts": 4, "top_k": 2, "expert_ffn_size": 32}
    kwargs = {"tokens": 40 * STEP, "eval_tokens": (10 * STEP, 20 * STEP)}

    def job(run_dir: Path) -> Job:
        base = tiny_job(corpus_dir, run_dir, **kwargs)
        return replace(base, model=replace(base.model, **moe))

    reference = train(job(tmp_path / "reference"))
    seen: list[dict[str, Any]] = []

    def crash_after_two(record: dict[str, Any]) -> None:  # the checkpoint is on disk first
        seen.append(record)
        if len(seen) == 2:
            raise _Crash

    with pytest.raises(_Crash):
        train(job(tmp_path / "crashed"), sink=crash_after_two)
    resumed = train(job(tmp_path / "crashed"))
    assert resumed.resumed_from_step == 20
    assert [r["tokens"] for r in resumed.observations] == [10 * STEP, 20 * STEP, 40 * STEP]
    for got, want in zip(resumed.observations, reference.observations, strict=True):
        assert got["loss"] == pytest.approx(want["loss"], rel=1e-5)
        assert got["tags"]["granularity"] == "4" and got["tags"]["experts"] == "4"
    assert train(job(tmp_path / "crashed")).resumed_from_step == 40  # finished: skipped

"""Training for real on real text: loss falls, observations are right, runs resume."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest

from flopwise.fitting.counting import count
from flopwise.trainer.checkpoint import read_done, read_observations
from flopwise.trainer.metrics import flops_per_token
from flopwise.trainer.train import train
from tests.trainer.helpers import tiny_job


def test_val_loss_falls(corpus_dir: Path, tmp_path: Path) -> None:
    job = tiny_job(corpus_dir, tmp_path / "run", tokens=120 * 8 * 64,
                   eval_tokens=(1 * 8 * 64, 30 * 8 * 64, 60 * 8 * 64))  # fmt: skip
    result = train(job)
    losses = [r["loss"] for r in result.observations]
    assert result.status == "finished" and len(losses) == 4
    assert all(a > b for a, b in itertools.pairwise(losses)), losses
    assert losses[0] > 5.0  # near log(256) = 5.55 after one step
    assert losses[-1] < 3.2  # bytes of Python are far from uniform


def test_observations_carry_counts_and_timing(corpus_dir: Path, tmp_path: Path) -> None:
    job = tiny_job(corpus_dir, tmp_path / "run", tags={"sweep": "s1"})
    result = train(job)
    spec = job.model.arch
    tokens_per_step = 8 * 64
    assert [r["tokens"] for r in result.observations] == [
        10 * tokens_per_step, 30 * tokens_per_step, 60 * tokens_per_step]  # fmt: skip
    for record in result.observations:
        assert record["params"] == count(spec).total
        assert record["flops"] == pytest.approx(flops_per_token(spec) * record["tokens"])
        assert record["width"] == 32 and record["depth"] == 2
        assert record["seconds_per_step"] > 0 and record["n_gpus"] == 1 and record["gpu"] == "cpu"
        assert record["dataset"] == "test" and record["run"] == "run"
        tags = record["tags"]
        assert tags["sweep"] == "s1" and tags["seed"] == "0" and tags["schedule"] == "constant"
        assert float(tags["tokens_per_second"]) == pytest.approx(
            tokens_per_step / record["seconds_per_step"], rel=1e-4)  # fmt: skip
        assert "mfu" not in tags  # no peak FLOP/s for a CPU
    # the run directory holds the same records and a done marker
    assert read_observations(tmp_path / "run") == list(result.observations)
    assert read_done(tmp_path / "run") == {"status": "finished", "steps": 60,
        "tokens": 60 * tokens_per_step, "final_loss": result.final_loss, "observations": 3}  # fmt: skip
    assert json.loads((tmp_path / "run" / "job.json").read_text()) == job.to_dict()


def test_events_and_sink(corpus_dir: Path, tmp_path: Path) -> None:
    events: list[dict[str, object]] = []
    sunk: list[dict[str, object]] = []
    train(tiny_job(corpus_dir, tmp_path / "run"), report=events.append, sink=sunk.append)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "run_done"
    assert kinds.count("eval") == 3 and "progress" in kinds
    assert [e["record"] for e in events if e["event"] == "eval"] == sunk


def test_finished_run_is_not_trained_again(corpus_dir: Path, tmp_path: Path) -> None:
    job = tiny_job(corpus_dir, tmp_path / "run")
    first = train(job)
    again = train(job)
    assert again.observations == first.observations and again.resumed_from_step == 60


def test_refuses_a_directory_of_another_job(corpus_dir: Path, tmp_path: Path) -> None:
    train(tiny_job(corpus_dir, tmp_path / "run", tokens=10 * 8 * 64, eval_tokens=()))
    with pytest.raises(ValueError, match="different job"):
        train(tiny_job(corpus_dir, tmp_path / "run", seed=1))


def test_gradient_accumulation_matches_whole_batch(corpus_dir: Path, tmp_path: Path) -> None:
    kwargs = {"tokens": 20 * 8 * 64, "eval_tokens": ()}
    whole = train(tiny_job(corpus_dir, tmp_path / "a", **kwargs))
    accum = train(tiny_job(corpus_dir, tmp_path / "b", micro_batch_size=2, **kwargs))
    assert accum.final_loss == pytest.approx(whole.final_loss, rel=1e-4)


def test_cooldown_decays_to_zero(corpus_dir: Path, tmp_path: Path) -> None:
    job = tiny_job(corpus_dir, tmp_path / "run", cooldown_fraction=0.5, cooldown_shape="1-sqrt")
    records = train(job).observations
    assert [r["tags"]["schedule"] for r in records] == ["constant", "constant", "cooldown"]
    assert float(records[-1]["tags"]["lr"]) == 0.0
    assert float(records[0]["tags"]["lr"]) == pytest.approx(0.5 / (32 * math.sqrt(2)), rel=1e-4)

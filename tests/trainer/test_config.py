"""Configs are typed, validated up front, and round-trip through JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flopwise.fitting.counting import ArchSpec
from flopwise.trainer.config import Job, TrainConfig
from flopwise.trainer.model import ModelConfig
from tests.trainer.helpers import tiny_job


def config(**changes: Any) -> TrainConfig:
    return TrainConfig(**{"data_dir": "d", "run_dir": "r", "tokens": 1000, **changes})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tokens", 0),
        ("batch_size", 0),
        ("lr_base", 0.0),
        ("lr", -1.0),
        ("cooldown_fraction", 1.5),
        ("cooldown_shape", "cosine"),
        ("beta2", 1.0),
        ("grad_clip", float("nan")),
        ("eval_tokens", (0,)),
        ("seed", -1),
        ("device", "tpu"),
        ("precision", "float16"),
        ("dataset", ""),
        ("tags", {"a": 1}),
    ],
)
def test_bad_values_name_the_field(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=field):
        config(**{field: value})


def test_eval_tokens_sorted_and_unique() -> None:
    assert config(eval_tokens=(300, 100, 300)).eval_tokens == (100, 300)


def test_name_defaults_to_run_dir() -> None:
    assert config(run_dir="/x/y/run-7").name == "run-7"
    assert config(run_id="given").name == "given"


def test_job_round_trips_through_json(tmp_path: Path) -> None:
    job = tiny_job(tmp_path, tmp_path / "run", tags={"sweep": "s"})
    again = Job.from_dict(json.loads(json.dumps(job.to_dict())))
    assert again == job


def test_job_identity_ignores_where_and_how_it_runs(tmp_path: Path) -> None:
    job = tiny_job(tmp_path, tmp_path / "a")
    moved = tiny_job(tmp_path / "elsewhere", tmp_path / "b", device="cpu", threads=2)
    assert job.identity() == moved.identity()
    assert tiny_job(tmp_path, tmp_path / "a", seed=1).identity() != job.identity()


def test_job_from_dict_refuses_unknown_fields(tmp_path: Path) -> None:
    data = tiny_job(tmp_path, tmp_path / "a").to_dict()
    data["train"]["learning_rate"] = 1.0
    with pytest.raises(ValueError, match="learning_rate"):
        Job.from_dict(data)
    with pytest.raises(ValueError, match="model"):
        Job.from_dict({"train": data["train"]})


def test_model_config_validation() -> None:
    arch = ArchSpec(width=32, depth=1, head_dim=16, vocab_size=256, seq_len=8)
    with pytest.raises(ValueError, match="norm_eps"):
        ModelConfig(arch=arch, norm_eps=0.0)
    with pytest.raises(ValueError, match="arch"):
        ModelConfig(arch="32x1")  # type: ignore[arg-type]

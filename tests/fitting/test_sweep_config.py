"""The sweep request: one declaration, its checks naming the field, JSON round trip."""

from __future__ import annotations

from typing import Any

import pytest

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.sweep_config import SweepRequest, field_docs

BASE: dict[str, Any] = {"dataset": "d", "flops": 1e13, "time_cap_hours": 1.0}


def test_json_round_trip_and_documented_fields() -> None:
    request = SweepRequest(**BASE, aspects=("wide",), slurm_options=("--constraint=h100",))
    assert SweepRequest.from_dict(request.to_dict()) == request
    docs = field_docs(SweepRequest)
    assert set(docs) == set(request.to_dict()) and all(docs.values())


@pytest.mark.parametrize(
    ("changes", "name"),
    [({"flops": None}, "flops"), ({"gpu_hours": 2.0}, "gpu_hours"),
     ({"flops": None, "gpu_hours": 2.0}, "gpu"),
     ({"flops": None, "gpu_hours": 2.0, "gpu": "tpu9"}, "gpu"), ({"flops": -1.0}, "flops"),
     ({"time_cap_hours": 0.0}, "time_cap_hours"), ({"evals": 0}, "evals"),
     ({"aspects": ("round",)}, "aspects"), ({"executor": "k8s"}, "executor"),
     ({"dataset": "a b"}, "dataset"), ({"compute_ratio": 1.0}, "compute_ratio"),
     ({"slurm_partition": "gpu;rm"}, "slurm_partition"),
     ({"slurm_options": ("--wrap=x\nrm",)}, "slurm_options"),
     ({"slurm_options": ("-p gpu",)}, "slurm_options"), ({"cpu_jobs": True}, "cpu_jobs")],
)  # fmt: skip
def test_a_bad_value_names_its_field(changes: dict[str, Any], name: str) -> None:
    with pytest.raises(ArgumentError) as caught:
        SweepRequest(**{**BASE, **changes})
    assert caught.value.name == name


def test_from_dict_names_unknown_and_missing_fields() -> None:
    with pytest.raises(ArgumentError) as unknown:
        SweepRequest.from_dict({**BASE, "sizez": 3})
    assert unknown.value.name == "sizez"
    with pytest.raises(ArgumentError) as missing:
        SweepRequest.from_dict({"dataset": "d", "flops": 1e13})
    assert missing.value.name == "time_cap_hours"

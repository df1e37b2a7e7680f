"""The sweep request: one declaration, its checks naming the field, JSON round trip."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from flopwise.protocol.sweep import SweepRequest

BASE: dict[str, Any] = {"dataset": "d", "flops": 1e13, "time_cap_hours": 1.0}


def _field(exc: ValidationError) -> object:
    return exc.errors()[0]["loc"][0]


def test_json_round_trip_and_documented_fields() -> None:
    request = SweepRequest(**BASE, aspects=("wide",), slurm_options=("--constraint=h100",))
    wire = json.loads(json.dumps(request.model_dump(mode="json")))
    assert wire["aspects"] == ["wide"]
    assert SweepRequest.model_validate(wire) == request
    assert SweepRequest.model_validate_json(request.model_dump_json()) == request
    fields = SweepRequest.model_fields
    assert set(fields) == set(wire) and all(f.description for f in fields.values())


@pytest.mark.parametrize(
    ("changes", "name"),
    [({"flops": None}, "flops"), ({"gpu_hours": 2.0}, "gpu_hours"),
     ({"flops": None, "gpu_hours": 2.0}, "gpu"),
     ({"flops": None, "gpu_hours": 2.0, "gpu": "tpu9"}, "gpu"), ({"flops": -1.0}, "flops"),
     ({"flops": float("inf")}, "flops"), ({"flops": "1e13"}, "flops"),
     ({"time_cap_hours": 0.0}, "time_cap_hours"), ({"evals": 0}, "evals"),
     ({"evals": 2.0}, "evals"), ({"aspects": ("round",)}, "aspects"),
     ({"aspects": ("wide", "wide")}, "aspects"), ({"aspects": ()}, "aspects"),
     ({"aspect_spread": 0.5}, "aspect_spread"), ({"executor": "k8s"}, "executor"),
     ({"dataset": "a b"}, "dataset"), ({"compute_ratio": 1.0}, "compute_ratio"),
     ({"slurm_partition": "gpu;rm"}, "slurm_partition"),
     ({"slurm_options": ("--wrap=x\nrm",)}, "slurm_options"),
     ({"slurm_options": ("-p gpu",)}, "slurm_options"), ({"cpu_jobs": True}, "cpu_jobs"),
     ({"mfu": True}, "mfu"), ({"corpus": "x" * 5000}, "corpus"),
     ({"lr_grid": (1e-3, 1e-3)}, "lr_grid"), ({"lr_grid": (0.0,)}, "lr_grid"),
     ({"lr_grid": (float("nan"),)}, "lr_grid"), ({"lr_grid": (1e-3,) * 17}, "lr_grid"),
     ({"batch_grid": (8, 8)}, "batch_grid"), ({"batch_grid": (0,)}, "batch_grid"),
     ({"batch_grid": (8.5,)}, "batch_grid"), ({"experts": -1}, "experts"),
     ({"experts": 300}, "experts"), ({"experts": 4, "top_k": 5}, "top_k"),
     ({"top_k": 2}, "top_k"), ({"granularities": (1, 2)}, "granularities"),
     ({"experts": 4, "granularities": (2, 2)}, "granularities"),
     ({"experts": 4, "granularities": (0,)}, "granularities"),
     ({"experts": 64, "granularities": (1, 32)}, "granularities"),
     ({"experts": 4, "top_k": 0}, "top_k"), ({"experts": 4, "granularities": (1, 3)}, "granularities")],
)  # fmt: skip
def test_a_bad_value_names_its_field(changes: dict[str, Any], name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        SweepRequest(**{**BASE, **changes})
    assert _field(caught.value) == name


def test_a_gpu_hour_budget_names_a_known_gpu() -> None:
    request = SweepRequest(dataset="d", gpu_hours=2.0, gpu="H100", time_cap_hours=1.0)
    assert request.flops is None and request.gpu == "H100"
    with pytest.raises(ValidationError, match="unknown GPU"):
        SweepRequest(dataset="d", gpu_hours=2.0, gpu="tpu9", time_cap_hours=1.0)


def test_unknown_and_missing_fields_are_named() -> None:
    with pytest.raises(ValidationError) as unknown:
        SweepRequest.model_validate({**BASE, "sizez": 3})
    assert _field(unknown.value) == "sizez"
    with pytest.raises(ValidationError) as missing:
        SweepRequest.model_validate({"dataset": "d", "flops": 1e13})
    assert _field(missing.value) == "time_cap_hours"


def test_an_moe_sweep_round_trips() -> None:
    request = SweepRequest(**BASE, experts=8, top_k=2, granularities=(1, 2, 4))
    wire = json.loads(request.model_dump_json())
    assert wire["granularities"] == [1, 2, 4] and wire["experts"] == 8
    assert SweepRequest.model_validate(wire) == request
    dense = SweepRequest(**BASE)
    assert (dense.experts, dense.top_k, dense.granularities) == (0, 1, ())

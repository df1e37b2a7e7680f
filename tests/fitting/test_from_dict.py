"""Answers read back from their dictionaries (what the HTTP API sends): ``from_dict``
inverts ``to_dict`` for every built-in law, and ignores keys it does not know."""

from __future__ import annotations

import math

import pytest

from flopwise.fitting.allocation import Allocation, allocate
from flopwise.fitting.catalogue import BUILTIN_LAWS
from flopwise.fitting.prediction import Prediction, predict
from flopwise.fitting.throughput.catalogue import builtin_throughputs
from flopwise.fitting.throughput.overspend import Overspend, overspend
from flopwise.fitting.throughput.time_optimal import Plan, allocate_hours


@pytest.mark.parametrize("law_id", sorted(BUILTIN_LAWS))
def test_allocations_and_predictions_read_back(law_id: str) -> None:
    law = BUILTIN_LAWS[law_id]
    answer = allocate(law, 1e22)
    assert Allocation.from_dict(answer.to_dict()) == answer
    model = {"width": 1024, "depth": 16} if "width-depth" in str(law.form) else {"params": 1e9}
    try:
        point = predict(law, tokens=2e10, **model)  # type: ignore[arg-type]
    except ValueError:  # a law that predicts loss only on its frontier
        return
    assert Prediction.from_dict(point.to_dict()) == point


def test_unknown_keys_are_ignored_and_missing_compute_is_nan() -> None:
    answer = allocate(BUILTIN_LAWS["epoch-2024"], 1e21)
    served = answer.to_dict()
    served["cost"], served["newer_field"] = None, [1, 2]
    assert served["hyperparameters"].pop("compute") > 0  # the API leaves it out
    read = Allocation.from_dict(served)
    assert read.hyperparameters is not None and math.isnan(read.hyperparameters.compute)
    assert read.shape == answer.shape and read.loss_interval == answer.loss_interval


def test_plans_and_overspend_read_back() -> None:
    law, model = BUILTIN_LAWS["gemstones-2025"], builtin_throughputs()["gemstones-mi250x"]
    hours = allocate_hours(law, model, 1e4, n_gpus=256, price_per_gpu_hour=2.0)
    for plan in (hours.time_optimal, hours.flop_optimal):
        assert Plan.from_dict(plan.to_dict()) == plan
    spent = overspend(law, model, 256, 80, target_loss=3.2, n_gpus=128)
    assert Overspend.from_dict({**spent.to_dict(), "caveats": []}) == spent

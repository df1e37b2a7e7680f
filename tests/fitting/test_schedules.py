"""Learning-rate schedules as data (docs/laws.md §21.3, §10.1): each kind's shape, the
OLMo ladder's logged LRs reproduced from its rule, and bad schedules refused by field."""

from __future__ import annotations

import numpy as np
import pytest

from flopwise.fitting.datasets import load_dataset
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.schedules import Schedule, gemstones_lr, lr_at, schedule_from_dict


def test_each_kind_warms_up_then_follows_its_shape() -> None:
    peak = 1e-3
    tokens = np.array([0.0, 50.0, 100.0, 550.0, 1000.0, 2000.0])
    constant = lr_at(Schedule("constant", peak, warmup_tokens=100), tokens)
    cosine = lr_at(
        Schedule("cosine", peak, warmup_tokens=100, final_lr_fraction=0.1, total_tokens=1000),
        tokens,
    )
    linear = lr_at(Schedule("linear", peak, warmup_tokens=100, total_tokens=1000), tokens)
    assert constant.tolist() == pytest.approx([0.0, 5e-4, 1e-3, 1e-3, 1e-3, 1e-3])
    # half way through the decay a cosine is at the mean of peak and floor
    assert cosine.tolist() == pytest.approx([0.0, 5e-4, 1e-3, 5.5e-4, 1e-4, 1e-4])
    assert linear.tolist() == pytest.approx([0.0, 5e-4, 1e-3, 5e-4, 0.0, 0.0])


def test_wsd_cools_down_linearly_or_by_one_minus_sqrt() -> None:
    wsd = Schedule("wsd", 1e-3, decay_tokens=200, total_tokens=1000)
    sqrt = Schedule("wsd", 1e-3, decay_tokens=200, total_tokens=1000, cooldown="1-sqrt")
    tokens = np.array([700.0, 800.0, 850.0, 1000.0])
    assert lr_at(wsd, tokens).tolist() == pytest.approx([1e-3, 1e-3, 7.5e-4, 0.0])
    assert lr_at(sqrt, tokens).tolist() == pytest.approx([1e-3, 1e-3, 5e-4, 0.0])
    assert wsd.breakpoints() == (0.0, 800.0, 1000.0)


def test_the_ladder_rule_reproduces_every_logged_lr_after_warmup() -> None:
    runs = load_dataset("olmo-ladder").runs
    predicted = np.array(
        [float(lr_at(s, t)) for s, t in zip(runs.schedule, runs.tokens, strict=True)]
    )
    after = np.array([t > s.warmup_tokens for s, t in zip(runs.schedule, runs.tokens, strict=True)])
    assert np.max(np.abs(predicted[after] / runs.lr[after] - 1)) < 1e-3
    # the worked number of schedules.cosine_factor: 3B 1xC at step 10,200
    row = np.flatnonzero((runs.run == "3B-1xC") & (runs.tokens == 10200 * 3145728))[0]
    assert predicted[row] == pytest.approx(2.2019510740225502e-4, rel=1e-12)
    assert runs.lr[row] == pytest.approx(2.2019510740225502e-4, rel=1e-4)  # 5 digits bundled


def test_gemstones_peak_rule() -> None:
    assert gemstones_lr(1024, 28) == pytest.approx(5 / (1024 * 28**0.5))
    assert gemstones_lr(2560, 8) == pytest.approx(5 / (2560 * 26**0.5))  # width/depth > 256


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "step", "peak_lr": 1e-3}, "schedule.kind"),
        ({"kind": "cosine", "peak_lr": -1.0, "total_tokens": 10}, "schedule.peak_lr"),
        ({"kind": "cosine"}, "schedule.peak_lr"),
        ({"kind": "wsd", "peak_lr": 1e-3, "total_tokens": 10.0}, "schedule.decay_tokens"),
        (
            {"kind": "cosine", "peak_lr": 1e-3, "warmup_tokens": 9, "total_tokens": 5},
            "schedule.total_tokens",
        ),
        (
            {"kind": "constant", "peak_lr": 1e-3, "final_lr_fraction": 2},
            "schedule.final_lr_fraction",
        ),
        ({"kind": "constant", "peak_lr": 1e-3, "steps": 2}, "schedule.steps"),
        ({"kind": "wsd", "peak_lr": 1e-3, "cooldown": "cubic"}, "schedule.cooldown"),
    ],
)
def test_bad_schedules_name_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(ArgumentError) as exc:
        schedule_from_dict(data)
    assert exc.value.name == field


def test_a_decaying_schedule_needs_its_end_when_evaluated() -> None:
    with pytest.raises(ArgumentError) as exc:
        lr_at(Schedule("cosine", 1e-3), [1.0])
    assert exc.value.name == "schedule.total_tokens"


def test_a_schedule_round_trips_through_json() -> None:
    s = Schedule("wsd", 2e-3, 10.0, 0.1, decay_tokens=20.0, total_tokens=100.0)
    assert schedule_from_dict(s.to_dict()) == s
    assert Schedule("cosine", 1e-3).with_total(50.0).total_tokens == 50.0

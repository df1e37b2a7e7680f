"""LR-history sums of the loss-curve laws (docs/laws.md §21.1, §21.2): areas, decay
steps, Tissue's momentum as tokens, and histories from logged LRs against schedules."""

from __future__ import annotations

import numpy as np
import pytest

from flopwise.fitting.curves import Curves, History, curves_of, history_of, lr_area
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.forms import annealing_area, annealing_area_steps
from flopwise.fitting.runs import Runs
from flopwise.fitting.schedules import Schedule, lr_at


def test_a_two_stage_schedule_by_hand() -> None:
    """LR 1 to token 10, 0.5 from token 11: at 20 tokens the area is 10 + 0.75 + 4.5 and
    the one decay step (at 11, from 1 to 0.5) has 4.5 of it after and 9 tokens since."""
    grid = np.arange(0.0, 21.0)
    lr = np.where(grid <= 10, 1.0, 0.5)
    curves = Curves.of_history(History(grid, lr), np.array([5.0, 20.0]))
    assert curves.area.tolist() == pytest.approx([5.0, 15.25])
    assert curves.drop.tolist() == [[0.0], [0.5]]
    assert curves.after[1].tolist() == pytest.approx([4.5])
    assert curves.since[1].tolist() == [9.0]


def test_warmup_is_no_decay_and_tissue_counts_it_at_the_peak() -> None:
    s = Schedule("wsd", 1e-3, warmup_tokens=100.0, decay_tokens=100.0, total_tokens=1000.0)
    curves = Curves.of_history(history_of(s, np.array([1000.0]), None, 1001), np.array([500.0]))
    assert curves.area[0] == pytest.approx(1e-3 * (50 + 400))
    assert curves.flat_area[0] == pytest.approx(1e-3 * 500)
    assert not curves.drop.any()  # no cooldown yet at 500 tokens


def test_logged_lrs_give_the_schedule_history() -> None:
    """A linear decay logged at 100 points is the same history (but for the first 10
    tokens, where the first logged LR is held)."""
    s = Schedule("linear", 1e-3, total_tokens=1000.0)
    tokens = np.linspace(10.0, 1000.0, 100)
    logged = Runs(
        params=np.full(100, 1e6), tokens=tokens, loss=np.full(100, 3.0),
        run=np.full(100, "a", dtype=object), lr=np.asarray(lr_at(s, tokens)),
    )  # fmt: skip
    sched = np.empty(100, dtype=object)
    sched[:] = [s] * 100
    named = Runs(
        params=logged.params, tokens=tokens, loss=logged.loss, run=logged.run, schedule=sched
    )
    a, b = curves_of(logged), curves_of(named)
    assert a.area[10:] == pytest.approx(b.area[10:], rel=2e-3)
    assert a.drop.sum(axis=1)[-1] == pytest.approx(b.drop.sum(axis=1)[-1], rel=2e-2)


def test_rows_keep_their_order_across_runs() -> None:
    s = Schedule("constant", 1e-3)
    sched = np.empty(3, dtype=object)
    sched[:] = [s, None, s]
    runs = Runs(
        params=np.full(3, 1e6), tokens=np.array([100.0, 50.0, 300.0]), loss=np.full(3, 3.0),
        run=np.array(["a", "b", "a"], dtype=object), lr=np.array([np.nan, 2e-3, np.nan]),
        schedule=sched,
    )  # fmt: skip
    assert curves_of(runs).area.tolist() == pytest.approx([0.1, 0.1, 0.3])


def test_a_run_without_lr_or_schedule_is_refused() -> None:
    runs = Runs(
        params=np.full(2, 1e6), tokens=np.array([1.0, 2.0]), loss=np.full(2, 3.0),
        run=np.array(["a", "a"], dtype=object),
    )  # fmt: skip
    with pytest.raises(ArgumentError) as exc:
        curves_of(runs)
    assert exc.value.name == "lr"


def test_momentum_over_tokens_matches_the_step_sum() -> None:
    """Tissue et al.'s S2 over 500 unit steps after a cosine-like ramp down, lambda
    0.999, against the token form with tau = -1 / ln(lambda): within 1% (the step sum
    also counts each drop's own step)."""
    steps = np.arange(0.0, 501.0)
    lr = 1e-3 * (0.55 + 0.45 * np.cos(np.pi * steps / 500))
    exact = annealing_area_steps(lr, 0.999)[-1]
    curves = Curves.of_history(History(steps, lr), np.array([500.0]))
    tokens = annealing_area(curves.drop, curves.since, -1 / np.log(0.999))[0]
    assert tokens == pytest.approx(exact, rel=1e-2)


def test_area_worked_number() -> None:
    assert lr_area(np.array([0.0, 1e8, 2.1e9]), np.array([0.0, 1e-3, 1e-3]))[-1] == 2.05e6

"""Downstream chains (docs/laws.md §20): fitted on runs from a known chain, carried by a
law through JSON, answered with bands and caveats, and planned to a target score."""

from __future__ import annotations

import json

import numpy as np
import pytest

from flopwise.fitting.allocation import allocate
from flopwise.fitting.downstream import chain, metric_value, predict_metrics
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.fit import fit
from flopwise.fitting.fit.downstream import ChainReport, attach, final_rows, fit_chain
from flopwise.fitting.forms import checked, chinchilla_loss
from flopwise.fitting.laws import DownstreamLink, Law, from_dict, to_dict
from flopwise.fitting.links import gadre_accuracy, ladder_accuracy
from flopwise.fitting.runs import Runs
from flopwise.fitting.targets import reach_probability, target_budget
from tests.downstream_samples import GADRE, SIGMOID, TASK_LOSS, metric_runs

OPTIONS = {"workers": 1}


@pytest.fixture(scope="module")
def runs() -> Runs:
    return Runs.from_records(metric_runs())


@pytest.fixture(scope="module")
def ladder(runs: Runs) -> ChainReport:
    return fit_chain(runs, metric="task_acc", via="task_bpb", bootstrap=30, law_id="task-bpb",
                     options=OPTIONS)  # fmt: skip


@pytest.fixture(scope="module")
def law(runs: Runs, ladder: ChainReport) -> Law:
    """The main loss law carrying both links: the ladder's (its step 1 inside) and
    Gadre's from its own loss."""
    main = fit(runs, form="chinchilla", law_id="tasks-chinchilla", bootstrap=30, workers=1).law
    assert main is not None
    gadre = fit_chain(runs, metric="score_acc", via="loss", link="exponential", step1=main,
                      bootstrap=30)  # fmt: skip
    links = {"task_acc": ladder.downstream_link(nested=True),
             "score_acc": gadre.downstream_link(nested=False)}  # fmt: skip
    return attach(main, links)


def test_step1_is_fitted_on_each_runs_final_rows(runs: Runs, ladder: ChainReport) -> None:
    last = final_rows(runs, runs.metric("task_bpb"))
    assert len(last) == 10 and set(last.run) == set(runs.run)
    mine = runs.run == last.run[0]
    assert last.loss[0] == pytest.approx(np.mean(np.sort(runs.metric("task_bpb")[mine])[:5]))
    assert ladder.success and ladder.fitted_step1 and ladder.step1 is not None
    k = ladder.step1.constants
    assert k["beta"] == pytest.approx(TASK_LOSS["beta"], rel=0.3)
    assert ladder.step1.draws is not None  # step 1 carries its bootstrap draws
    held = ladder.diagnostics["extrapolation"]
    assert held["held_out_params"] == 1.6e9 and held["held_out_runs"] == 2
    assert held["mean_abs_error"] < 0.03


def test_a_law_carries_its_links_through_json(law: Law) -> None:
    again = checked(from_dict(json.loads(json.dumps(to_dict(law)))))
    assert set(again.downstream) == {"task_acc", "score_acc"}
    link = again.downstream["task_acc"]
    assert link.step1 is not None and link.step1.id == "task-bpb"
    assert link.draws is not None
    np.testing.assert_array_equal(link.draws, law.downstream["task_acc"].draws)
    assert again.downstream["score_acc"].step1 is None
    assert link.x_range == law.downstream["task_acc"].x_range


def test_checked_refuses_a_link_that_does_not_fit_its_kind(law: Law) -> None:
    bad = DownstreamLink(metric="m", link="sigmoid", via="loss", constants={"epsilon": 0.5})
    with pytest.raises(ArgumentError) as err:
        checked(law.evolve(downstream={"m": bad}))
    assert err.value.name == "downstream"
    odd = DownstreamLink(metric="m", link="cubic", via="loss", constants={})
    with pytest.raises(ArgumentError, match="cubic"):
        checked(law.evolve(downstream={"m": odd}))


def test_predicted_metrics_are_the_chain_of_both_steps(law: Law) -> None:
    n, d = 6e8, 1.2e10
    out, caveats = predict_metrics(law, params=n, tokens=d, level=0.9)
    task, score = out["task_acc"], out["score_acc"]
    link = law.downstream["task_acc"]
    assert link.step1 is not None
    x = float(chinchilla_loss(n, d, **link.step1.constants))
    assert task.via_value == pytest.approx(x)
    assert task.value == pytest.approx(float(ladder_accuracy(x, **link.constants)))
    truth = float(ladder_accuracy(chinchilla_loss(n, d, **TASK_LOSS), **SIGMOID))
    assert task.value == pytest.approx(truth, abs=0.02)
    assert task.interval is not None and task.curve_interval is not None
    assert task.interval[0] <= task.value <= task.interval[1]
    assert task.interval[0] <= task.curve_interval[0] and task.curve_interval[1] <= task.interval[1]
    loss = float(chinchilla_loss(n, d, **law.constants))
    assert score.via == "loss" and score.via_value == pytest.approx(loss)
    assert score.value == pytest.approx(float(gadre_accuracy(loss, **GADRE)), abs=0.02)
    assert caveats == ()  # inside every fitted range
    again, _ = predict_metrics(law, params=n, tokens=d, level=0.9)
    assert again["task_acc"].interval == task.interval  # a pure function of its inputs


def test_a_task_loss_outside_the_links_range_is_a_caveat(law: Law) -> None:
    out, caveats = predict_metrics(law, params=7e10, tokens=2e12)
    assert any("task_acc: the predicted task_bpb" in c and "extrapolates" in c for c in caveats)
    assert out["task_acc"].fitted_range == law.downstream["task_acc"].x_range
    wide = out["task_acc"].interval
    near = predict_metrics(law, params=6e8, tokens=1.2e10)[0]["task_acc"].interval
    assert wide is not None and near is not None
    assert wide[1] - wide[0] > near[1] - near[0]  # step 1's extrapolation error widens it


def test_the_smallest_budget_that_reaches_a_target(law: Law) -> None:
    found = target_budget(law, "task_acc", 0.8)
    assert found.predicted == pytest.approx(0.8, abs=1e-6)
    plan = allocate(law, found.flops)
    link = law.downstream["task_acc"]
    at = chain(law, link, params=plan.params, tokens=plan.tokens)
    assert at.value[0] == pytest.approx(0.8, abs=2e-3)  # the plan's shape-free N*, D*
    below = allocate(law, found.flops / 1.5)
    assert metric_value(law, link, params=below.params, tokens=below.tokens)[0] < 0.8
    probability, run_probability = reach_probability(at, 0.8)
    assert probability is not None and 0.2 < probability < 0.8  # at the crossing: about half
    assert 0.2 < run_probability < 0.8


def test_targets_the_law_cannot_reach_name_the_field(law: Law) -> None:
    with pytest.raises(ArgumentError) as err:
        target_budget(law, "task_acc", 0.99)  # above the fitted ceiling b
    assert err.value.name == "target.value" and "at most" in str(err.value)
    with pytest.raises(ArgumentError) as err:
        target_budget(law, "mmlu_acc", 0.5)
    assert err.value.name == "metric"

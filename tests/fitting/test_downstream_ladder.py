"""The bundled OLMo ladder (Bhagia et al. 2024, docs/laws.md §20): the data as the
authors published it, their step-1 fits reproduced, and the chain fitted below 3B
predicting the 3B runs (``bench/bench_downstream.py`` prints every task)."""

from __future__ import annotations

import numpy as np
import pytest

from flopwise.fitting.datasets import load_dataset
from flopwise.fitting.downstream_coverage import held_out
from flopwise.fitting.fit import fit
from flopwise.fitting.fit.downstream import final_rows
from flopwise.fitting.ladder_runs import LADDER_PARAMS, LADDER_TASKS, MMLU_WEIGHTS
from flopwise.fitting.prediction import predict_loss
from flopwise.fitting.runs import Runs
from tests.pins import BHAGIA, OLMO_LADDER_REPO, published

STEP1_CSV = f"{OLMO_LADDER_REPO} @ 4d993445, src/scripts/paper/figures/step1_main.csv, Fit Error"
GOAL_POINTS = 0.05
"""Issue 20's bar, after the paper's claim that chained predictions land within a few
points on most tasks: 5 accuracy points."""


@pytest.fixture(scope="module")
def runs() -> Runs:
    return load_dataset("olmo-ladder").runs


def test_the_ladder_as_published(runs: Runs) -> None:
    names = set(np.asarray(runs.run).astype(str))
    assert len(runs) == 3569 and len(names) == 30  # 5 sizes x 6 lengths, every evaluation
    assert set(np.unique(runs.params)) == set(map(float, LADDER_PARAMS.values()))
    for task in LADDER_TASKS:
        assert np.all(np.isfinite(runs.metric(f"{task}_bpb")))
        assert np.all((runs.metric(f"{task}_acc") > 0) & (runs.metric(f"{task}_acc") < 1))
    groups = sum(w * runs.metric(f"{g}_acc") for g, w in MMLU_WEIGHTS.items())
    np.testing.assert_allclose(runs.metric("mmlu_acc"), groups / sum(MMLU_WEIGHTS.values()))
    last = final_rows(runs, runs.loss)
    d = dict(zip(np.asarray(last.run).astype(str), last.tokens, strict=True))
    assert d["1B-1xC"] == pytest.approx(20 * LADDER_PARAMS["1B"], rel=0.001)  # 1xC: 20 tokens/param
    assert d["3B-10xC"] / d["3B-1xC"] == pytest.approx(10.0, rel=0.001)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("task", "paper"),
    [
        ("mmlu", 0.00459955846280895),
        ("hellaswag", 0.002564809550553303),
        ("arc_challenge", 0.004845000187424237),
        ("arc_easy", 0.011775123423672772),
        ("piqa", 0.003104357884309965),
        ("csqa", 0.010454759586642956),
        ("socialiqa", 0.005396831679934047),
        ("openbookqa", 0.00594152057987821),
    ],
)
def test_step1_reproduces_the_authors_fitting_error(runs: Runs, task: str, paper: float) -> None:
    """The task-loss law from (N, D) on the paper's 16 runs (190M-1B, 1-10xC), each
    run's last 5 checkpoints, Huber on log loss: the same mean relative error."""
    keep = [not str(r).startswith("3B") and str(r).split("-", 1)[1] in ("1xC", "2xC", "5xC", "10xC")
            for r in runs.run]  # fmt: skip
    sub = runs.subset(np.array(keep))
    last = final_rows(sub, sub.metric(f"{task}_bpb"))
    law = fit(last, form="chinchilla", law_id=task, extrapolation=False).law
    assert law is not None and len(last) == 16
    error = float(
        np.mean(np.abs(predict_loss(law, params=last.params, tokens=last.tokens) / last.loss - 1))
    )
    assert error == pytest.approx(published(paper, STEP1_CSV), rel=0.01)


@pytest.mark.slow
@pytest.mark.parametrize("task", ["mmlu", "piqa"])
def test_the_chain_below_3b_predicts_the_3b_runs(runs: Runs, task: str) -> None:
    """Both steps fitted on the 24 runs below 3B; every 3B run's final accuracy within
    the goal, and inside its 90% interval (Bhagia et al. predict 13B within a few points)."""
    report, rows = held_out(runs, runs.params > 3e9, metric=f"{task}_acc", via=f"{task}_bpb",
                            bootstrap=20)  # fmt: skip
    assert report.success and len(rows) == 6
    assert max(abs(r.predicted - r.actual) for r in rows) < GOAL_POINTS, BHAGIA
    assert all(r.inside for r in rows)

"""The loss-curve forms (docs/laws.md §21): their Jacobians, a fit on every checkpoint
through the one pipeline recovering a known law (bootstrap over runs, leave-largest-out,
predictive error), predictions under a schedule, and what they refuse."""

from __future__ import annotations

import numpy as np
import pytest

from flopwise.fitting import allocate
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.fit import fit
from flopwise.fitting.forms import law_form
from flopwise.fitting.forms.curve import curves_at
from flopwise.fitting.laws import Law
from flopwise.fitting.prediction import predict, predict_loss
from flopwise.fitting.runs import Runs
from flopwise.fitting.schedules import Schedule
from tests.curve_samples import MULTI_POWER, TISSUE, curve_records, curve_runs, schedule

FORMS = {"multi-power": MULTI_POWER, "tissue": TISSUE}


@pytest.mark.parametrize("name", list(FORMS))
def test_the_jacobian_matches_finite_differences(name: str) -> None:
    form = law_form(name)
    assert form.numeric is not None
    spec = form.numeric
    theta = spec.theta(FORMS[name])
    n = np.array([3e7, 3e7, 2e8])
    s = schedule(3e7, 1.2e9, "wsd")
    curves = curves_at(s, np.array([3e8, 1.1e9, 1.2e9]))
    jac = form.jacobian(theta, n, curves)
    for j in range(len(theta)):
        step = 1e-6 * max(1.0, abs(theta[j]))
        up, down = theta.copy(), theta.copy()
        up[j] += step
        down[j] -= step
        f = [np.asarray(form.curve_loss(spec.constants(t[None, :]) | {}, n, curves))
             for t in (up, down)]  # fmt: skip
        numeric = (f[0] - f[1]).ravel() / (2 * step)
        assert jac[:, j] == pytest.approx(numeric, rel=1e-4, abs=1e-9), spec.names[j]


@pytest.mark.parametrize("name", list(FORMS))
def test_a_fit_on_every_checkpoint_recovers_the_law(name: str) -> None:
    runs = curve_runs(form=name, noise=0.001, seed=3)
    report = fit(runs, form=name, method="approach3", law_id="synthetic", bootstrap=6, seed=0)
    assert report.success, report.message
    law = report.law
    assert law is not None and law.draws is not None and law.draws.shape[1] == len(FORMS[name])
    assert law.spread is not None and law.spread.source == "fit"
    assert report.diagnostics["extrapolation"]["final"]["max_abs_relative_error"] < 0.01
    # the fitted law predicts a run it never saw (a 1.2B model, 20x, wsd) within 0.5%
    s = schedule(1.2e9, 2.4e10, "wsd")
    truth = float(law_form(name).curve_loss(FORMS[name], 1.2e9, curves_at(s, [2.4e10]))[0])
    answer = predict(law, params=1.2e9, tokens=2.4e10, schedule=s)
    assert answer.loss == pytest.approx(truth, rel=5e-3)
    assert answer.loss_interval is not None
    assert answer.loss_interval[0] < truth < answer.loss_interval[1]


def test_logged_lrs_alone_are_enough() -> None:
    records = curve_records()
    for r in records:
        del r["schedule"]
    report = fit(Runs.from_records(records), form="tissue", method="approach3", law_id="lr")
    assert report.success, report.message


def test_curve_laws_need_a_schedule_and_do_not_allocate() -> None:
    law = Law(id="mp", form="multi-power", constants=MULTI_POWER)
    with pytest.raises(ArgumentError) as exc:
        predict_loss(law, params=1e8, tokens=1e9)
    assert exc.value.name == "schedule"
    with pytest.raises(ArgumentError) as exc:
        allocate(law, 1e20)
    assert exc.value.name == "law"
    chinchilla = Law(id="c", form="chinchilla", constants={
        "E": 1.7, "A": 400.0, "B": 400.0, "alpha": 0.34, "beta": 0.28})  # fmt: skip
    with pytest.raises(ArgumentError) as exc:
        predict_loss(chinchilla, params=1e8, tokens=1e9, schedule=schedule(1e8, 1e9, "wsd"))
    assert exc.value.name == "schedule"


@pytest.mark.parametrize("name", list(FORMS))
def test_a_cooldown_lowers_the_predicted_loss(name: str) -> None:
    """At the same tokens, a wsd run after its cooldown ends below the constant-LR run
    it branched from (the annealing term), though it swept less LR area."""
    law = Law(id="curve", form=name, constants=FORMS[name])
    n, total = 1e8, 4e9
    wsd = schedule(n, total, "wsd")
    constant = Schedule("constant", wsd.peak_lr, warmup_tokens=n)
    cooled = float(predict_loss(law, params=n, tokens=total, schedule=wsd))
    assert cooled < float(predict_loss(law, params=n, tokens=total, schedule=constant)) - 0.02

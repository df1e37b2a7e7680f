"""Forecasts of live runs (docs/laws.md §21.6): the end loss under the run's schedule, a
run on the law is tracking, one 3% above is not (a caveat, and the offset carried to the
end), the whole predicted curve, and bad checkpoints refused by name."""

from __future__ import annotations

import numpy as np
import pytest

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.forecast import forecast, predict_curve
from flopwise.fitting.forms import law_form
from flopwise.fitting.forms.curve import curves_at
from flopwise.fitting.laws import Law
from flopwise.fitting.uncertainty import PredictiveError
from tests.curve_samples import MULTI_POWER, schedule

SPREAD = PredictiveError(noise_sd=0.004, growth=0.02, log10_params_max=9.0, log10_tokens_max=11.0)
LAW = Law(id="curves", form="multi-power", constants=MULTI_POWER, spread=SPREAD)
N, TOTAL = 3e8, 1.2e10
RUN = schedule(N, TOTAL, "cosine")


def _logged(shift: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    tokens = np.linspace(2 * N, TOTAL / 2, 10)
    loss = np.asarray(law_form(LAW).curve_loss(MULTI_POWER, N, curves_at(RUN, tokens)))
    return tokens, loss * shift


def test_a_run_on_the_law_is_tracking() -> None:
    tokens, loss = _logged()
    answer = forecast(LAW, params=N, schedule=RUN, tokens=tokens, loss=loss)
    end = float(law_form(LAW).curve_loss(MULTI_POWER, N, curves_at(RUN, [TOTAL]))[0])
    assert answer.loss == pytest.approx(end)
    assert answer.tracking is True and answer.offset == pytest.approx(0.0, abs=1e-9)
    assert answer.loss_interval is not None
    assert answer.loss_interval[0] < end < answer.loss_interval[1]
    assert answer.observed == 10 and answer.total_tokens == TOTAL


def test_a_run_off_the_law_is_not_tracking() -> None:
    tokens, loss = _logged(shift=1.03)
    answer = forecast(LAW, params=N, schedule=RUN, tokens=tokens, loss=loss)
    assert answer.tracking is False
    assert answer.offset == pytest.approx(np.log(1.03))
    assert answer.adjusted_loss == pytest.approx(answer.loss * 1.03)
    assert any("not tracking" in c for c in answer.caveats)


def test_the_whole_curve_runs_from_warmup_to_the_end() -> None:
    points = predict_curve(LAW, params=N, schedule=RUN, total_tokens=TOTAL, points=16)
    assert len(points) == 16
    assert points[0]["tokens"] == pytest.approx(N) and points[-1]["tokens"] == pytest.approx(TOTAL)
    losses = [p["loss"] for p in points]
    assert losses == sorted(losses, reverse=True)  # a cosine run's loss only falls
    assert points[-1]["lr"] == pytest.approx(0.1 * RUN.peak_lr)
    assert forecast(LAW, params=N, schedule=RUN, curve=True).curve is not None


def test_without_checkpoints_it_is_the_law_alone() -> None:
    answer = forecast(LAW, params=N, schedule=RUN)
    assert answer.tracking is None and answer.adjusted_loss is None and answer.observed == 0


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"tokens": [1e9, 2e9], "loss": [3.0]}, "loss"),
        ({"tokens": [1e9, 2e13], "loss": [3.0, 2.9]}, "tokens"),
        ({"tokens": [1e9, -1.0], "loss": [3.0, 2.9]}, "tokens"),
        ({"tokens": [1e9], "loss": [float("nan")]}, "loss"),
        ({"params": -5.0}, "params"),
        ({"level": 1.5}, "level"),
    ],
)
def test_bad_checkpoints_are_refused_by_name(kwargs: dict[str, object], name: str) -> None:
    args: dict[str, object] = {"params": N, "schedule": RUN, **kwargs}
    with pytest.raises(ArgumentError) as exc:
        forecast(LAW, **args)  # type: ignore[arg-type]
    assert exc.value.name == name


def test_a_law_without_a_curve_cannot_forecast() -> None:
    chinchilla = Law(id="c", form="chinchilla", constants={
        "E": 1.7, "A": 400.0, "B": 400.0, "alpha": 0.34, "beta": 0.28})  # fmt: skip
    with pytest.raises(ArgumentError) as exc:
        forecast(chinchilla, params=N, schedule=RUN)
    assert exc.value.name == "law"

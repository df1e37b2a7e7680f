"""A law form added as one class in one module (this one), registered, and nothing else
changed: it is fittable, predictable, allocatable and served over HTTP."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import httpx
import numpy as np
import pytest

from flopwise.fitting import allocate, predict
from flopwise.fitting.fit import fit
from flopwise.fitting.forms import (
    LawForm,
    LseSpec,
    chinchilla_optimal,
    register,
    unregister,
)
from flopwise.fitting.runs import Runs
from flopwise.fitting.shape import ShapeConstraints
from flopwise.fitting.stats import golden_min
from flopwise.service.config import Settings
from tests.service.conftest import live_app, wait_for_job

NAMES = ("E", "K_N", "a_N", "K_D", "a_D")
TRUTH = {"E": 1.7, "K_N": 300.0, "a_N": 0.33, "K_D": 1500.0, "a_D": 0.36}


def toy_loss(n: Any, d: Any, *, E: Any, K_N: Any, a_N: Any, K_D: Any, a_D: Any) -> Any:
    """``L = E + K_N / N^a_N + K_D / D^a_D`` under its own constant names."""
    return E + K_N / np.power(n, a_N) + K_D / np.power(d, a_D)


class ToyPower(LawForm):
    """A toy form whose optimum is found numerically (golden section in log N)."""

    name: ClassVar[str] = "toy-power"
    constants: ClassVar[tuple[str, ...]] = NAMES
    lse: ClassVar[LseSpec | None] = LseSpec(
        "toy-power", ("params", "tokens"), ("a_N", "a_D"), ("K_N", "K_D"), NAMES
    )

    def loss(self, k: Mapping[str, Any], *, params: Any, tokens: Any, **inputs: Any) -> Any:
        return toy_loss(params, tokens, **{name: k[name] for name in NAMES})

    def frontier(self, law: Any, flops: np.ndarray, constraints: ShapeConstraints) -> Any:
        k = law.constants

        def loss(log_n: np.ndarray) -> np.ndarray:
            return np.asarray(
                self.loss(k, params=np.exp(log_n), tokens=flops / (6 * np.exp(log_n)))
            )

        n = np.exp(golden_min(loss, np.log(flops) / 2 - 12.0, np.log(flops) / 2 + 6.0))
        return n, flops / (6 * n), loss(np.log(n)), None


@pytest.fixture
def toy_form() -> Iterator[str]:
    register(ToyPower)
    try:
        yield ToyPower.name
    finally:
        unregister(ToyPower.name)


def _runs() -> Runs:
    params = np.repeat([2e7, 5e7, 1.2e8, 3e8, 7e8], 3)
    tokens = params * np.tile([8.0, 25.0, 80.0], 5)
    rng = np.random.default_rng(11)
    loss = toy_loss(params, tokens, **TRUTH) * np.exp(rng.normal(0.0, 0.002, params.size))
    run = np.array([f"m{p:.0e}" for p in params], dtype=object)
    return Runs(params=params, tokens=tokens, loss=loss, run=run)


def _truth_optimum(flops: float) -> float:
    n, _ = chinchilla_optimal(
        flops, A=TRUTH["K_N"], B=TRUTH["K_D"], alpha=TRUTH["a_N"], beta=TRUTH["a_D"]
    )
    return float(n)


def test_toy_form_fits_predicts_and_allocates(toy_form: str) -> None:
    report = fit(_runs(), form=toy_form, law_id="toy", bootstrap=8, workers=1)
    assert report.success, report.message
    law = report.law
    assert law is not None and law.form == toy_form and set(law.constants) == set(NAMES)
    assert law.constants["a_N"] == pytest.approx(TRUTH["a_N"], abs=0.03)
    point = predict(law, params=1e9, tokens=2e10)
    assert point.loss == pytest.approx(toy_loss(1e9, 2e10, **TRUTH), rel=0.01)
    assert point.loss_interval is not None
    answer = allocate(law, 1e21)
    assert answer.params == pytest.approx(_truth_optimum(1e21), rel=0.25)
    assert answer.loss_interval is not None and answer.shape is not None


def test_toy_form_served_over_http(toy_form: str, tmp_path: Path) -> None:
    runs = _runs()
    rows = [
        {"dataset": "toyd", "run": str(r), "params": float(p), "tokens": float(t), "loss": float(x)}
        for r, p, t, x in zip(runs.run, runs.params, runs.tokens, runs.loss, strict=True)
    ]
    settings = Settings(
        data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'toy.db'}", api_key=None
    )
    with live_app(settings) as url, httpx.Client(base_url=url, timeout=60) as http:
        assert http.post("/v1/runs", json={"runs": rows}).status_code in (200, 201)
        body = {"dataset": "toyd", "form": toy_form, "options": {"bootstrap": 8}}
        accepted = http.post("/v1/fits", json=body)
        assert accepted.status_code == 202, accepted.text
        job = wait_for_job(http, accepted.json()["job_id"], timeout=300)
        assert job["status"] == "succeeded", job
        law = http.get("/v1/laws/toyd-toy-power").json()
        assert law["form"] == toy_form
        got = http.post(
            "/v1/predict", json={"law": "toyd-toy-power", "params": 1e9, "tokens": 2e10}
        )
        assert got.status_code == 200, got.text
        assert got.json()["loss"] == pytest.approx(toy_loss(1e9, 2e10, **TRUTH), rel=0.01)
        plan = http.post("/v1/allocate", json={"flops": 1e21, "law": "toyd-toy-power"})
        assert plan.status_code == 200, plan.text
        assert plan.json()["params"] == pytest.approx(_truth_optimum(1e21), rel=0.25)
        bad = http.post("/v1/fits", json={**body, "form": "no-such-form"})
        assert bad.status_code == 422 and "form" in bad.text

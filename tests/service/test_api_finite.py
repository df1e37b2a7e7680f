"""Inputs that were 500s (issue 24): a target loss so high that no token is needed, and a
fit holding a constant at NaN, Infinity or 1e309 (PostgreSQL cannot store them in the
job's JSON payload; SQLite stored NaN). Each is a 422 naming the field now, on SQLite and
PostgreSQL alike."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.service.synthetic import synthetic_runs

OVERSPEND = {
    "law": "gemstones-2025",
    "throughput": "gemstones-mi250x",
    "width": 1024,
    "depth": 28,
    "n_gpus": 64,
    "constraints": {"max_width": 8192, "max_depth": 160},
}


@pytest.mark.parametrize("target_loss", ["1e200", "1e300", "99.99"])
def test_overspend_for_a_loss_under_one_token_is_a_422(
    client: httpx.Client, target_loss: str
) -> None:
    body = json.dumps(OVERSPEND)[:-1] + f', "target_loss": {target_loss}}}'
    r = client.post("/v1/overspend", content=body, headers={"content-type": "application/json"})
    if target_loss == "99.99":  # within the schema's 100 nats, still thousands of tokens
        assert r.status_code == 200, r.text
        return
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "target_loss"]
    # the connection survives (a 500 from an exception used to drop it)
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e309", "1e19"])
def test_a_fit_holding_a_constant_at_a_non_finite_value_is_a_422(
    client: httpx.Client, value: str
) -> None:
    runs = client.post("/v1/runs", json={"runs": synthetic_runs("finite"), "refit": False})
    assert runs.status_code == 200, runs.text
    body = '{"dataset": "finite", "options": {"fix": {"E": ' + value + "}}}"
    r = client.post("/v1/fits", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "options", "fix", "E"]
    assert client.get("/v1/jobs", params={"kind": "refit"}).json()["count"] == 0
    fine = client.post("/v1/fits", json={"dataset": "finite", "options": {"fix": {"E": 1.8}}})
    assert fine.status_code == 202, fine.text

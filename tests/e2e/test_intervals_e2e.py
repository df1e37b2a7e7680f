"""``flopwise serve`` as a user runs it with repeated data: runs carrying ``epochs`` refit
the data-constrained form, and one ``/v1/predict`` list answers many points of the new
law with intervals at the asked ``level`` (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.e2e.conftest import ServerProcess
from tests.e2e.helpers import wait_job
from tests.service.synthetic import repeated_runs

pytestmark = pytest.mark.slow


def test_repeated_data_refit_and_batch_prediction(
    flopwise_server: Callable[..., ServerProcess], e2e_store: dict[str, str]
) -> None:
    server = flopwise_server(env=e2e_store)
    with httpx.Client(base_url=server.url, timeout=60) as http:
        r = http.post("/v1/runs", json={"runs": repeated_runs("c4e2e")})
        assert r.status_code == 200, r.text
        job = wait_job(server.url, r.json()["refit_jobs"]["c4e2e"])
        assert job["status"] == "succeeded", job
        assert job["result"] == {"law_id": "c4e2e-data-constrained", "version": 1}
        points = [
            {"law": "c4e2e-data-constrained", "params": 2e8, "tokens": 4e9 * k,
             "unique_tokens": 1e9, "level": 0.8}
            for k in (1, 2, 4)
        ]  # fmt: skip
        r = http.post("/v1/predict", json=points)
        assert r.status_code == 200, r.text
        answers = r.json()
        assert [a["tokens"] for a in answers] == [4e9, 8e9, 1.6e10]
        for a in answers:
            assert a["level"] == 0.8
            assert a["loss_interval"][0] < a["loss"] < a["loss_interval"][1]
        run = {"dataset": "x", "run": "r", "params": 1e8, "tokens": 1e9, "loss": 3.0}
        bad = http.post("/v1/runs", json={"runs": [{**run, "unique_tokens": 2e9}]})
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["loc"] == ["body", "runs", 0, "unique_tokens"]

"""Loss curves over HTTP (docs/laws.md §21): runs posted with their LR and schedule are
stored and returned (JSON and CSV), a curve law fitted on every checkpoint is published,
``/v1/predict`` answers under a schedule (with the curve), and
``POST /v1/runs/{dataset}/{run}/forecast`` forecasts a stored run; bad input is a 422
naming the field."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from flopwise.fitting.checks import known_fields
from flopwise.fitting.forecast import forecast
from flopwise.fitting.laws import Law, from_dict
from flopwise.fitting.schedules import schedule_from_dict
from tests.curve_samples import curve_records, schedule
from tests.service.conftest import wait_for_job

DATASET = "curves"
RUN = "2e+08-40x-cosine"


def _posted(client: httpx.Client) -> list[dict[str, Any]]:
    rows = [{"dataset": DATASET, **r} for r in curve_records(form="tissue", noise=0.001)]
    answer = client.post("/v1/runs", json={"runs": rows, "refit": False})
    assert answer.status_code == 200, answer.text
    return rows


def _fitted(client: httpx.Client) -> dict[str, Any]:
    job = client.post("/v1/fits", json={"dataset": DATASET, "form": "tissue"})
    assert job.status_code == 202, job.text
    done = wait_for_job(client, job.json()["job_id"], timeout=120)
    assert done["status"] == "succeeded", done
    return dict(client.get(f"/v1/laws/{DATASET}-tissue").json())


def test_curves_are_stored_fitted_and_forecast(client: httpx.Client) -> None:
    rows = _posted(client)
    stored = client.get("/v1/runs", params={"dataset": DATASET, "run": RUN, "limit": 100}).json()
    mine = [r for r in rows if r["run"] == RUN]
    assert [r["lr"] for r in stored["data"]] == pytest.approx([r["lr"] for r in mine])
    assert stored["data"][0]["schedule"]["kind"] == "cosine"
    assert schedule_from_dict(stored["data"][0]["schedule"]) == schedule(2e8, 8e9, "cosine")

    law = _fitted(client)
    assert law["form"] == "tissue" and law["reads_schedule"] is True
    plot = client.get(f"/v1/laws/{DATASET}-tissue/plot.png")
    assert plot.status_code in (200, 422), plot.text  # no frontier to draw: never a 500
    s = schedule(2e8, 8e9, "cosine").to_dict()
    body = {"law": f"{DATASET}-tissue", "params": 2e8, "tokens": 8e9, "schedule": s, "curve": True}
    answer = client.post("/v1/predict", json=body).json()
    assert answer["loss"] == pytest.approx(mine[-1]["loss"], rel=0.01)
    assert len(answer["curve"]) == 64

    half = client.post(f"/v1/runs/{DATASET}/{RUN}/forecast", json={}).json()
    fitted = from_dict(known_fields(Law, client.get(f"/v1/laws/{DATASET}-tissue").json()))
    expected = forecast(fitted, params=2e8, schedule=schedule(2e8, 8e9, "cosine"),
                        tokens=[r["tokens"] for r in mine], loss=[r["loss"] for r in mine])  # fmt: skip
    assert half["loss"] == pytest.approx(expected.loss)
    assert half["tracking"] is True and half["observed"] == len(mine)
    assert (half["dataset"], half["run"]) == (DATASET, RUN)
    off = [{"tokens": r["tokens"], "loss": r["loss"] * 1.05} for r in mine[:6]]
    shifted = client.post(f"/v1/runs/{DATASET}/{RUN}/forecast", json={"observations": off})
    assert shifted.json()["tracking"] is False
    assert any("not tracking" in c for c in shifted.json()["caveats"])


def test_a_csv_table_carries_lr_and_schedule_columns(client: httpx.Client) -> None:
    table = (
        "run,params,tokens,loss,lr,schedule,peak_lr,warmup_tokens,decay_tokens,total_tokens\n"
        "a,1e8,2e9,3.1,1e-3,wsd,1e-3,1e8,4e8,4e9\n"
        "a,1e8,4e9,2.9,0,wsd,1e-3,1e8,4e8,4e9\n"
    )
    sent = client.post("/v1/runs?dataset=table-curves&refit=false", content=table,
                       headers={"content-type": "text/csv"})  # fmt: skip
    assert sent.status_code == 200, sent.text
    stored = client.get("/v1/runs", params={"dataset": "table-curves"}).json()["data"]
    assert [r["lr"] for r in stored] == [1e-3, 0.0]
    assert stored[0]["schedule"]["kind"] == "wsd" and stored[0]["schedule"]["decay_tokens"] == 4e8
    bad = table.replace("wsd,1e-3,1e8,4e8", "wsd,-1,1e8,4e8", 1)
    refused = client.post("/v1/runs?dataset=table-curves", content=bad,
                          headers={"content-type": "text/csv"})  # fmt: skip
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["column"] == "peak_lr"


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/v1/runs", {"runs": [{"dataset": "x", "run": "a", "params": 1e8, "tokens": 1e9,
                                "loss": 3.0, "lr": -1.0}]}, ["body", "runs", 0, "lr"]),
        ("/v1/runs", {"runs": [{"dataset": "x", "run": "a", "params": 1e8, "tokens": 1e9,
                                "loss": 3.0, "schedule": {"kind": "wsd", "peak_lr": 1e-3}}]},
         ["body", "runs", 0, "schedule"]),
        ("/v1/predict", {"law": "epoch-2024", "params": 1e8, "tokens": 1e9,
                         "schedule": {"kind": "cosine", "peak_lr": 1e-3}}, ["body", "schedule"]),
        ("/v1/predict", {"law": "epoch-2024", "params": 1e8, "tokens": 1e9,
                         "schedule": {"kind": "step", "peak_lr": 1e-3}},
         ["body", "schedule", "kind"]),
        ("/v1/runs/curves/none/forecast", {"law": "epoch-2024", "params": 1e8,
                                           "schedule": {"kind": "constant", "peak_lr": 1e-3},
                                           "observations": []}, ["body", "law"]),
    ],
)  # fmt: skip
def test_bad_curve_input_is_a_422_naming_the_field(
    client: httpx.Client, path: str, body: dict[str, Any], loc: list[Any]
) -> None:
    answer = client.post(path, json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == loc


def test_forecasting_an_unknown_run_is_404(client: httpx.Client) -> None:
    assert client.post("/v1/runs/curves/nobody/forecast", json={}).status_code == 404

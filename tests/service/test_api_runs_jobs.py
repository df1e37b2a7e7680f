"""Runs, refits and jobs over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.service.conftest import SettingsFactory, live_app, wait_for_job
from tests.service.synthetic import TRUTH, synthetic_runs


def test_ingest_list_and_paginate(client: httpx.Client) -> None:
    runs = synthetic_runs("alpha")
    r = client.post("/v1/runs", json={"runs": runs})
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["received"], out["inserted"], out["duplicates"]) == (25, 25, 0)
    assert set(out["refit_jobs"]) == {"alpha"}
    again = client.post("/v1/runs", json={"runs": runs[:5]}).json()
    assert (again["inserted"], again["duplicates"], again["refit_jobs"]) == (0, 5, {})
    page = client.get("/v1/runs", params={"dataset": "alpha", "limit": 10, "offset": 20}).json()
    assert page["count"] == 25 and len(page["data"]) == 5
    assert [row["tokens"] for row in page["data"]] == [r["tokens"] for r in runs[20:]]
    one = client.get("/v1/runs", params={"dataset": "alpha", "run": runs[0]["run"]}).json()
    assert one["count"] == 5
    assert client.get("/v1/runs", params={"dataset": "nothing"}).json()["count"] == 0


def test_a_batch_can_decline_the_refit(client: httpx.Client) -> None:
    out = client.post("/v1/runs", json={"runs": synthetic_runs("zeta"), "refit": False}).json()
    assert out["inserted"] == 25 and out["refit_jobs"] == {}
    assert client.get("/v1/jobs", params={"kind": "refit"}).json()["count"] == 0


def test_new_runs_queue_one_debounced_refit_that_publishes(client: httpx.Client) -> None:
    runs = synthetic_runs("beta")
    first = client.post("/v1/runs", json={"runs": runs[:10]}).json()["refit_jobs"]["beta"]
    second = client.post("/v1/runs", json={"runs": runs[10:]}).json()["refit_jobs"]["beta"]
    assert first == second  # one refit for both batches
    job = wait_for_job(client, first)
    assert job["status"] == "succeeded", job
    assert job["result"] == {"law_id": "beta-chinchilla", "version": 1}
    law = client.get("/v1/laws/beta-chinchilla").json()
    assert law["builtin"] is False and law["dataset"] == "beta"
    assert law["constants"]["alpha"] == pytest.approx(TRUTH["alpha"], abs=0.15)
    assert law["fit"]["report"]["n_runs"] == 25 and law["fit"]["job_id"] == first
    out = client.post("/v1/allocate", json={"flops": 1e20, "law": "beta-chinchilla@1"}).json()
    assert out["law"] == {"id": "beta-chinchilla", "version": 1}
    assert client.get("/healthz").json()["laws"]["beta-chinchilla"] == 1
    assert any(item["id"] == "beta-chinchilla" for item in client.get("/v1/laws").json()["data"])
    png = client.get("/v1/laws/beta-chinchilla/plot.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    # more data: a second version; version 1 stays answerable
    more = [dict(r, run=r["run"] + "-b", loss=r["loss"] * 1.01) for r in runs]
    job2 = client.post("/v1/runs", json={"runs": more}).json()["refit_jobs"]["beta"]
    assert wait_for_job(client, job2)["result"] == {"law_id": "beta-chinchilla", "version": 2}
    deadline = time.monotonic() + 5
    while (
        client.post("/v1/allocate", json={"flops": 1e20, "law": "beta-chinchilla"}).json()["law"][
            "version"
        ]
        != 2
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert (
        client.post("/v1/allocate", json={"flops": 1e20, "law": "beta-chinchilla@1"}).status_code
        == 200
    )
    assert client.get("/v1/laws/beta-chinchilla").json()["versions"] == [1, 2]


def test_fits_endpoint_and_failed_fits_publish_nothing(client: httpx.Client) -> None:
    assert client.post("/v1/fits", json={"dataset": "gamma"}).status_code == 422  # no runs yet
    one_size = [r for r in synthetic_runs("gamma") if r["params"] == 3e7]
    client.post("/v1/runs", json={"runs": one_size})
    r = client.post(
        "/v1/fits", json={"dataset": "gamma", "form": "chinchilla", "options": {"search": "staged"}}
    )
    assert r.status_code == 202 and r.json()["status"] == "queued"
    job = wait_for_job(client, r.json()["job_id"])
    assert job["status"] == "failed" and job["error"]
    assert job["attempts"] == 1  # bad data is not retried
    assert client.get("/v1/laws/gamma-chinchilla").status_code == 404
    for body, field in (
        ({"dataset": "gamma", "form": "kaplan"}, "form"),
        ({"dataset": "gamma", "method": "approach1"}, "form"),
        ({"dataset": "gamma", "options": {"bootstrap": 10**6}}, "bootstrap"),
        ({"dataset": "gamma", "options": {"workers": 8}}, "workers"),
        ({"dataset": "bad name"}, "dataset"),
    ):
        r = client.post("/v1/fits", json=body)
        assert r.status_code == 422 and field in r.json()["detail"][0]["loc"], (body, r.text)


def test_a_fit_names_its_family_and_refits_keep_it(client: httpx.Client) -> None:
    runs = synthetic_runs("eps")
    first = client.post("/v1/runs", json={"runs": runs}).json()["refit_jobs"]["eps"]
    assert wait_for_job(client, first)["status"] == "succeeded"  # the default family
    family = {"head_dim": 64, "kv_group": 1, "vocab_size": 256, "seq_len": 512}
    r = client.post("/v1/fits", json={"dataset": "eps", "options": {"family": family}})
    assert r.status_code == 202, r.text
    assert wait_for_job(client, r.json()["job_id"])["result"]["version"] == 2
    more = [dict(r, run=r["run"] + "-b") for r in runs]
    auto = client.post("/v1/runs", json={"runs": more}).json()["refit_jobs"]["eps"]
    assert wait_for_job(client, auto)["result"] == {"law_id": "eps-chinchilla", "version": 3}
    for version in (2, 3):
        law = client.get(f"/v1/laws/eps-chinchilla@{version}").json()
        assert {k: law["family"][k] for k in family} == family
    shape = client.post("/v1/allocate", json={"flops": 1e18, "law": "eps-chinchilla"}).json()[
        "shape"
    ]
    assert shape["head_dim"] == 64 and shape["n_heads"] == shape["n_kv_heads"]
    bad = client.post("/v1/fits", json={"dataset": "eps", "options": {"family": {"head_dim": 0}}})
    assert bad.status_code == 422 and "head_dim" in bad.json()["detail"][0]["loc"]


def test_identical_queued_fit_requests_share_a_job(make_settings: SettingsFactory) -> None:
    with live_app(make_settings(), start_workers=False) as url, httpx.Client(base_url=url) as http:
        http.post("/v1/runs", json={"runs": synthetic_runs("delta")})
        body = {"dataset": "delta", "form": "chinchilla", "options": {"search": "staged"}}
        first = http.post("/v1/fits", json=body).json()["job_id"]
        assert http.post("/v1/fits", json=body).json()["job_id"] == first
        other = http.post("/v1/fits", json={**body, "options": {"search": "full"}}).json()["job_id"]
        assert other != first
        queued = http.get("/v1/jobs", params={"status": "queued", "kind": "refit"}).json()
        assert {first, other} <= {job["id"] for job in queued["data"]}


def test_a_new_version_reaches_another_replica(make_settings: SettingsFactory) -> None:
    """Two app instances on one store: one runs the worker, the other only serves."""
    settings = make_settings()
    with (
        live_app(settings) as url_a,
        live_app(settings, start_workers=False) as url_b,
        httpx.Client(base_url=url_a) as a,
        httpx.Client(base_url=url_b) as b,
    ):
        job = a.post("/v1/runs", json={"runs": synthetic_runs("eps")}).json()["refit_jobs"]["eps"]
        assert b.get(f"/v1/jobs/{job}").status_code == 200  # same queue
        assert wait_for_job(b, job)["status"] == "succeeded"
        deadline = time.monotonic() + 10 * settings.law_poll_seconds + 2
        while (
            b.post("/v1/allocate", json={"flops": 1e20, "law": "eps-chinchilla"}).status_code != 200
        ):
            assert time.monotonic() < deadline, "replica B never saw the new law"
            time.sleep(0.05)


def test_calibration_without_the_trainer_is_409(
    make_settings: SettingsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    settings = make_settings(allow_calibrations=True)
    with live_app(settings, start_workers=False) as url, httpx.Client(base_url=url) as http:
        body = {"dataset": "calib", "flops": 1e17, "time_cap_hours": 1}
        r = http.post("/v1/calibrations", json=body)
        assert r.status_code == 409 and "flopwise[train]" in r.json()["detail"]


def test_calibration_requests_are_checked_before_anything_runs(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings(allow_calibrations=True)
    with live_app(settings, start_workers=False) as url, httpx.Client(base_url=url) as http:
        base = {"dataset": "calib", "flops": 1e17, "time_cap_hours": 0.5, "device": "cpu"}
        two = http.post("/v1/calibrations", json={**base, "gpu_hours": 3})
        assert two.status_code == 422 and "gpu_hours" in two.json()["detail"][0]["loc"]
        gpu = http.post(
            "/v1/calibrations", json={**base, "flops": None, "gpu_hours": 3, "gpu": "z"}
        )
        assert gpu.status_code == 422 and "gpu" in gpu.json()["detail"][0]["loc"]
        runs = http.post("/v1/calibrations", json={**base, "evals": 0})
        assert runs.status_code == 422 and "evals" in runs.json()["detail"][0]["loc"]
        assert http.get("/v1/jobs", params={"kind": "calibration"}).json()["count"] == 0

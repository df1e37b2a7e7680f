"""Intervals and repeated data over HTTP: ``level`` on every query, ``/v1/predict`` lists,
``unique_tokens``/``epochs`` on runs, and the data-constrained refit they trigger."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flopwise.fitting.catalogue import builtin
from tests.service.conftest import wait_for_job
from tests.service.synthetic import repeated_runs
from tests.service.test_api_fuzz import body_for, check, post

POINT = {"params": 1e9, "tokens": 2e10}


def test_level_sets_every_interval_and_is_checked(query_client: httpx.Client) -> None:
    narrow = query_client.post("/v1/predict", json={**POINT, "level": 0.5}).json()
    wide = query_client.post("/v1/predict", json={**POINT, "level": 0.99}).json()
    assert (narrow["level"], wide["level"]) == (0.5, 0.99)
    assert wide["loss_interval"][0] < narrow["loss_interval"][0] < narrow["loss"]
    assert narrow["curve_interval"][0] > narrow["loss_interval"][0]  # a new run scatters more
    default = query_client.post("/v1/allocate", json={"flops": 1e22}).json()
    assert default["level"] == 0.9 and default["curve_interval"] is not None
    assert default["loss_interval"][0] < default["curve_interval"][0]
    path = query_client.post(
        "/v1/frontier", json={"flops_min": 1e20, "flops_max": 1e24, "points": 3, "level": 0.8}
    ).json()
    widths = [p["loss_interval"][1] / p["loss_interval"][0] for p in path["points"]]
    assert path["level"] == 0.8 and widths == sorted(widths)  # wider further out
    for endpoint, body in (
        ("/v1/predict", POINT),
        ("/v1/allocate", {"flops": 1e22}),
        ("/v1/frontier", {"flops": [1e22]}),
    ):
        for bad in (0, 1, 1.5, -0.2):
            r = query_client.post(endpoint, json={**body, "level": bad})
            assert r.status_code == 422, r.text
            assert r.json()["detail"][0]["loc"] == ["body", "level"]


def test_predict_takes_a_list_and_answers_in_order(query_client: httpx.Client) -> None:
    points = [
        {"params": 1e9, "tokens": 2e10},
        {"law": "gemstones-2025", "width": 1024, "depth": 28, "tokens": 3.5e11, "level": 0.8},
        {"params": 1e8, "tokens": 2e9},
    ]
    r = query_client.post("/v1/predict", json=points)
    assert r.status_code == 200, r.text
    answers = r.json()
    assert [a["law"]["id"] for a in answers] == ["epoch-2024", "gemstones-2025", "epoch-2024"]
    assert answers[1]["level"] == 0.8
    single = query_client.post("/v1/predict", json=points[2]).json()
    assert answers[2] == single
    muennighoff = query_client.post(
        "/v1/predict", json={**POINT, "law": "muennighoff-2023", "unique_tokens": 1e10}
    ).json()
    assert any("10% low" in c for c in muennighoff["caveats"])
    law_caveats = query_client.get("/v1/laws/muennighoff-2023").json()["caveats"]
    assert law_caveats and set(law_caveats) < set(muennighoff["caveats"])  # + default spread
    spread = query_client.get("/v1/laws/epoch-2024").json()["spread"]
    assert spread["source"] == "bundled (epoch-chinchilla)" and spread["growth"] > 0


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ([POINT, {"params": 1e9, "tokens": -1}], ["body", 1, "tokens"]),
        ([POINT, {**POINT, "law": "no-such-law"}], ["body", 1, "law"]),
        ([POINT, {**POINT, "level": 2}], ["body", 1, "level"]),
        ([], ["body"]),
        ("points", ["body"]),
    ],
)
def test_a_bad_point_in_a_list_is_a_422_naming_its_index(
    query_client: httpx.Client, body: Any, loc: list[Any]
) -> None:
    r = query_client.post("/v1/predict", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == loc


def test_unique_tokens_and_epochs_are_stored_and_checked(client: httpx.Client) -> None:
    base = {"dataset": "rep", "run": "a", "params": 1e8, "loss": 3.0}
    batch = [
        {**base, "tokens": 4e9, "unique_tokens": 1e9},
        {**base, "tokens": 8e9, "epochs": 4},
        {**base, "tokens": 1e10},
    ]
    r = client.post("/v1/runs", json={"runs": batch, "refit": False})
    assert r.status_code == 200, r.text
    stored = client.get("/v1/runs", params={"dataset": "rep"}).json()["data"]
    assert [s["unique_tokens"] for s in stored] == [1e9, 2e9, None]
    for bad, field in (
        ({"unique_tokens": 2e10}, "unique_tokens"),
        ({"epochs": 0.5}, "epochs"),
        ({"unique_tokens": 1e9, "epochs": 2}, "epochs"),
    ):
        r = client.post("/v1/runs", json={"runs": [{**base, "tokens": 1e10, **bad}]})
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["loc"] == ["body", "runs", 0, field]


def test_runs_with_unique_tokens_refit_the_data_constrained_form(client: httpx.Client) -> None:
    r = client.post("/v1/runs", json={"runs": repeated_runs("c4ish")})
    assert r.status_code == 200, r.text
    job = wait_for_job(client, r.json()["refit_jobs"]["c4ish"])
    assert job["status"] == "succeeded", job
    assert job["result"]["law_id"] == "c4ish-data-constrained"
    law = client.get("/v1/laws/c4ish-data-constrained").json()
    assert law["form"] == "data-constrained"
    assert law["fit"]["report"]["form_choice"].startswith("28 of 28 runs carry unique_tokens")
    assert "unique_tokens" in law["notes"]
    assert law["spread"]["source"] == "fit" and law["spread"]["noise_sd"] < 0.01
    truth = builtin("muennighoff-2023").constants
    assert law["constants"]["R_D"] == pytest.approx(truth["R_D"], rel=0.5)
    answer = client.post(
        "/v1/predict",
        json={"law": "c4ish-data-constrained", "params": 2e8, "tokens": 8e9, "unique_tokens": 1e9},
    ).json()
    assert answer["loss_interval"][0] < answer["loss"] < answer["loss_interval"][1]


def test_fuzzed_predict_lists_never_500(query_client: httpx.Client) -> None:
    points = st.lists(body_for("/v1/predict"), min_size=0, max_size=4)

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(body=points)
    def run_one(body: list[dict[str, Any]]) -> None:
        check(post(query_client, "/v1/predict", body))

    run_one()

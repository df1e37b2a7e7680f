"""Downstream metrics over HTTP (docs/laws.md §20): runs carry metrics, the automatic
refit links every score, and allocations, predictions and frontiers answer with them,
an allocation to a target score included; bad input is a 422 naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from flopwise.fitting.datasets import load_dataset
from flopwise.service.jobs.downstream_refit import link_plan
from tests.downstream_samples import metric_runs
from tests.service.conftest import SettingsFactory, live_app, wait_for_job

LAW = "tasks-chinchilla"


@pytest.fixture
def served(make_settings: SettingsFactory) -> Iterator[httpx.Client]:
    """A live app whose store holds the sample runs with metrics, refitted once."""
    settings = make_settings(refit_options={"bootstrap": 20})
    with live_app(settings) as url, httpx.Client(base_url=url, timeout=60) as http:
        out = http.post("/v1/runs", json={"runs": metric_runs()})
        assert out.status_code == 200, out.text
        job = wait_for_job(http, out.json()["refit_jobs"]["tasks"], timeout=300)
        assert job["status"] == "succeeded", job
        yield http


def _allocate(http: httpx.Client, **body: Any) -> httpx.Response:
    return http.post("/v1/allocate", json={"law": LAW, **body})


def test_runs_keep_their_metrics_and_the_refit_links_every_score(served: httpx.Client) -> None:
    page = served.get("/v1/runs", params={"dataset": "tasks", "limit": 1}).json()
    assert set(page["data"][0]["metrics"]) == {"task_bpb", "task_acc", "pile_loss", "score_acc"}
    report = served.get(f"/v1/laws/{LAW}").json()["fit"]["report"]["downstream"]
    assert {k: v["success"] for k, v in report.items()} == {"task_acc": True, "score_acc": True}
    assert report["task_acc"]["via"] == "task_bpb" and report["score_acc"]["via"] == "loss"
    links = served.post("/v1/predict", json={"law": LAW, "params": 4e8, "tokens": 8e9}).json()
    assert set(links["downstream"]) == {"task_acc", "score_acc"}  # pile_loss is a loss
    task, score = links["downstream"]["task_acc"], links["downstream"]["score_acc"]
    assert task["link"] == "sigmoid" and task["via"]["metric"] == "task_bpb"
    assert score["link"] == "exponential" and score["via"]["metric"] == "loss"
    assert score["via"]["value"] == pytest.approx(links["loss"])
    for metric in (task, score):
        lo, hi = metric["interval"]
        assert lo <= metric["value"] <= hi and metric["level"] == 0.9


def test_allocate_and_frontier_carry_the_metrics(served: httpx.Client) -> None:
    out = _allocate(served, flops=1e20).json()
    assert {"task_acc", "score_acc"} <= set(out["downstream"])
    assert out["target"] is None
    frontier = served.post("/v1/frontier", json={"law": LAW, "flops": [1e19, 1e21]}).json()
    values = [p["downstream"]["task_acc"]["value"] for p in frontier["points"]]
    assert values[0] < values[1]  # more compute, higher accuracy


def test_allocate_to_a_target_score(served: httpx.Client) -> None:
    out = _allocate(served, target={"metric": "task_acc", "value": 0.8})
    assert out.status_code == 200, out.text
    plan = out.json()
    target = plan["target"]
    assert plan["flops"] == pytest.approx(target["flops"])
    assert target["predicted"] == pytest.approx(0.8, abs=0.01)
    assert 0.0 <= target["run_probability"] <= 1.0 and target["probability"] is not None
    assert plan["downstream"]["task_acc"]["value"] == pytest.approx(0.8, abs=0.01)
    # with a budget too: the plan at that budget and the chance of reaching the score there
    bigger = _allocate(served, flops=target["flops"] * 100, target={"metric": "task_acc",
                                                                    "value": 0.8}).json()  # fmt: skip
    assert bigger["target"]["run_probability"] > target["run_probability"]
    assert bigger["target"]["flops"] == pytest.approx(target["flops"], rel=1e-6)


BAD_TARGETS: list[tuple[dict[str, Any], list[str]]] = [
    ({"target": {"metric": "mmlu_acc", "value": 0.5}}, ["body", "target", "metric"]),
    ({"target": {"metric": "task_acc", "value": 0.999}}, ["body", "target", "value"]),
    ({"target": {"metric": "task_acc", "value": "high"}}, ["body", "target", "value"]),
    ({"target": {"metric": "task_acc"}}, ["body", "target", "value"]),
    (
        {"target": {"metric": "task_acc", "value": 0.5}, "throughput": "gemstones-mi250x"},
        ["body", "target"],
    ),
]


def test_bad_targets_are_422_naming_the_field(served: httpx.Client) -> None:
    for body, loc in BAD_TARGETS:
        out = _allocate(served, **body)
        assert out.status_code == 422, (body, out.text)
        assert out.json()["detail"][0]["loc"][: len(loc)] == loc, (body, out.text)
    out = served.post("/v1/allocate", json={"target": {"metric": "task_acc", "value": 0.5}})
    assert out.status_code == 422  # the default law has no links
    assert out.json()["detail"][0]["loc"] == ["body", "target", "metric"]


@pytest.mark.parametrize(
    ("metrics", "where"),
    [
        ({"bad name!": 0.4}, "metrics"),
        ({"task_acc": "high"}, "metrics"),
        ({"task_acc": 1e9}, "metrics"),
        ({f"m{i}": 0.1 for i in range(129)}, "metrics"),
    ],
)
def test_bad_metrics_are_422_and_store_nothing(
    make_settings: SettingsFactory, metrics: dict[str, Any], where: str
) -> None:
    run = {**metric_runs()[0], "dataset": "bad", "metrics": metrics}
    with live_app(make_settings(), start_workers=False) as url, httpx.Client(base_url=url) as http:
        out = http.post("/v1/runs", json={"runs": [run]})
        assert out.status_code == 422, out.text
        assert where in out.json()["detail"][0]["loc"]
        assert http.get("/v1/runs", params={"dataset": "bad"}).json()["count"] == 0


def test_each_score_is_linked_through_its_own_task_loss() -> None:
    metrics = dict.fromkeys(["hellaswag_acc", "hellaswag_bpb", "pile_loss", "mmlu_acc",
                             "mmlu_loss", "vibes"], 0.5)  # fmt: skip
    assert link_plan(metrics) == [("hellaswag_acc", "hellaswag_bpb"), ("mmlu_acc", "mmlu_loss"),
                                  ("vibes", None)]  # fmt: skip


@pytest.mark.slow
def test_the_bundled_ladder_refits_in_the_service(make_settings: SettingsFactory) -> None:
    """The OLMo ladder posted as runs (two of its metrics): the refit links MMLU through
    its bits per byte, and the 3B 10xC run's accuracy comes back within its interval."""
    keep = ("mmlu_acc", "mmlu_bpb")
    records = load_dataset("olmo-ladder").runs.to_records()
    runs = [{**r, "dataset": "olmo-ladder", "metrics": {k: r["metrics"][k] for k in keep}}
            for r in records]  # fmt: skip
    with (
        live_app(make_settings(refit_options={"bootstrap": 10})) as url,
        httpx.Client(base_url=url, timeout=120) as http,
    ):
        out = http.post("/v1/runs", json={"runs": runs})
        assert out.status_code == 200 and out.json()["inserted"] == len(records), out.text
        job = wait_for_job(http, out.json()["refit_jobs"]["olmo-ladder"], timeout=600)
        assert job["status"] == "succeeded", job
        last = max((r for r in records if r["run"] == "3B-10xC"), key=lambda r: r["tokens"])
        answer = http.post("/v1/predict", json={"law": "olmo-ladder-chinchilla",
                                                "params": last["params"],
                                                "tokens": last["tokens"]}).json()  # fmt: skip
    mmlu = answer["downstream"]["mmlu_acc"]
    assert mmlu["via"]["metric"] == "mmlu_bpb"
    assert mmlu["interval"][0] <= last["metrics"]["mmlu_acc"] <= mmlu["interval"][1]

"""One caveat source (issue 19): every path that makes an answer (allocate with and
without a throughput model, predict, batch predict, frontier, overspend; the HTTP API
and the command line) states the same reasons to doubt it, on the same cases. The page
shows the API's caveats (tests/e2e/test_planner_browser.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from flopwise.service.cli import run
from tests.e2e.conftest import ServerProcess
from tests.e2e.helpers import wait_job

FAR = "lies outside the range epoch-2024 was fitted on"
"""epoch-2024 was fitted on 5.7e7 to 1.6e10 parameters and 2.4e8 to 3.2e11 tokens."""

CASES: list[tuple[str, str, dict[str, Any], tuple[str, ...]]] = [
    # (name, path, body, what its caveats must say)
    ("inside the fitted range", "predict",
     {"law": "epoch-2024", "params": 1e9, "tokens": 2e10}, ()),
    ("predict far out", "predict",
     {"law": "epoch-2024", "params": 1e12, "tokens": 2e13}, (f"params 1e+12 {FAR}", "tokens 2e+13")),
    ("predict at 4,000 tokens per parameter", "predict",
     {"law": "epoch-2024", "params": 1e8, "tokens": 4e11}, ("tokens per parameter is outside",)),
    ("allocate far out", "allocate",
     {"law": "epoch-2024", "flops": 1e26}, (f"budget 1e+26 {FAR}", "params", "tokens")),
    ("allocate in GPU-hours at constant MFU", "allocate",
     {"law": "epoch-2024", "gpu_hours": 1e7, "gpu": "h100", "n_gpus": 1024}, ("budget", FAR)),
    ("time-optimal plan", "allocate",
     {"law": "epoch-2024", "gpu_hours": 1e7, "gpu": "h100", "n_gpus": 1024,
      "throughput": "h100-default"}, ("params", FAR)),
    ("frontier into the far range", "frontier",
     {"law": "epoch-2024", "flops": [1e20, 1e26]}, (f"budget 1e+26 {FAR}",)),
    ("a shape's cost far off the budget", "allocate",
     {"law": "epoch-2024", "flops": 1e21, "constraints": {"max_width": 256}},
     ("costs", "x the budget")),
    ("overspend of a large shape", "overspend",
     {"law": "epoch-2024", "throughput": "h100-default", "width": 16384, "depth": 120,
      "n_gpus": 1024, "flops": 1e26}, ("params", FAR)),
]  # fmt: skip


@pytest.fixture(scope="module")
def server(flopwise_server_module: Callable[..., ServerProcess]) -> Iterator[ServerProcess]:
    yield flopwise_server_module({})


def _argv(path: str, body: dict[str, Any]) -> list[str]:
    argv = [path]
    for key, value in body.items():
        items = value.items() if isinstance(value, dict) else [(key, value)]
        for name, item in items:
            for one in item if isinstance(item, list) else [item]:
                argv += [f"--{name.replace('_', '-')}", str(one)]
    return [*argv, "--json"]


def _check(caveats: list[str], expected: tuple[str, ...], where: str) -> None:
    if not expected:
        assert not any("outside" in c for c in caveats), (where, caveats)
    for words in expected:
        assert any(words in c for c in caveats), (where, words, caveats)


@pytest.mark.parametrize(("name", "path", "body", "expected"), CASES, ids=[c[0] for c in CASES])
def test_every_path_carries_the_same_caveats(
    server: ServerProcess,
    capsys: pytest.CaptureFixture[str],
    name: str,
    path: str,
    body: dict[str, Any],
    expected: tuple[str, ...],
) -> None:
    over_http = httpx.post(f"{server.url}/v1/{path}", json=body, timeout=120)
    assert over_http.status_code == 200, over_http.text
    answer = over_http.json()
    _check(answer["caveats"], expected, f"HTTP {name}")
    capsys.readouterr()
    assert run(_argv(path, body)) == 0
    offline = json.loads(capsys.readouterr().out)
    assert offline["caveats"] == answer["caveats"], name  # one source
    if path == "predict":  # a list of points answers each with the point's own caveats
        many = httpx.post(f"{server.url}/v1/predict", json=[body, body], timeout=60).json()
        assert [a["caveats"] for a in many] == [answer["caveats"]] * 2


def test_budgets_too_small_for_any_shape_are_refused(
    server: ServerProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    for path, body, field in (
        ("allocate", {"law": "epoch-2024", "flops": 1e12}, "flops"),
        ("frontier", {"law": "epoch-2024", "flops": [1e12, 1e20]}, "flops"),
        ("frontier", {"law": "epoch-2024", "flops_min": 1e12, "flops_max": 1e20, "points": 3},
         "flops_min"),
    ):  # fmt: skip
        r = httpx.post(f"{server.url}/v1/{path}", json=body, timeout=60)
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["loc"] == ["body", field]
        assert "too small for any feasible shape" in r.json()["detail"][0]["msg"]
        capsys.readouterr()
        assert run(_argv(path, body)) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"--{field.replace('_', '-')}: " in err[0], err


def test_a_fitted_laws_own_warnings_reach_its_answers(server: ServerProcess) -> None:
    # 12 runs for 5 constants: the fit warns (fewer than 3 runs per constant), and says
    # so in every answer of the law it publishes
    runs = [
        {"dataset": "few", "run": f"{n:g}", "params": n, "tokens": d, "loss": loss}
        for n, d, loss in (
            (5e7, 1e9, 3.892), (5e7, 4e9, 3.469), (5e7, 1.6e10, 3.215),
            (1e8, 1e9, 3.675), (1e8, 4e9, 3.252), (1e8, 1.6e10, 2.998),
            (2e8, 1e9, 3.505), (2e8, 4e9, 3.082), (2e8, 1.6e10, 2.827),
            (4e8, 1e9, 3.371), (4e8, 4e9, 2.948), (4e8, 1.6e10, 2.693),
        )
    ]  # fmt: skip
    for run_ in runs:
        run_["run"] = f"{run_['params']:g}"
    assert httpx.post(f"{server.url}/v1/runs", json={"runs": runs}, timeout=30).status_code == 200
    jobs = httpx.get(f"{server.url}/v1/jobs", params={"kind": "refit", "limit": 1}).json()
    job = wait_job(server.url, jobs["data"][0]["id"])
    assert job["status"] == "succeeded", job
    answers = [
        httpx.post(f"{server.url}/v1/{path}", json={"law": "few-chinchilla", **body}).json()
        for path, body in (
            ("allocate", {"flops": 1e20}),
            ("predict", {"params": 1e8, "tokens": 4e9}),
            ("frontier", {"flops": [1e19, 1e20]}),
        )
    ]
    for answer in answers:
        assert any("the fit of few-chinchilla warned" in c for c in answer["caveats"]), answer

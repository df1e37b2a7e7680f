"""``/v1/allocate`` with a throughput model: every plan priced against the critical batch
(``critical_batch``), and ``max_wall_clock_hours`` answered with the cheapest GPU count
that meets it, over HTTP and the CLI alike."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.service.test_cli_allocate import flopwise

BODY = {"gpu_hours": 1e5, "throughput": "h100-default", "law": "epoch-2024"}


def test_every_hours_plan_carries_the_critical_batch(query_client: httpx.Client) -> None:
    r = query_client.post("/v1/allocate", json={**BODY, "n_gpus": 64})
    assert r.status_code == 200, r.text
    c = r.json()["critical_batch"]
    assert c["b_noise_source"].startswith("zhang-2024 at")
    assert c["plan"]["n_gpus"] == 64
    assert c["extra_tokens"] == pytest.approx(
        r.json()["tokens"] * c["plan"]["batch_tokens"] / c["b_noise_tokens"]
    )
    assert c["largest_useful_gpus"] >= 1 and c["deadline"] is None
    assert len(c["points"]) > 3


def test_deadline_plan_over_http_and_cli(query_client: httpx.Client) -> None:
    body = {**BODY, "max_wall_clock_hours": 100, "b_noise_tokens": 3e7}
    api = query_client.post("/v1/allocate", json=body)
    assert api.status_code == 200, api.text
    deadline = api.json()["critical_batch"]["deadline"]
    assert deadline["met"] and deadline["point"]["wall_clock_hours"] <= 100
    assert api.json()["critical_batch"]["b_noise_source"] == "given"
    cli = flopwise(
        "allocate",
        "--gpu-hours",
        "1e5",
        "--throughput",
        "h100-default",
        "--law",
        "epoch-2024",
        "--max-wall-clock-hours",
        "100",
        "--b-noise-tokens",
        "3e7",
        "--json",
    )
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout) == api.json()


def test_an_impossible_deadline_is_answered_with_the_reason(query_client: httpx.Client) -> None:
    r = query_client.post("/v1/allocate", json={**BODY, "max_wall_clock_hours": 0.01})
    assert r.status_code == 200, r.text
    deadline = r.json()["critical_batch"]["deadline"]
    assert deadline["met"] is False and deadline["point"] is None
    assert deadline["reason"] in r.json()["warnings"]


@pytest.mark.parametrize("field", ["max_wall_clock_hours", "b_noise_tokens"])
def test_without_a_throughput_model_is_422_naming_the_field(
    query_client: httpx.Client, field: str
) -> None:
    r = query_client.post("/v1/allocate", json={"flops": 1e21, field: 10.0})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][-1] == field
    bad = query_client.post("/v1/allocate", json={**BODY, field: -1})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == field

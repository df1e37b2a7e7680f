"""Throughput surfaces over a live server and the real CLI: /v1/throughput, time-optimal
/v1/allocate, /v1/overspend (+ plot), stored models, and the bad-input contract."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import httpx
import pytest

from flopwise.fitting.throughput.fit import gemstones_step_times
from flopwise.service.store.published import PublishResult
from tests.service.conftest import SettingsFactory, live_app, wait_for_job
from tests.service.publishing import publish_model, writing

GEMSTONES_TIME = {
    "law": "gemstones-2025",
    "throughput": "gemstones-mi250x",
    "gpu_hours": 1e4,
    "n_gpus": 256,
    "price_per_gpu_hour": 2.0,
    "constraints": {"max_width": 8192, "max_depth": 160},
}


def loc_of(response: httpx.Response) -> list[Any]:
    assert response.status_code == 422, response.text
    return list(response.json()["detail"][0]["loc"])


def flopwise(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flopwise.service", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_throughput_catalogue(query_client: httpx.Client) -> None:
    listed = query_client.get("/v1/throughput").json()
    ids = {m["id"] for m in listed["data"]}
    assert ids == {"gemstones-mi250x", "h100-default", "a100-default"}
    one = query_client.get("/v1/throughput/gemstones-mi250x@1").json()
    assert one["builtin"] and one["gpu"] == "mi250x-gcd"  # one of the package's two dies
    assert one["domain"]["width"] == [256.0, 3072.0]
    assert one["diagnostics"]["n_shapes"] == 22
    assert query_client.get("/v1/throughput/tpu-v9").status_code == 404


def test_time_optimal_allocate(query_client: httpx.Client) -> None:
    r = query_client.post("/v1/allocate", json=GEMSTONES_TIME)
    assert r.status_code == 200, r.text
    out = r.json()
    fast, lean = out["time_optimal"], out["flop_optimal"]
    assert out["shape"] == fast["shape"] and out["loss"] == fast["loss"]
    assert out["throughput"] == {"id": "gemstones-mi250x", "version": 1}
    assert fast["shape"]["width"] > lean["shape"]["width"]
    assert fast["loss"] < lean["loss"]
    for plan in (fast, lean):
        assert plan["gpu_hours"] == pytest.approx(1e4)
        assert plan["wall_clock_hours"] == pytest.approx(1e4 / 256)
        assert plan["dollars"] == pytest.approx(2e4)
    assert out["cost"]["gpu_hours"] == pytest.approx(1e4)
    assert not any("constant MFU" in w for w in out["warnings"])


def test_without_a_throughput_model_the_answer_says_constant_mfu(
    query_client: httpx.Client,
) -> None:
    out = query_client.post("/v1/allocate", json={"gpu_hours": 1e4, "gpu": "h100"}).json()
    assert any("constant MFU of 0.4" in w for w in out["warnings"])
    assert out["time_optimal"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"throughput": "tpu-v9"}, "throughput"),
        ({"n_gpus": 0}, "n_gpus"),
        ({"n_gpus": None}, "n_gpus"),
        ({"n_gpus": None, "deadline_hours": 1e-7, "gpu_hours": 1e-5}, "deadline_hours"),
        ({"gpu": "h100"}, "gpu"),
        ({"gpu": "tpu9"}, "gpu"),
        ({"gpu_hours": None, "flops": 1e21}, "flops"),
        ({"law": "porian-2024"}, "law"),
    ],
)
def test_time_optimal_bad_input_is_a_422_naming_the_field(
    query_client: httpx.Client, change: dict[str, Any], field: str
) -> None:
    body = {k: v for k, v in {**GEMSTONES_TIME, **change}.items() if v is not None}
    assert field in loc_of(query_client.post("/v1/allocate", json=body))


def test_overspend_and_its_plot(query_client: httpx.Client) -> None:
    body = {
        "law": "gemstones-2025",
        "throughput": "gemstones-mi250x",
        "width": 256,
        "depth": 80,
        "target_loss": 3.2,
        "n_gpus": 128,
    }
    r = query_client.post("/v1/overspend", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["gpu_hours_overspend"] > 2 * out["flops_overspend"] > 2
    assert out["time_optimal"]["width"] > out["flop_optimal"]["width"]
    assert "width" in loc_of(query_client.post("/v1/overspend", json={**body, "width": 300}))
    unreachable = {**body, "target_loss": 2.5}
    assert "target_loss" in loc_of(query_client.post("/v1/overspend", json=unreachable))
    assert "law" in loc_of(query_client.post("/v1/overspend", json={**body, "law": "nope"}))
    png = query_client.get(
        "/v1/overspend/plot.png",
        params={"throughput": "gemstones-mi250x", "target_loss": 3.2, "n_gpus": 128},
    )
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    bad = query_client.get(
        "/v1/overspend/plot.png",
        params={"throughput": "gemstones-mi250x", "target_loss": 1.0, "n_gpus": 128},
    )
    assert "target_loss" in loc_of(bad)


def test_published_model_is_listed_versioned_and_answers(
    make_settings: SettingsFactory, store_url: str
) -> None:
    with writing(store_url) as session:
        assert publish_model(session, "lab-h100", "j1") == PublishResult(1, "published")
        assert publish_model(session, "lab-h100", "j1") == PublishResult(1, "repeated")
        assert publish_model(session, "lab-h100", "j2", efficiency=0.9).version == 2
    with live_app(make_settings(), start_workers=False) as url, httpx.Client(base_url=url) as http:
        listed = {m["id"]: m for m in http.get("/v1/throughput").json()["data"]}
        assert listed["lab-h100"]["version"] == 2 and listed["lab-h100"]["versions"] == [1, 2]
        assert listed["lab-h100"]["dataset"] == "lab" and not listed["lab-h100"]["builtin"]
        body = {"law": "epoch-2024", "gpu_hours": 1e5, "n_gpus": 64, "throughput": "lab-h100@1"}
        one = http.post("/v1/allocate", json=body).json()
        two = http.post("/v1/allocate", json={**body, "throughput": "lab-h100"}).json()
        assert one["throughput"] == {"id": "lab-h100", "version": 1}
        assert two["throughput"] == {"id": "lab-h100", "version": 2}
        assert two["loss"] < one["loss"]  # the faster GPU trains more tokens in the hours


def test_cli_time_optimal_and_overspend() -> None:
    result = flopwise(
        "allocate", "--gpu-hours", "1e4", "--law", "gemstones-2025",
        "--throughput", "gemstones-mi250x", "--n-gpus", "256", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["time_optimal"]["shape"]["width"] > out["flop_optimal"]["shape"]["width"]
    result = flopwise(
        "overspend", "--width", "256", "--depth", "80", "--target-loss", "3.2",
        "--n-gpus", "128", "--law", "gemstones-2025", "--throughput", "gemstones-mi250x",
        "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["gpu_hours_overspend"] > 2
    for args, words in (
        (["allocate", "--gpu-hours", "10", "--throughput", "gemstones-mi250x"], "n_gpus"),
        (["allocate", "--gpu-hours", "10", "--throughput", "tpu", "--n-gpus", "8"], "unknown"),
        (["overspend", "--width", "256", "--depth", "80", "--target-loss", "2.5",
          "--n-gpus", "8", "--law", "gemstones-2025", "--throughput", "gemstones-mi250x"],
         "never reaches"),
        (["overspend", "--width", "256", "--depth", "80", "--target-loss", "2.5",
          "--n-gpus", "8"], "--throughput"),
    ):  # fmt: skip
        bad = flopwise(*args)
        assert bad.returncode == 2
        assert words in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_refit_publishes_the_datasets_throughput_model(make_settings: SettingsFactory) -> None:
    """Runs posted with step times (Gemstones' own, 2 evaluations per model) make the
    refit publish ``<dataset>-throughput`` beside the law, fitted on those times."""
    times = gemstones_step_times()
    runs = [
        {
            "dataset": "gem",
            "run": f"{int(w)}x{int(d)}",
            "params": float(6 * w * w * d + 2 * 50304 * w),
            "tokens": tokens,
            "loss": 2.2 + 300 / (w * d) ** 0.5 + 400 / tokens**0.25,
            "width": int(w),
            "depth": int(d),
            "seconds_per_step": float(s),
            "n_gpus": int(g),
            "gpu": "mi250x",
            "tags": {"batch_tokens": "4194304"},
        }
        for w, d, g, s in zip(
            times.width, times.depth, times.n_gpus, times.seconds_per_step, strict=True
        )
        for tokens in (2e9, 2e10)
    ]
    with live_app(make_settings()) as url, httpx.Client(base_url=url, timeout=60) as http:
        posted = http.post("/v1/runs", json={"runs": runs})
        assert posted.status_code in (200, 201), posted.text
        job = wait_for_job(http, posted.json()["refit_jobs"]["gem"], timeout=300)
        assert job["status"] == "succeeded", job
        model = http.get("/v1/throughput/gem-throughput").json()
    assert model["version"] == 1 and model["dataset"] == "gem" and model["gpu"] == "mi250x"
    assert model["diagnostics"]["n_shapes"] == 22
    assert model["diagnostics"]["median_relative_error"] < 0.1

"""End-to-end calibration: a real service, a real sweep on real text, a new law, an answer.

A ``flopwise serve`` process (the e2e fixture) is asked for a calibration
(``POST /v1/calibrations``), launches the trainer as its own process and receives every
evaluation of a sweep of nine tiny transformers (three sizes spaced 4x in compute, standard / wide / deep each,
about 30k to 220k parameters at the planner's default 20 tokens per parameter) trained on
the standard library's text, refits the dataset's Chinchilla law when asked, and answers
an allocation with the new version. Budget: under 10 minutes on 2 cores.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from flopwise.fitting.counting import ArchFamily, count
from flopwise.protocol.sweep import SweepRequest
from tests.e2e.conftest import ServerProcess
from tests.e2e.helpers import all_runs, wait_job
from tests.shared_data import REPO

pytestmark = pytest.mark.slow

DATASET = "calibration-e2e"
SWEEP_FLOPS = 6e12
"""About two minutes of training at ~4e10 FLOP/s per core on 2 cores (more when shared)."""


def _calibration(http: httpx.Client, **extra: object) -> dict:
    """``POST /v1/calibrations``: the service launches ``python -m trainer sweep``."""
    body = {"dataset": DATASET, "flops": SWEEP_FLOPS, "time_cap_hours": 1.0, "device": "cpu",
            "corpus_bytes": 4_000_000, "cpu_jobs": 2, "threads": 1, **extra}  # fmt: skip
    answer = http.post("/v1/calibrations", json=body)
    assert answer.status_code == 202, answer.text
    return dict(answer.json())


def test_calibration_through_the_service(
    flopwise_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    started = time.monotonic()
    env = {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO), "FLOPWISE_ALLOW_CALIBRATIONS": "1"}
    server = flopwise_server(env=env)
    with httpx.Client(base_url=server.url, timeout=60) as http:
        job = wait_job(server.url, _calibration(http)["job_id"], timeout=3300)
        assert job["status"] == "succeeded", job["error"] or server.log_text()[-3000:]
        progress = job["progress"]
        assert progress["stage"] == "done"
        total = progress["total_runs"]
        assert total >= 6 and progress["runs_done"] == total

        # every evaluation reached the store, once per (run, tokens)
        stored = all_runs(server.url, DATASET)
        assert len(stored) == progress["evals"]
        assert len({r["run"] for r in stored}) == total
        assert len({(r["run"], r["tokens"]) for r in stored}) == len(stored)
        params = sorted({r["params"] for r in stored})
        assert params[0] > 3e4 and params[-1] < 1.5e6  # tiny models (the issue: ~50k to 1M)
        assert all(
            r["gpu"] == "cpu" and r["seconds_per_step"] > 0 and r["flops"] > 0 for r in stored
        )

        # the sweep's refit published a law with positive exponents, for the sweep's family
        law_id, version = job["result"]["law_id"], job["result"]["version"]
        assert version == 1  # the sweep's own fit; its batches queued no refit each
        law = http.get(f"/v1/laws/{law_id}@{version}").json()
        constants = law["constants"]
        assert constants["alpha"] > 0 and constants["beta"] > 0, constants
        assert law["family"]["vocab_size"] == 256  # the byte tokenizer, not Gemstones' 50,304

        # and it answers: what to train with 10x the largest run's compute
        budget = 10 * max(r["flops"] for r in stored)
        answer = http.post("/v1/allocate", json={"flops": budget, "law": f"{law_id}@{version}"})
        assert answer.status_code == 200, answer.text
        allocation = answer.json()
    assert allocation["law"] == {"id": law_id, "version": version}
    assert allocation["params"] * allocation["tokens"] * 6 == pytest.approx(budget, rel=1e-6)
    # a concrete shape of the calibrated family (not a 26M-parameter Gemstones-family model)
    shape = allocation["shape"]
    spec = ArchFamily(**law["family"]).spec(shape["width"], shape["depth"])
    assert shape["params"] == count(spec).total < 1.5e6
    elapsed = time.monotonic() - started
    print(f"\ncalibration e2e: {total} runs, {len(stored)} observations, {elapsed:.0f} s; "
          f"law {law_id}@{version} {constants}; allocate {budget:.3g} FLOPs -> "
          f"N={allocation['params']:.4g}, D={allocation['tokens']:.4g}, loss={allocation['loss']}")  # fmt: skip


def test_a_failed_sweep_fails_its_job_with_the_trainers_message(
    flopwise_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = flopwise_server(env={"PYTHONPATH": str(REPO), "FLOPWISE_ALLOW_CALIBRATIONS": "1",
                                  "FLOPWISE_CORPUS_ROOT": str(tmp_path)})  # fmt: skip
    missing = tmp_path / "no-such-corpus"
    with httpx.Client(base_url=server.url, timeout=60) as http:
        job = wait_job(server.url, _calibration(http, corpus=str(missing))["job_id"], timeout=120)
    assert job["status"] == "failed"
    assert "status 2" in job["error"] and "no-such-corpus" in job["error"], job["error"]
    assert all_runs(server.url, DATASET) == []


def test_a_sweep_option_is_declared_once() -> None:
    """The service's body, the trainer's options and the JSON one hands the other are
    ``SweepRequest``'s fields, with its defaults and descriptions."""
    from flopwise.service.schemas.jobs import CalibrationCreate
    from flopwise.trainer.commands import SweepCommand

    request = SweepRequest(dataset="d", flops=1e13, time_cap_hours=1)
    names = set(request.model_dump())
    properties = CalibrationCreate.model_json_schema()["properties"]
    assert set(properties) == names and all(p.get("description") for p in properties.values())
    body = CalibrationCreate.model_validate({"dataset": "d", "flops": 1e13, "time_cap_hours": 1})
    assert SweepRequest.model_validate(body.model_dump()) == request
    # tuple fields arrive as JSON arrays (strict validation, as the route does it)
    custom = SweepRequest(dataset="d", flops=1e13, time_cap_hours=1, aspects=("standard", "wide"),
                          slurm_options=("--qos=debug",))  # fmt: skip
    body = CalibrationCreate.model_validate(json.loads(json.dumps(custom.model_dump(mode="json"))))
    assert SweepRequest.model_validate(body.model_dump()) == custom
    assert names <= set(SweepCommand.model_fields)  # the trainer's options


def test_a_wsd_calibration_through_the_service(
    flopwise_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    """Warmup-stable-decay (docs/laws.md §21.5): the trainer posts every checkpoint with its
    LR and schedule under ``<dataset>-curves`` and each cooldown branch's final point under
    the dataset, whose loss law the sweep's fit publishes; a loss-curve law fitted on the
    curves then forecasts a branch from its stored checkpoints."""
    env = {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO), "FLOPWISE_ALLOW_CALIBRATIONS": "1"}
    server = flopwise_server(env=env)
    with httpx.Client(base_url=server.url, timeout=60) as http:
        body = {"dataset": "wsd-e2e", "flops": 6e11, "time_cap_hours": 1.0, "device": "cpu",
                "corpus_bytes": 2_000_000, "cpu_jobs": 2, "threads": 1, "sizes": 3,
                "aspects": ["standard"], "tokens_per_param": 5.0, "wsd_branches": 3}  # fmt: skip
        answer = http.post("/v1/calibrations", json=body)
        assert answer.status_code == 202, answer.text
        job = wait_job(server.url, answer.json()["job_id"], timeout=1200)
        assert job["status"] == "succeeded", job["error"] or server.log_text()[-3000:]
        grid = all_runs(server.url, "wsd-e2e")
        curves = all_runs(server.url, "wsd-e2e-curves")
        assert len(grid) == 9 and {r["lr"] for r in grid} == {0.0}
        assert {r["schedule"]["kind"] for r in curves} == {"constant", "wsd"}
        assert job["result"]["law_id"] == "wsd-e2e-chinchilla"
        fit = http.post("/v1/fits", json={"dataset": "wsd-e2e-curves", "form": "tissue"})
        assert wait_job(server.url, fit.json()["job_id"], timeout=300)["status"] == "succeeded"
        branch = grid[0]["run"]
        forecast = http.post(f"/v1/runs/wsd-e2e-curves/{branch}/forecast", json={"curve": True})
        assert forecast.status_code == 200, forecast.text
        answer = forecast.json()
        assert answer["observed"] >= 1 and answer["loss"] > 0 and len(answer["curve"]) == 64

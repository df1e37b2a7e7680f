"""Compute is never free: calibrations need a key, stay inside the operator's caps,
report to the configured URL with the key in their environment, and can be cancelled
(the trainer's whole process group stops and the job keeps what it finished).

The trainer here is a stand-in script (``trainer_command``), so no real sweep runs: it
records its argv and key, prints the trainer's JSON-lines events, starts a child of its
own and then waits to be stopped.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from flopwise.service.store import jobs as queue
from flopwise.service.store.db import open_database
from tests.service.conftest import SettingsFactory, live_app

KEY = "ключ-🔑-secret"
AUTH = {"Authorization": ("Bearer " + KEY).encode()}
BODY = {"dataset": "calib", "flops": 1e17, "time_cap_hours": 1, "device": "cpu"}

FAKE_TRAINER = """
import json, os, subprocess, sys, time
out = sys.argv[1]
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
with open(out + ".tmp", "w") as f:
    json.dump({"argv": sys.argv, "key": os.environ.get("FLOPWISE_API_KEY"),
               "pids": [os.getpid(), child.pid]}, f)
os.replace(out + ".tmp", out)
from flopwise.protocol.events import EvalEvent, PlanEvent, RunDoneEvent
plan = PlanEvent(
    sweep_id="s", dataset="calib", total_runs=4, finished_runs=0, resumed=False,
    family="gpt", budget_flops=1e17, limited_by="flops", est_wall_seconds=1.0,
    devices=["cpu"], device_kind="cpu", sweep_dir="/nonexistent", runs=[],
)
print(json.dumps(plan.to_dict()), flush=True)
for done in (1, 2):
    print(json.dumps(EvalEvent(run=f"r{done}", tokens=10**6, loss=3.0).to_dict()))
    event = RunDoneEvent(run=f"r{done}", status="done", done=done, total=4)
    print(json.dumps(event.to_dict()), flush=True)
time.sleep(600)
"""


def fake_trainer(tmp_path: Path) -> tuple[list[str], Path]:
    script = tmp_path / "fake_trainer.py"
    script.write_text(FAKE_TRAINER)
    record = tmp_path / "trainer.json"
    return [sys.executable, str(script), str(record)], record


def wait_until(what: str, check: Any, timeout: float = 60.0) -> Any:
    """Poll ``check()`` until it returns something truthy (a deadline, not a sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout} s")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie has stopped; only its parent may reap it


def test_calibrations_without_a_key_are_refused_naming_the_setting(
    make_settings: SettingsFactory,
) -> None:
    with live_app(make_settings(), start_workers=False) as url:
        r = httpx.post(url + "/v1/calibrations", json=BODY)
        assert r.status_code == 403 and "FLOPWISE_API_KEY" in r.json()["detail"]
        assert httpx.get(url + "/v1/jobs").json()["count"] == 0


def test_operator_caps_bound_hours_corpus_and_concurrent_sweeps(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    settings = make_settings(
        api_key=KEY,
        trainer_command=fake_trainer(tmp_path)[0],
        max_calibration_hours=2,
        max_corpus_bytes=1 << 20,
        max_concurrent_calibrations=1,
    )
    with live_app(settings, start_workers=False) as url, httpx.Client(base_url=url) as http:
        for field, value in (("time_cap_hours", 3), ("corpus_bytes", 2 << 20)):
            r = http.post("/v1/calibrations", json={**BODY, field: value}, headers=AUTH)
            assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", field]
        first = http.post("/v1/calibrations", json=BODY, headers=AUTH)
        assert first.status_code == 202, first.text
        second = http.post("/v1/calibrations", json=BODY, headers=AUTH)
        assert second.status_code == 409 and "CONCURRENT" in second.json()["detail"]
        cancelled = http.post(f"/v1/jobs/{first.json()['job_id']}/cancel", headers=AUTH)
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        assert http.post("/v1/calibrations", json=BODY, headers=AUTH).status_code == 202


def test_the_body_is_the_sweep_request_json_arrays_and_descriptions_included(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    settings = make_settings(api_key=KEY, trainer_command=fake_trainer(tmp_path)[0])
    with live_app(settings, start_workers=False) as url, httpx.Client(base_url=url) as http:
        schemas = http.get("/openapi.json").json()["components"]["schemas"]
        properties = schemas["CalibrationCreate"]["properties"]
        assert "aspects" in properties and all(p.get("description") for p in properties.values())
        body = {**BODY, "aspects": ["standard", "wide"], "slurm_options": ["--qos=debug"],
                "lr_grid": [1e-3, 3e-3], "batch_grid": [8, 16], "experts": 4, "top_k": 2,
                "granularities": [1, 2]}  # fmt: skip
        r = http.post("/v1/calibrations", json=body, headers=AUTH)
        assert r.status_code == 202, r.text
        payload = http.get(f"/v1/jobs/{r.json()['job_id']}").json()["payload"]
        assert payload["aspects"] == ["standard", "wide"] and payload["corpus_bytes"] == 16_000_000
        assert payload["lr_grid"] == [1e-3, 3e-3] and payload["batch_grid"] == [8, 16]
        assert (payload["experts"], payload["top_k"], payload["granularities"]) == (4, 2, [1, 2])
        for field, value in (("sizes", True), ("flops", "1e17"), ("corpus", "a\x00b"),
                             ("aspects", ["wide", "wide"]), ("sizez", 3),
                             ("lr_grid", [1e-3, 1e-3]), ("batch_grid", [0]), ("top_k", 2),
                             ("granularities", [1, 3])):  # fmt: skip
            bad = http.post("/v1/calibrations", json={**BODY, field: value}, headers=AUTH)
            assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][:2] == ["body", field]


@pytest.mark.parametrize(
    "corpus", ["../../../../etc/passwd", "/etc", "inside/../../outside", "/tmp"]
)
def test_a_corpus_outside_the_corpus_root_is_refused(
    make_settings: SettingsFactory, tmp_path: Path, corpus: str
) -> None:
    settings = make_settings(api_key=KEY, trainer_command=["true"])
    with live_app(settings, start_workers=False) as url, httpx.Client(base_url=url) as http:
        r = http.post("/v1/calibrations", json={**BODY, "corpus": corpus}, headers=AUTH)
        assert r.status_code == 422, r.text
        detail = r.json()["detail"][0]
        assert detail["loc"] == ["body", "corpus"] and "corpus root" in detail["msg"]
        ok = http.post("/v1/calibrations", json={**BODY, "corpus": "mine"}, headers=AUTH)
        assert ok.status_code == 202, ok.text  # relative: taken from the root
        job = http.get(f"/v1/jobs/{ok.json()['job_id']}", headers=AUTH).json()
        assert job["payload"]["corpus"] == str(settings.corpora / "mine")


def test_cancel_stops_the_trainer_group_and_keeps_its_progress(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    command, record = fake_trainer(tmp_path)
    settings = make_settings(
        api_key=KEY,
        trainer_command=command,
        public_url="http://127.0.0.1:9/configured",
        allowed_hosts=["evil.example"],  # let the forged Host through to the handler
    )
    with live_app(settings) as url, httpx.Client(base_url=url, timeout=30) as http:
        r = http.post("/v1/calibrations", json=BODY, headers={**AUTH, "Host": "evil.example"})
        assert r.status_code == 202, r.text
        job_id = r.json()["job_id"]
        started = wait_until("the trainer starts", lambda: record.exists() and record)
        seen = json.loads(started.read_text())
        # the URL comes from configuration, the key from the environment, never argv
        argv = seen["argv"]
        assert argv[argv.index("--service-url") + 1] == "http://127.0.0.1:9/configured"
        assert not any("evil" in a or KEY in a for a in argv) and "--api-key" not in argv
        assert seen["key"] == KEY
        wait_until(
            "two runs reported",
            lambda: http.get(f"/v1/jobs/{job_id}").json()["progress"].get("runs_done") == 2,
        )
        assert http.post(f"/v1/jobs/{job_id}/cancel").status_code == 401
        assert http.post(f"/v1/jobs/{job_id}/cancel", headers=AUTH).status_code == 200
        job = wait_until(
            "the worker records the cancelled job",
            lambda: (
                (j := http.get(f"/v1/jobs/{job_id}").json())["progress"].get("stage") == "cancelled"
                and j
            ),
        )
        assert job["status"] == "cancelled" and job["progress"]["runs_done"] == 2
        assert job["progress"]["total_runs"] == 4
        for pid in seen["pids"]:  # the trainer and the child it started
            wait_until(f"process {pid} stops", lambda pid=pid: not alive(pid), timeout=30)
        again = http.post(f"/v1/jobs/{job_id}/cancel", headers=AUTH)
        assert again.status_code == 200 and again.json()["status"] == "cancelled"
    assert os.environ.get("FLOPWISE_API_KEY") != KEY


def test_an_ended_job_cannot_be_cancelled(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    with live_app(settings, start_workers=False) as url, httpx.Client(base_url=url) as http:
        db = open_database(settings.sqlalchemy_url)
        with db.write_session() as session, session.begin():
            job_id = queue.enqueue(session, "refit", {"dataset": "d"}, max_attempts=1)
        assert queue.claim(db, "w", 30.0, ("refit",)) is not None
        with db.write_session() as session, session.begin():
            assert queue.complete(session, job_id, "w", None)
        db.dispose()
        r = http.post(f"/v1/jobs/{job_id}/cancel")
        assert r.status_code == 409 and "ended" in r.json()["detail"]
        assert http.get(f"/v1/jobs/{job_id}").json()["status"] == "succeeded"
        assert http.post("/v1/jobs/" + "0" * 32 + "/cancel").status_code == 404
        assert http.post("/v1/jobs/%00/cancel").status_code == 404


def test_reads_can_be_protected_too(make_settings: SettingsFactory) -> None:
    settings = make_settings(api_key=KEY, protect_reads=True)
    with live_app(settings, start_workers=False) as url, httpx.Client(base_url=url) as http:
        for method, path, body in (
            ("GET", "/v1/laws", None),
            ("GET", "/v1/runs", None),
            ("GET", "/v1/jobs", None),
            ("POST", "/v1/allocate", {"flops": 1e21}),
        ):
            assert http.request(method, path, json=body).status_code == 401, path
            assert http.request(method, path, json=body, headers=AUTH).status_code == 200, path
        assert http.get("/healthz").status_code == 200

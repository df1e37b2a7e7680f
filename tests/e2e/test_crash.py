"""Crashes: SIGKILL the server during ingestion, SIGKILL a worker during a fit.

Every acknowledged batch must be stored after a restart (and every batch is atomic:
all its rows or none); a job whose worker died is reclaimed after its lease expires
and publishes its law exactly once. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import pytest

from tests.e2e.conftest import ServerProcess, WorkerProcess
from tests.e2e.data import gemstones_hot
from tests.e2e.helpers import all_runs, wait_job

pytestmark = pytest.mark.slow


def _ingest_until_killed(
    url: str, writer: int, acked: list[tuple[str, int]], stop: threading.Event
) -> None:
    batch = 0
    with httpx.Client(base_url=url, timeout=10) as http:
        while not stop.is_set():
            run = f"w{writer}-b{batch}"
            rows = [
                {
                    "dataset": "crash",
                    "run": run,
                    "params": 1e8 * (1 + writer),
                    "tokens": 1e9 * (k + 1),
                    "loss": 3.0 - 0.01 * k,
                }
                for k in range(8)
            ]
            try:
                r = http.post("/v1/runs", json={"runs": rows})
            except httpx.HTTPError:
                return  # the server is gone
            if r.status_code == 200:
                acked.append((run, 8))
            batch += 1


def test_sigkill_during_ingestion_loses_no_acknowledged_run(
    flopwise_server: Callable[..., ServerProcess], e2e_store: dict[str, str]
) -> None:
    server = flopwise_server(env={**e2e_store, "FLOPWISE_REFIT_DEBOUNCE_SECONDS": "3600"})
    acked: list[tuple[str, int]] = []
    stop = threading.Event()
    writers = [
        threading.Thread(target=_ingest_until_killed, args=(server.url, i, acked, stop))
        for i in range(4)
    ]
    for t in writers:
        t.start()
    deadline = time.monotonic() + 60
    while len(acked) < 40 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill()  # mid-stream: requests are in flight
    stop.set()
    for t in writers:
        t.join(timeout=30)
    assert len(acked) >= 40, "the writers did not get going"

    server = server.restart()
    stored = all_runs(server.url, "crash")
    per_run: dict[str, int] = {}
    for row in stored:
        per_run[row["run"]] = per_run.get(row["run"], 0) + 1
    missing = [run for run, _ in acked if per_run.get(run) != 8]
    assert not missing, f"acknowledged batches lost after SIGKILL: {missing[:5]}"
    assert set(per_run.values()) == {8}, "a batch was stored in part"
    # the refit queued with those batches survived the crash too
    queued = httpx.get(f"{server.url}/v1/jobs", params={"kind": "refit", "status": "queued"}).json()
    assert [job["payload"]["dataset"] for job in queued["data"]] == ["crash"]


def test_a_dead_workers_job_is_reclaimed_and_published_once(
    flopwise_server: Callable[..., ServerProcess],
    flopwise_worker: Callable[..., WorkerProcess],
    e2e_store: dict[str, str],
) -> None:
    env = {
        **e2e_store,
        "FLOPWISE_JOB_LEASE_SECONDS": "2",
        "FLOPWISE_REFIT_DEBOUNCE_SECONDS": "3600",
    }
    server = flopwise_server(env=env, workers=0)  # the API only: jobs wait for workers
    url = server.url
    assert (
        httpx.post(f"{url}/v1/runs", json={"runs": gemstones_hot("gem")}, timeout=60).status_code
        == 200
    )
    # bootstrap draws make the fit take long enough to be caught in the middle
    body = {
        "dataset": "gem",
        "form": "chinchilla",
        "options": {"bootstrap": 40, "search": "staged"},
    }
    job_id = httpx.post(f"{url}/v1/fits", json=body).json()["job_id"]

    doomed = flopwise_worker(env)
    job = wait_job(url, job_id, until=("running", "succeeded", "failed"))
    assert job["status"] == "running" and job["worker"].split(":")[1] == str(doomed.proc.pid)
    doomed.kill()
    time.sleep(0.2)
    assert httpx.get(f"{url}/v1/jobs/{job_id}").json()["status"] == "running"  # killed mid-fit

    rescuer = flopwise_worker(env)
    job = wait_job(url, job_id, timeout=180)
    assert job["status"] == "succeeded", job
    assert job["attempts"] == 2 and job["worker"].split(":")[1] == str(rescuer.proc.pid)
    assert job["result"] == {"law_id": "gem-chinchilla", "version": 1}
    time.sleep(3)  # longer than a lease: nothing else may publish
    law = httpx.get(f"{url}/v1/laws/gem-chinchilla").json()
    assert law["versions"] == [1] and law["fit"]["job_id"] == job_id
    assert law["has_draws"] is True
    ok = httpx.post(f"{url}/v1/allocate", json={"flops": 1e21, "law": "gem-chinchilla@1"}).json()
    assert ok["loss_interval"] is not None  # bootstrap draws give an interval

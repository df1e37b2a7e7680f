"""Crashes: SIGKILL the server during ingestion, SIGKILL a worker during a fit.

Every acknowledged batch must be stored after a restart (and every batch is atomic:
all its rows or none); a job whose worker died is reclaimed after its lease expires
and publishes its law exactly once. On SQLite and PostgreSQL.

No step waits a fixed time: each waits, with a deadline, for the event it needs (enough
acknowledged batches, the killed worker's database sessions gone, the lease run out and
a later job claimed and finished).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.e2e.conftest import ServerProcess, WorkerProcess
from tests.e2e.data import gemstones_hot
from tests.e2e.helpers import all_runs, wait_job, wait_until

pytestmark = pytest.mark.slow

LEASE_SECONDS = 2.0


def _ingest_until_killed(
    url: str,
    writer: int,
    acked: list[tuple[str, int]],
    progress: threading.Condition,
    stop: threading.Event,
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
                with progress:
                    acked.append((run, 8))
                    progress.notify_all()
            batch += 1


def test_sigkill_during_ingestion_loses_no_acknowledged_run(
    flopwise_server: Callable[..., ServerProcess], e2e_store: dict[str, str]
) -> None:
    server = flopwise_server(env={**e2e_store, "FLOPWISE_REFIT_DEBOUNCE_SECONDS": "3600"})
    acked: list[tuple[str, int]] = []
    progress = threading.Condition()
    stop = threading.Event()
    writers = [
        threading.Thread(target=_ingest_until_killed, args=(server.url, i, acked, progress, stop))
        for i in range(4)
    ]
    for t in writers:
        t.start()
    with progress:  # woken by each acknowledgement
        going = progress.wait_for(lambda: len(acked) >= 40, timeout=60)
    server.kill()  # mid-stream: requests are in flight
    stop.set()
    for t in writers:
        t.join(timeout=30)
    assert going, "the writers did not get going"

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
        "FLOPWISE_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
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

    doomed = flopwise_worker(_tagged(env, "flopwise-doomed-worker"))
    job = wait_job(url, job_id, until=("running", "succeeded", "failed"))
    assert job["status"] == "running" and job["worker"].split(":")[1] == str(doomed.proc.pid)
    postgres = "FLOPWISE_DATABASE_URL" in env
    assert _sessions(env, "flopwise-doomed-worker") >= postgres  # the tag names its sessions
    doomed.kill()  # returns once the process is reaped
    # Whatever the dead worker had sent is settled once its database sessions are gone: on
    # PostgreSQL a COMMIT already received completes after the client died, so wait for the
    # server to drop the sessions; an SQLite write was committed by the dead process or never.
    wait_until(
        "the killed worker's database sessions to end",
        lambda: _sessions(env, "flopwise-doomed-worker") == 0,
        timeout=30,
    )
    assert httpx.get(f"{url}/v1/jobs/{job_id}").json()["status"] == "running"  # killed mid-fit

    rescuer = flopwise_worker(env)
    job = wait_job(url, job_id, timeout=180)
    assert job["status"] == "succeeded", job
    assert job["attempts"] == 2 and job["worker"].split(":")[1] == str(rescuer.proc.pid)
    assert job["result"] == {"law_id": "gem-chinchilla", "version": 1}

    # Nothing else may publish. The rescuer renewed its lease at the latest when it finished,
    # so the lease has run out once the clock passes finished_at + lease. After that, the
    # rescuer (the only worker) claims and finishes one more job: claims take due jobs in
    # run_after order, so had the finished job still been claimable it would have been claimed,
    # and published again, first. Reading a succeeded job catches the server's registry up to
    # its publication and every one before it.
    lease_over = job["finished_at"] + LEASE_SECONDS
    wait_until("the rescuer's lease to run out", lambda: time.time() > lease_over)
    later = _fit_another_dataset(url)
    assert later["status"] == "succeeded", later
    assert later["created_at"] > lease_over
    assert later["worker"].split(":")[1] == str(rescuer.proc.pid)
    law = httpx.get(f"{url}/v1/laws/gem-chinchilla").json()
    assert law["versions"] == [1] and law["fit"]["job_id"] == job_id
    assert law["has_draws"] is True
    ok = httpx.post(f"{url}/v1/allocate", json={"flops": 1e21, "law": "gem-chinchilla@1"}).json()
    assert ok["loss_interval"] is not None  # bootstrap draws give an interval


def _tagged(env: dict[str, str], name: str) -> dict[str, str]:
    """``env`` whose PostgreSQL sessions carry ``application_name`` ``name``."""
    if "FLOPWISE_DATABASE_URL" not in env:
        return env
    url = make_url(env["FLOPWISE_DATABASE_URL"]).update_query_dict({"application_name": name})
    return {**env, "FLOPWISE_DATABASE_URL": url.render_as_string(hide_password=False)}


def _sessions(env: dict[str, str], name: str) -> int:
    """PostgreSQL sessions named ``name`` (none on SQLite: no server holds a session)."""
    if "FLOPWISE_DATABASE_URL" not in env:
        return 0
    import psycopg

    url = make_url(env["FLOPWISE_DATABASE_URL"]).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (name,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def _fit_another_dataset(url: str) -> dict[str, Any]:
    """Store a second dataset and fit it (a quick fit, no bootstrap); the finished job."""
    with httpx.Client(base_url=url, timeout=60) as http:
        assert http.post("/v1/runs", json={"runs": gemstones_hot("later")}).status_code == 200
        body = {"dataset": "later", "form": "chinchilla", "options": {"search": "staged"}}
        job_id = http.post("/v1/fits", json=body).json()["job_id"]
    return wait_job(url, job_id, timeout=180)

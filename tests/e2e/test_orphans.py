"""No trainer outlives its job (issue 24). A server killed with SIGKILL takes its
calibration's trainer with it (the parent-death signal), so a new calibration may start
at once under a cap of one; a trainer whose job no worker holds any more (an orphan) is
counted by the cap and stopped by the next calibration worker.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from flopwise.service.jobs.trainers import alive, record_of
from flopwise.service.store import jobs as queue
from flopwise.service.store.db import open_database
from flopwise.service.store.models import JobRow
from tests.e2e.conftest import ServerProcess
from tests.e2e.helpers import wait_until
from tests.shared_data import REPO

BODY = {"dataset": "orphans", "flops": 1e15, "time_cap_hours": 1.0, "device": "cpu",
        "corpus_bytes": 1_000_000, "cpu_jobs": 1, "threads": 1, "sizes": 1,
        "aspects": ["standard"]}  # fmt: skip
"""A sweep that trains for minutes: long enough to be running when the server dies."""
ENV = {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO), "FLOPWISE_ALLOW_CALIBRATIONS": "1",
       "FLOPWISE_MAX_CONCURRENT_CALIBRATIONS": "1", "FLOPWISE_JOB_LEASE_SECONDS": "2"}  # fmt: skip


def _pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_killed_server_takes_its_trainer_along(
    flopwise_server: Callable[..., ServerProcess],
) -> None:
    server = flopwise_server(env=ENV)
    with httpx.Client(base_url=server.url, timeout=60) as http:
        job_id = http.post("/v1/calibrations", json=BODY).json()["job_id"]

        def training() -> Any:
            progress = http.get(f"/v1/jobs/{job_id}").json()["progress"]
            return progress.get("trainer") if progress.get("stage") == "training" else None

        trainer = wait_until("the trainer is recorded and training", training, timeout=180)
    assert alive(trainer)
    server.kill()  # SIGKILL: no shutdown code runs
    wait_until("the trainer exits with its server", lambda: _pid_gone(trainer["pid"]), timeout=60)
    server = server.restart()
    with httpx.Client(base_url=server.url, timeout=60) as http:
        job = wait_until(
            "the dead worker's job to end",
            lambda: (j := http.get(f"/v1/jobs/{job_id}").json())["status"] != "running" and j,
            timeout=120,
        )
        assert job["status"] == "failed"
        again = http.post("/v1/calibrations", json=BODY)  # the cap of one is free
        assert again.status_code == 202, again.text
        assert http.post(f"/v1/jobs/{again.json()['job_id']}/cancel").status_code == 200


def _orphan(tmp_path: Path) -> subprocess.Popen[bytes]:
    """A trainer process nobody follows: a real sweep, started by hand in its own group."""
    argv = [sys.executable, "-m", "flopwise.trainer", "sweep", "--dataset", "orphans",
            "--flops", "1e15", "--time-cap-hours", "1", "--device", "cpu", "--threads", "1",
            "--sizes", "1", "--aspects", "standard", "--work-dir", str(tmp_path / "w"),
            "--out", str(tmp_path / "out"), "--corpus-bytes", "1000000", "--yes",
            "--progress", "none"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    return subprocess.Popen(argv, cwd=REPO, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


def test_an_orphaned_trainer_counts_against_the_cap_until_a_worker_stops_it(
    flopwise_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = flopwise_server(env={**ENV, "FLOPWISE_CALIBRATION_WORKERS": "0"}, workers=0)
    proc = _orphan(tmp_path)  # no calibration worker here to reap it
    try:
        db = open_database(f"sqlite:///{Path(server.env['FLOPWISE_DATA_DIR']) / 'flopwise.db'}")
        with db.write_session.begin() as session:
            job_id = queue.enqueue(session, "calibration", dict(BODY), max_attempts=1)
        record: dict[str, Any] = record_of(proc.pid, list(map(str, proc.args)))  # type: ignore[arg-type]
        with db.write_session.begin() as session:  # the job ended; its trainer did not
            row = session.get(JobRow, job_id)
            assert row is not None
            row.status, row.progress, row.finished_at = "failed", {"trainer": record}, time.time()
        db.dispose()
        with httpx.Client(base_url=server.url, timeout=60) as http:
            refused = http.post("/v1/calibrations", json=BODY)
            assert refused.status_code == 409 and "trainers" in refused.json()["detail"]
            assert http.post(f"/v1/jobs/{job_id}/cancel").status_code == 200  # stops it
            wait_until("the orphan exits", lambda: proc.poll() is not None, timeout=60)
            assert http.post("/v1/calibrations", json=BODY).status_code == 202
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_a_calibration_worker_reaps_orphans_as_it_starts(
    flopwise_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    proc = _orphan(tmp_path)
    try:
        server = flopwise_server(env=ENV, workers=0)
        db = open_database(f"sqlite:///{Path(server.env['FLOPWISE_DATA_DIR']) / 'flopwise.db'}")
        with db.write_session.begin() as session:
            job_id = queue.enqueue(session, "calibration", dict(BODY), max_attempts=1)
            session.flush()
            row = session.get(JobRow, job_id)
            assert row is not None
            record = record_of(proc.pid, list(map(str, proc.args)))  # type: ignore[arg-type]
            row.status, row.progress = "cancelled", {"trainer": record}
            row.finished_at = time.time()
        db.dispose()
        server.stop()
        server = server.restart()  # its calibration worker starts by reaping
        wait_until("the worker stops the orphan", lambda: proc.poll() is not None, timeout=60)
        assert proc.returncode != 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

"""What a server tells whom (issue 24): a loopback-bound server answers loopback host
names only (DNS rebinding), and protected reads cover /healthz's law list, /metrics and
the private parts of jobs (a calibration's corpus and Slurm account, a worker's host)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from flopwise.service.config import Settings
from flopwise.service.store import jobs as queue
from flopwise.service.store.db import open_database
from tests.service.conftest import live_app

KEY = "k3y"
AUTH = {"Authorization": f"Bearer {KEY}"}


def _settings(tmp_path: Path, **changes: object) -> Settings:
    return Settings(data_dir=tmp_path, workers=0, calibration_workers=0, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("host", "bound", "status"),
    [
        ("127.0.0.1:8000", "127.0.0.1", 200),
        ("localhost", "127.0.0.1", 200),
        ("[::1]:1234", "127.0.0.1", 200),
        ("attacker.example", "127.0.0.1", 421),  # a rebound name, resolving to 127.0.0.1
        ("attacker.example:8000", "localhost", 421),
        ("", "127.0.0.1", 421),
        ("anything.example", "0.0.0.0", 200),  # reachable by design: a proxy fronts it
    ],
)
def test_a_loopback_server_answers_loopback_names_only(
    tmp_path: Path, host: str, bound: str, status: int
) -> None:
    with live_app(_settings(tmp_path, host=bound), start_workers=False) as url:
        r = httpx.post(f"{url}/v1/allocate", json={"flops": 1e21}, headers={"Host": host})
        assert r.status_code == status, r.text
        if status == 421:
            assert "loopback" in r.json()["detail"]


def test_allowed_hosts_extend_the_loopback_names(tmp_path: Path) -> None:
    settings = _settings(tmp_path, allowed_hosts=["flopwise.internal"])
    with live_app(settings, start_workers=False) as url:
        ok = httpx.get(f"{url}/healthz", headers={"Host": "flopwise.internal:443"})
        assert ok.status_code == 200


def _calibration_job(tmp_path: Path) -> str:
    db = open_database(f"sqlite:///{tmp_path / 'flopwise.db'}")
    payload = {"dataset": "d", "flops": 1e12, "corpus": "/secret/texts",
               "executor": "slurm", "slurm_account": "team-budget"}  # fmt: skip
    with db.write_session.begin() as session:
        job_id = queue.enqueue(session, "calibration", payload, max_attempts=1)
    db.dispose()
    return job_id


@pytest.mark.parametrize("protect_reads", [False, True])
def test_protected_reads_cover_health_metrics_and_job_internals(
    tmp_path: Path, protect_reads: bool
) -> None:
    settings = _settings(tmp_path, api_key=KEY, protect_reads=protect_reads)
    with live_app(settings, start_workers=False) as url:
        job_id = _calibration_job(tmp_path)
        anonymous: Callable[[str], httpx.Response] = lambda path: httpx.get(url + path)  # noqa: E731
        keyed: Callable[[str], httpx.Response] = lambda path: httpx.get(url + path, headers=AUTH)  # noqa: E731
        assert anonymous("/healthz").status_code == 200  # liveness needs no key
        assert ("laws" in anonymous("/healthz").json()) is not protect_reads
        assert "epoch-2024" in keyed("/healthz").json()["laws"]
        assert anonymous("/metrics").status_code == (401 if protect_reads else 200)
        assert keyed("/metrics").status_code == 200
        if not protect_reads:  # readable, but not its corpus, account or worker
            job = anonymous(f"/v1/jobs/{job_id}").json()
            assert "corpus" not in job["payload"] and "slurm_account" not in job["payload"]
            assert job["payload"]["dataset"] == "d" and job["worker"] is None
            listed = anonymous("/v1/jobs").json()["data"][0]
            assert "corpus" not in listed["payload"]
        else:
            assert anonymous(f"/v1/jobs/{job_id}").status_code == 401
        full = keyed(f"/v1/jobs/{job_id}").json()
        assert full["payload"]["corpus"] == "/secret/texts"
        assert full["payload"]["slurm_account"] == "team-budget"

"""``flopwise.client``'s writes against a live ``flopwise serve`` on SQLite and on
PostgreSQL: runs posted in batches and uploaded from files (resumably), fits queued
and waited for, jobs listed and cancelled, a calibration launched; the API key from the
environment."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flopwise.client import Client, RequestRejected
from flopwise.client.errors import Conflict, JobTimeout, Unauthorized
from flopwise.fitting.laws import Law
from flopwise.fitting.prediction import predict
from flopwise.protocol.sweep import SweepRequest
from tests.e2e.conftest import ServerProcess
from tests.service.synthetic import synthetic_runs

pytestmark = pytest.mark.slow
KEY = "client-test-key"


def _csv(path: Path, runs: list[dict[str, Any]], bad: dict[int, str] | None = None) -> Path:
    """``runs`` as a CSV with renamed columns; ``bad``: data row index -> a loss cell."""
    lines = ["model,N,D,L,notes"]
    for i, r in enumerate(runs):
        loss = (bad or {}).get(i, repr(r["loss"]))
        lines.append(f"{r['run']},{r['params']:g},{r['tokens']:g},{loss},x")
    path.write_text("\n".join(lines) + "\n")
    return path


COLUMNS = {"run": "model", "params": "N", "tokens": "D", "loss": "L"}


def test_runs_fits_and_jobs(
    flopwise_server: Callable[..., ServerProcess],
    e2e_store: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = flopwise_server(env={**e2e_store, "FLOPWISE_API_KEY": KEY})
    runs = synthetic_runs("posted")
    with Client(server.url, api_key="") as anonymous, pytest.raises(Unauthorized):
        anonymous.runs.post(runs[:1])
    monkeypatch.setenv("FLOPWISE_URL", server.url)
    monkeypatch.setenv("FLOPWISE_API_KEY", KEY)
    with Client() as client:
        first = client.runs.post(runs[:12], batch_size=5)  # three requests
        assert (first.received, first.inserted, first.duplicates) == (12, 12, 0)
        again = client.runs.post(runs, batch_size=10)
        assert (again.received, again.inserted, again.duplicates) == (25, 13, 12)
        page = client.runs.list("posted", offset=20, limit=10)
        assert page.count == 25 and [r.tokens for r in page.data] == [
            r["tokens"] for r in runs[20:]
        ]

        job = client.jobs.wait(again.refit_jobs["posted"], timeout=120, poll=0.1)
        assert job.status == "succeeded" and str(job.law) == "posted-chinchilla@1"
        law = client.laws.get("posted-chinchilla")
        assert isinstance(law, Law) and law.version == 1 and law.draws is None
        served = client.predict(law="posted-chinchilla@1", params=1e8, tokens=1e9)
        assert predict(law, params=1e8, tokens=1e9) == served  # no draws: the same bands
        assert client.laws.plot("posted-chinchilla@1").startswith(b"\x89PNG")

        queued = client.fit("posted", options={"bootstrap": 4})
        done = client.jobs.wait(queued, timeout=120, poll=0.1)
        assert done.id == queued.job_id and done.law is not None and done.law.version == 2
        assert client.laws.get("posted-chinchilla").draws is None  # the API sends no draws
        assert queued.job_id in {j.id for j in client.jobs.list(kind="refit", status="succeeded")}
        assert client.jobs.get(queued).status == "succeeded"
        with pytest.raises(Conflict):
            client.jobs.cancel(queued)
        with pytest.raises(RequestRejected) as none:
            client.fit("nothing-stored")
        assert none.value.fields == ("dataset",)


def test_upload_is_batched_resumable_and_reports_bad_rows(
    flopwise_server: Callable[..., ServerProcess], e2e_store: dict[str, str], tmp_path: Path
) -> None:
    server = flopwise_server(env=e2e_store)
    runs = synthetic_runs("uploaded")
    path = _csv(tmp_path / "runs.csv", runs, bad={3: "abc", 17: "-2"})
    answered: list[tuple[int, int]] = []

    def interrupted(done: int, total: int) -> None:
        answered.append((done, total))
        if done >= 10:
            raise KeyboardInterrupt  # the user stops it after the first batches

    with Client(server.url) as client:
        with pytest.raises(KeyboardInterrupt):
            client.runs.upload(
                path, dataset="uploaded", columns=COLUMNS, batch_size=5, progress=interrupted
            )
        assert answered == [(0, 25), (5, 25), (10, 25)]
        stored = client.runs.list("uploaded").count
        assert stored == 9  # two batches of five, less the bad row on line 5

        report = client.runs.upload(path, dataset="uploaded", columns=COLUMNS, batch_size=5)
        assert report.rows == 25 and report.skipped == 9
        assert (report.inserted, report.duplicates) == (14, 0)
        assert [(r.line, r.column) for r in report.rejected] == [(5, "L"), (19, "L")]
        assert "not a number" in report.rejected[0].reason
        assert "greater than 0.001" in report.rejected[1].reason  # a loss of 0.001 nats or less
        assert report.accepted == 23 and report.rejected_rows == 2
        assert client.runs.list("uploaded").count == 23

        lines = [json.dumps({**r, "dataset": "lines"}) for r in runs[:4]]
        (tmp_path / "runs.jsonl").write_text("\n".join([*lines[:2], "", "[1]", *lines[2:]]) + "\n")
        report = client.runs.upload(tmp_path / "runs.jsonl", refit=False)
        assert report.inserted == 4 and [(r.line, r.column) for r in report.rejected] == [(4, None)]
        assert report.refit_jobs == {}

        with pytest.raises(ValueError, match="tokens_col"):
            client.runs.upload(path, dataset="uploaded", columns={**COLUMNS, "tokens": "T"})


def test_cancel_a_queued_job_and_launch_a_calibration(
    flopwise_server: Callable[..., ServerProcess],
) -> None:
    env = {
        "FLOPWISE_ALLOW_CALIBRATIONS": "1",
        "FLOPWISE_TRAINER_COMMAND": json.dumps([sys.executable, "-c", "pass"]),
        "FLOPWISE_CALIBRATION_WORKERS": "0",
    }
    server = flopwise_server(env=env, workers=0)  # nothing runs: jobs stay queued
    with Client(server.url) as client:
        client.runs.post(synthetic_runs("idle"), refit=False)
        queued = client.fit("idle")
        with pytest.raises(JobTimeout) as waited:
            client.jobs.wait(queued, timeout=0.3, poll=0.1)
        assert waited.value.job.status == "queued"
        cancelled = client.jobs.cancel(queued)
        assert cancelled.status == "cancelled" and cancelled.done
        assert client.jobs.wait(queued, timeout=5).status == "cancelled"

        sweep = SweepRequest(dataset="calib", flops=6e12, time_cap_hours=0.1, device="cpu")
        accepted = client.calibrate(sweep)
        assert client.jobs.get(accepted).kind == "calibration"
        with pytest.raises(RequestRejected) as bad:
            client.calibrate({"dataset": "calib", "flops": 6e12, "time_cap_hours": -1})
        assert bad.value.fields == ("time_cap_hours",)

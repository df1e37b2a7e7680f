"""No run can poison a dataset (issue 24). A run of non-physical values is refused at the
door; one already stored, an excluded run and an outlier are left out of the refit,
which publishes with a caveat naming them instead of failing for ever; runs are
excluded, restored and deleted over HTTP and the command line, and the history stays."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert

from flopwise.service.cli import run
from flopwise.service.store.db import open_database
from flopwise.service.store.models import RunRow
from tests.e2e.conftest import ServerProcess
from tests.e2e.helpers import wait_job

SIZES, TOKENS = (5e7, 1e8, 2e8, 4e8), (1e9, 2e9, 4e9, 1.6e10)


def _clean(dataset: str) -> list[dict[str, Any]]:
    """Hoffmann et al. 2022 Eq. 10 over four sizes and four lengths."""
    return [
        {"dataset": dataset, "run": f"{int(n / 1e6)}M", "params": n, "tokens": d,
         "loss": 1.69 + 406.4 / n**0.34 + 410.7 / d**0.28}
        for n in SIZES for d in TOKENS
    ]  # fmt: skip


def _refit(url: str, answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    body = answer.json()
    job_id = body.get("refit_job") or next(iter(body["refit_jobs"].values()))
    job = wait_job(url, job_id)
    assert job["status"] == "succeeded", job
    return job


def _caveats(url: str, law: str) -> list[str]:
    answer = httpx.post(f"{url}/v1/allocate", json={"law": law, "flops": 1e19}).json()
    return list(answer["caveats"])


@pytest.fixture
def server(
    flopwise_server: Callable[..., ServerProcess], e2e_store: dict[str, str]
) -> ServerProcess:
    return flopwise_server(env={**e2e_store, "FLOPWISE_REFIT_DEBOUNCE_SECONDS": "0"})


def test_a_poisoned_run_is_refused_and_one_already_stored_is_left_out(
    server: ServerProcess,
) -> None:
    poison = {"dataset": "p", "run": "poison", "params": 1e-300, "tokens": 1e-300,
              "loss": 1e-300}  # fmt: skip
    r = httpx.post(f"{server.url}/v1/runs", json={"runs": [poison]})
    assert r.status_code == 422
    assert {tuple(d["loc"][-1:]) for d in r.json()["detail"]} == {
        ("params",),
        ("tokens",),
        ("loss",),
    }
    # stored before the bounds existed: written straight into the store
    url = server.env.get("FLOPWISE_DATABASE_URL") or (
        "sqlite:///" + str(Path(server.env["FLOPWISE_DATA_DIR"]) / "flopwise.db")
    )
    db = open_database(url)
    with db.write_session.begin() as session:
        session.execute(insert(RunRow).values(**poison, tags={}, created_at=time.time()))
    db.dispose()
    _refit(server.url, httpx.post(f"{server.url}/v1/runs", json={"runs": _clean("p")}))
    caveats = _caveats(server.url, "p-chinchilla")
    assert any("fitted without 1 observation" in c and "poison" in c and "non-physical" in c
               for c in caveats), caveats  # fmt: skip


def test_exclude_restore_and_delete_version_what_the_law_is_fitted_on(
    server: ServerProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = _clean("x")
    for r in runs:  # one observation far off its run's curve: an outlier
        if r["run"] == "200M" and r["tokens"] == 4e9:
            r["loss"] *= 1.5
    first = _refit(server.url, httpx.post(f"{server.url}/v1/runs", json={"runs": runs}))
    caveats = _caveats(server.url, "x-chinchilla")
    assert any("200M (1 obs., log-loss residual beyond 10 robust sd" in c for c in caveats), caveats

    excluded = httpx.post(f"{server.url}/v1/runs/x/400M/exclude", json={"reason": "diverged"})
    job = _refit(server.url, excluded)
    assert job["result"]["version"] == first["result"]["version"] + 1
    assert any(
        "400M (4 obs., excluded: diverged)" in c for c in _caveats(server.url, "x-chinchilla")
    )

    capsys.readouterr()
    assert run(["runs", "restore", "x", "400M", "--url", server.url]) == 0
    assert "restored (diverged)" in capsys.readouterr().out
    assert run(["runs", "delete", "x", "50M", "--url", server.url]) == 2  # needs --yes
    assert run(["runs", "delete", "x", "50M", "--yes", "--url", server.url]) == 0
    assert "4 observations deleted" in capsys.readouterr().out
    assert run(["runs", "exclude", "x", "nope", "--reason", "r", "--url", server.url]) == 0
    history = httpx.get(f"{server.url}/v1/exclusions/x").json()["data"]
    assert [(h["run"], h["restored_at"] is not None) for h in history] == [
        ("400M", True), ("50M", True), ("nope", False)]  # fmt: skip
    assert history[1]["reason"] == "deleted (4 observations)"
    stored = httpx.get(f"{server.url}/v1/runs", params={"dataset": "x", "limit": 100}).json()
    assert {r["run"] for r in stored["data"]} == {"100M", "200M", "400M"}
    assert httpx.delete(f"{server.url}/v1/runs/x/50M").status_code == 404  # gone
    assert httpx.post(f"{server.url}/v1/runs/x/100M/restore").status_code == 404  # not excluded

"""``flopwise serve`` as a user runs it: ingest the Gemstones ``hot`` runs over HTTP, wait
for the refit, allocate with the new law version (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from flopwise.fitting.allocation import allocate
from flopwise.fitting.laws import from_dict
from tests.e2e.conftest import ServerProcess, WorkerProcess
from tests.e2e.data import gemstones_hot
from tests.e2e.helpers import all_runs, wait_job
from tests.pins import GEMSTONES_REPO, MCLEISH, published
from tests.service.conftest import scrape_until_published

pytestmark = pytest.mark.slow

HOT_ROWS, HOT_PARAMS = published(
    (220, [48377600.0, 2007837696.0]),
    f"{MCLEISH}: {GEMSTONES_REPO} wandb_dfs/wandb_df_for_fitting_hot.jsonl, its rows and the "
    "smallest and largest params_active_precise (the 22 models, both embeddings counted)",
)


def test_ingest_gemstones_refit_and_allocate(
    flopwise_server: Callable[..., ServerProcess], e2e_store: dict[str, str]
) -> None:
    server = flopwise_server(env=e2e_store)
    runs = gemstones_hot("gemstones-hot")
    assert len(runs) == HOT_ROWS
    jobs = set()
    with httpx.Client(base_url=server.url, timeout=60) as http:
        for start in range(0, len(runs), 50):  # several batches, one debounced refit
            r = http.post("/v1/runs", json={"runs": runs[start : start + 50]})
            assert r.status_code == 200, r.text
            jobs.add(r.json()["refit_jobs"]["gemstones-hot"])
        assert len(jobs) == 1
        job = wait_job(server.url, jobs.pop())
        assert job["status"] == "succeeded", job
        assert job["result"] == {"law_id": "gemstones-hot-chinchilla", "version": 1}
        assert len(all_runs(server.url, "gemstones-hot")) == HOT_ROWS

        r = http.post(
            "/v1/allocate",
            json={"gpu_hours": 2e4, "gpu": "h100", "law": "gemstones-hot-chinchilla@1"},
        )
        assert r.status_code == 200, r.text
        answer = r.json()
        assert answer["law"] == {"id": "gemstones-hot-chinchilla", "version": 1}
        law = http.get("/v1/laws/gemstones-hot-chinchilla@1").json()
        assert law["fit"]["report"]["n_runs"] == HOT_ROWS
        assert law["domain"]["params"] == HOT_PARAMS  # the data's range
        # the server's answer is the core's answer for the stored law
        stored = from_dict({k: law[k] for k in ("id", "version", "form", "constants")})
        expected = allocate(stored, answer["flops"])
        assert answer["params"] == pytest.approx(expected.params, rel=1e-9)
        assert answer["cost"]["gpu_hours"] == pytest.approx(2e4)
        # Gemstones trains width/depth shapes: the fitted law prefers fewer tokens per
        # parameter than Chinchilla's ~20 (McLeish et al. 2025, Fig. 1)
        assert 1 < answer["tokens_per_param"] < 40
        default = http.post(
            "/v1/allocate", json={"flops": answer["flops"], "law": "gemstones-hot-chinchilla"}
        )
        assert default.json()["law"]["version"] == 1
        assert http.get("/v1/laws/gemstones-hot-chinchilla/plot.png").content.startswith(b"\x89PNG")
        scrape_until_published(http)  # counted just after the job's commit


def test_two_replicas_and_a_separate_worker_share_one_store(
    flopwise_server: Callable[..., ServerProcess],
    flopwise_worker: Callable[..., WorkerProcess],
    e2e_store: dict[str, str],
) -> None:
    """Two API processes without workers and one ``flopwise worker``: a batch sent to one
    replica is fitted by the worker and answered by the other replica."""
    a = flopwise_server(env=e2e_store, workers=0)
    b = flopwise_server(env=e2e_store, workers=0)
    assert f"curl {a.url}/healthz" in a.log_text()  # serve says where to point curl
    flopwise_worker(e2e_store)
    job = httpx.post(f"{a.url}/v1/runs", json={"runs": gemstones_hot("rep")}, timeout=60).json()
    result = wait_job(b.url, job["refit_jobs"]["rep"])
    assert result["status"] == "succeeded", result
    deadline = time.monotonic() + 10  # the replica's poller picks the version up
    while True:
        r = httpx.post(f"{b.url}/v1/allocate", json={"flops": 1e21, "law": "rep-chinchilla"})
        if r.status_code == 200:
            break
        assert time.monotonic() < deadline, r.text
        time.sleep(0.1)
    assert r.json()["law"] == {"id": "rep-chinchilla", "version": 1}
    while "rep-chinchilla" not in httpx.get(f"{a.url}/healthz").json()["laws"]:
        assert time.monotonic() < deadline + 5, "replica A never loaded the new law"
        time.sleep(0.1)

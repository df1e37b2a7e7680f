"""End to end on CPU: a real mixture-of-experts calibration sweep (``flopwise-train sweep
--experts --top-k --granularities``) of tiny models on the bundled corpus, each model at
two granularities, then the fine-grained MoE law (Krajewski et al. 2024 Eq. 9) fitted by
the trainer from its runs file and by the service's automatic refit from the store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from flopwise.fitting.forms import law_form
from flopwise.fitting.laws import from_dict
from flopwise.fitting.runs import Runs
from flopwise.service.config import Settings
from tests.e2e.helpers import wait_job
from tests.service.conftest import live_app
from tests.trainer.conftest import corpus_dir  # noqa: F401 (the fixture)
from tests.trainer.helpers import cpu_sweep, events

pytestmark = pytest.mark.slow

DATASET = "moe-e2e"
LAW = f"{DATASET}-fine-grained-moe"


@pytest.fixture(scope="module")
def swept(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:  # noqa: F811
    """The sweep's events and runs file: 3 sizes x granularities 1 and 2, on 2 CPU jobs."""
    work = tmp_path_factory.mktemp("moe-sweep")
    done = cpu_sweep(DATASET, corpus_dir, work, "4e11", "--sizes", "3", "--evals", "3",
                     "--experts", "4", "--top-k", "1", "--granularities", "1,2")  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = work / "out"
    return {"events": events(done.stdout.splitlines()), "out": out,
            "records": events((out / "runs.jsonl").read_text().splitlines())}  # fmt: skip


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, httpx.Client]]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("store"), database_url=None,
                        api_key=None, refit_debounce_seconds=0.0, job_poll_seconds=0.1)  # fmt: skip
    with live_app(settings) as url, httpx.Client(base_url=url, timeout=60) as http:
        yield url, http


def test_every_model_trains_at_each_granularity(swept: dict[str, Any]) -> None:
    plan, end = swept["events"][0], swept["events"][-1]
    assert plan["event"] == "plan" and plan["total_runs"] == 6
    assert end["event"] == "done" and end["finished"] == 6 and not end["failed"]
    shapes: dict[tuple[int, int], set[int]] = {}
    for run in plan["runs"]:
        shapes.setdefault((run["width"], run["depth"]), set()).add(run["granularity"])
    assert len(shapes) == 3 and all(gs == {1, 2} for gs in shapes.values())
    planned = {r["run"]: r for r in plan["runs"]}
    assert {r["run"] for r in swept["records"]} == set(planned)
    for record in swept["records"]:  # MoE counts: N total non-embedding, C = 6 N_active D
        tags = record["tags"]
        g = int(tags["granularity"])
        assert g == planned[record["run"]]["granularity"] and record["run"].endswith(f"-g{g}")
        assert (int(tags["experts"]), int(tags["top_k"])) == (4 * g, g)
        assert 0 < int(tags["active_params"]) < record["params"] == planned[record["run"]]["params"]
        assert tags["flops_counter"] == "6N_active"
        assert record["flops"] > 6 * int(tags["active_params"]) * record["tokens"]  # + embedding


def _reproduces(constants: dict[str, float], records: list[dict[str, Any]]) -> None:
    """The law predicts the sweep it was fitted on, at each run's granularity."""
    runs = Runs.from_records(records)
    assert runs.granularity is not None and set(runs.granularity) == {1.0, 2.0}
    predicted = law_form("fine-grained-moe").loss(constants, params=runs.params,
                                                  tokens=runs.tokens,
                                                  granularity=runs.granularity)  # fmt: skip
    assert np.median(np.abs(np.asarray(predicted) / runs.loss - 1)) < 0.05


def test_the_trainer_fits_the_fine_grained_moe_law(swept: dict[str, Any]) -> None:
    fit = swept["events"][-2]
    assert fit["event"] == "fit" and fit["where"] == "local" and fit["success"], fit
    assert fit["law_id"] == LAW
    law = from_dict(json.loads((swept["out"] / "law.json").read_text()))
    assert law.id == LAW and law.form == "fine-grained-moe" and law.dataset == DATASET
    assert law.constants["granularity"] == 1.5 and 0 < law.constants["active_ratio"] < 1
    _reproduces(dict(law.constants), swept["records"])


def test_the_services_refit_of_the_stored_runs_fits_it_too(
    swept: dict[str, Any], store: tuple[str, httpx.Client]
) -> None:
    url, http = store
    stored = http.post("/v1/runs", json={"runs": swept["records"]})  # the automatic refit
    assert stored.status_code == 200, stored.text
    job = wait_job(url, stored.json()["refit_jobs"][DATASET], timeout=300)
    assert job["status"] == "succeeded", job
    assert job["result"]["law_id"] == LAW
    law = http.get(f"/v1/laws/{LAW}")
    assert law.status_code == 200, law.text
    assert law.json()["form"] == "fine-grained-moe"
    served = http.get(f"/v1/runs?dataset={DATASET}&limit=1000").json()["data"]
    assert {r["tags"]["granularity"] for r in served} == {"1", "2"}  # the store kept them
    _reproduces(law.json()["constants"], swept["records"])

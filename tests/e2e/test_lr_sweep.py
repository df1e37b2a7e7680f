"""End to end on CPU: a real learning-rate sweep (``flopwise-train sweep --lr-grid``) of
three tiny models at three peak LRs each, then the hyper-parameter laws fitted from its
runs file (``flopwise fit-hyperparams``) and from the store (``POST /v1/hyperparams/fit``
with its dataset), which must agree."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from flopwise.service.config import Settings
from flopwise.trainer.grid import best_dataset
from tests.service.conftest import live_app
from tests.service.test_cli_allocate import flopwise
from tests.trainer.conftest import corpus_dir  # noqa: F401 (the fixture)
from tests.trainer.helpers import cpu_sweep, events

pytestmark = pytest.mark.slow

DATASET = "lr-e2e"
GRID = (3e-3, 1e-2, 3e-2)


@pytest.fixture(scope="module")
def swept(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:  # noqa: F811
    """The sweep's events and runs file: 3 sizes x 3 LRs, standard aspect, on 2 CPU jobs."""
    work = tmp_path_factory.mktemp("lr-sweep")
    done = cpu_sweep(DATASET, corpus_dir, work, "8e11", "--sizes", "3", "--evals", "2",
                     "--lr-grid", ",".join(map(str, GRID)))  # fmt: skip
    out = events(done.stdout.splitlines())
    fit = out[-2]  # the loss law on each model's best point: 3 sizes may be too few for it
    assert fit["event"] == "fit" and fit["where"] == "local", done.stderr[-3000:]
    assert done.returncode == (0 if fit["success"] else 1), done.stderr[-3000:]
    runs_file = work / "out" / "runs.jsonl"
    return {"events": out, "runs_file": runs_file,
            "records": events(runs_file.read_text().splitlines()), "work": work}  # fmt: skip


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("store"), database_url=None, api_key=None)
    with live_app(settings) as url, httpx.Client(base_url=url, timeout=60) as http:
        yield http


def test_every_model_trains_once_per_learning_rate(swept: dict[str, Any]) -> None:
    plan, end = swept["events"][0], swept["events"][-1]
    assert plan["event"] == "plan" and plan["total_runs"] == 9
    assert end["event"] == "done" and end["finished"] == 9 and not end["failed"]
    by_model: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for run in plan["runs"]:
        by_model.setdefault((run["params"], run["tokens"]), []).append(run)
    assert len(by_model) == 3  # three (N, D), each at every LR of the grid, on one D
    assert all(sorted(r["lr"] for r in runs) == list(GRID) for runs in by_model.values())
    planned = {r["run"]: r for r in plan["runs"]}
    mine = [r for r in swept["records"] if r["dataset"] == DATASET]
    assert {r["run"] for r in mine} == set(planned)
    for record in mine:  # each evaluation says its run's peak LR and global batch
        run = planned[record["run"]]
        assert record["schedule"]["peak_lr"] == pytest.approx(run["lr"])
        batch_tokens = int(record["tags"]["batch_tokens"])
        assert batch_tokens % run["batch_size"] == 0
        assert record["tokens"] == int(record["tags"]["step"]) * batch_tokens


def test_the_loss_law_data_are_each_models_best_learning_rate(swept: dict[str, Any]) -> None:
    plan = swept["events"][0]
    final = {}
    for r in swept["records"]:
        if r["dataset"] == DATASET and r["tokens"] == r["schedule"]["total_tokens"]:
            final[r["run"]] = r["loss"]
    best = {r["run"] for r in swept["records"] if r["dataset"] == best_dataset(DATASET)}
    assert len(best) == 3
    for model in {r["params"] for r in plan["runs"]}:
        runs = [r["run"] for r in plan["runs"] if r["params"] == model]
        assert min(runs, key=final.__getitem__) in best


def test_hyperparameters_fitted_from_the_runs_file_and_from_the_store(
    swept: dict[str, Any], store: httpx.Client
) -> None:
    law = swept["work"] / "law.json"
    cli = flopwise("fit-hyperparams", str(swept["runs_file"]), "--dataset", DATASET,
                   "--bootstrap", "200", "--json", "--save-law", str(law))  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    fitted = json.loads(cli.stdout)
    optima = fitted["optima"]
    assert len(optima) == 3 and all(o["runs"] == 3 for o in optima)
    for o in optima:  # inside the grid, strictly unless the fitter says it is at the edge
        assert min(GRID) <= o["learning_rate"] <= max(GRID)
        if not o["lr_on_edge"]:
            assert min(GRID) < o["learning_rate"] < max(GRID)
    on_edge = sum(o["lr_on_edge"] for o in optima)
    assert sum("best learning rate is the swept one" in w for w in fitted["warnings"]) == on_edge
    assert all(math.isfinite(v) for v in fitted["law"]["constants"].values())
    seq_len = {int(r["tags"]["sequence_length"]) for r in swept["records"]}
    assert fitted["law"]["sequence_length"] == seq_len.pop() and not seq_len

    answer = flopwise("hyperparams", "--params", str(optima[1]["params"]), "--tokens",
                      str(optima[1]["tokens"]), "--law-file", str(law), "--json")  # fmt: skip
    assert answer.returncode == 0, answer.stderr
    lr = json.loads(answer.stdout)
    low, high = lr["learning_rate_interval"]
    assert math.isfinite(lr["learning_rate"]) and 0 < low <= lr["learning_rate"] <= high

    stored = store.post("/v1/runs", json={"runs": swept["records"], "refit": False})
    assert stored.status_code == 200, stored.text
    body = {"dataset": DATASET, "bootstrap": 200}
    served = store.post("/v1/hyperparams/fit", json=body)
    assert served.status_code == 200, served.text
    for got, want in zip(served.json()["optima"], optima, strict=True):
        assert got == {k: pytest.approx(v) if isinstance(v, float) else v for k, v in want.items()}
    assert served.json()["law"]["constants"] == pytest.approx(fitted["law"]["constants"])

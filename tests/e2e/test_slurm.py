"""Calibration sweeps on a real Slurm cluster (``.ci/start-slurm``: slurmctld, slurmd and
munge on this host, one CPU-only node).

Every planned run is a Slurm batch job training a tiny transformer (30k to 100k
parameters) on the standard library's text. The cluster's habits are real: a job
killed with ``scancel`` mid-run, a submitting process killed with SIGKILL, a sweep
cancelled from another process. Without a cluster (``SLURM_CONF`` unset or ``sinfo``
failing) these tests skip, unless ``FLOPWISE_REQUIRE_SLURM=1`` (CI), which fails them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from flopwise.trainer.corpus import CorpusConfig, build_corpus, stdlib_root
from flopwise.trainer.slurm import ALIVE, cancel_sweep, read_state
from tests.e2e.conftest import ServerProcess
from tests.e2e.helpers import all_runs, wait_job
from tests.shared_data import REPO

pytestmark = pytest.mark.slow

T = TypeVar("T")
DATASET = "slurm-e2e"


@pytest.fixture(scope="module")
def slurm() -> None:
    """A Slurm cluster answers (``sinfo``), or skip / fail (``FLOPWISE_REQUIRE_SLURM=1``)."""
    problem = None
    if not os.environ.get("SLURM_CONF"):
        problem = 'SLURM_CONF is not set (eval "$(.ci/start-slurm)")'
    else:
        try:
            done = subprocess.run(["sinfo", "--noheader", "--format=%T"], capture_output=True,
                                  text=True, timeout=30, check=False)  # fmt: skip
        except OSError as exc:
            problem = f"sinfo cannot run: {exc}"
        else:
            if done.returncode != 0 or not done.stdout.strip():
                problem = f"Slurm does not answer: {done.stderr.strip() or done.stdout.strip()}"
    if problem is None:
        return
    if os.environ.get("FLOPWISE_REQUIRE_SLURM") == "1":
        pytest.fail(problem + " and FLOPWISE_REQUIRE_SLURM=1")
    pytest.skip(problem)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("slurm-corpus")
    build_corpus(CorpusConfig(sources=(str(stdlib_root()),), max_bytes=2_000_000), out)
    return out


@pytest.fixture
def work(slurm: None, tmp_path: Path) -> Iterator[Path]:
    """The sweeps' work directory; whatever a test leaves queued is cancelled after it."""
    yield tmp_path
    for state in tmp_path.glob("**/slurm-state.json"):
        cancel_sweep(state.parent)


def wait_for(what: str, check: Callable[[], T | None], timeout: float = 180.0) -> T:
    """Poll ``check`` until it gives a value, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


def sweep_argv(corpus: Path, work: Path, *extra: str, flops: str, aspects: str) -> list[str]:
    return [sys.executable, "-m", "flopwise.trainer", "sweep", "--dataset", DATASET,
            "--flops", flops, "--time-cap-hours", "1", "--corpus", str(corpus),
            "--work-dir", str(work), "--out", str(work / "out"), "--device", "cpu",
            "--threads", "1", "--throughput", "3e10", "--sizes", "1", "--aspects", aspects,
            "--evals", "3", "--tokens-per-param", "5", "--executor", "slurm",
            "--slurm-poll-seconds", "0.5", "--progress", "jsonl", "--yes", *extra]  # fmt: skip


def env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}


def start(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(argv, cwd=REPO, env=env(), stdout=out, stderr=subprocess.STDOUT)


def finish(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=REPO, env=env(), capture_output=True, text=True,
                          timeout=400, check=False)  # fmt: skip


def sweep_dir(work: Path) -> Path:
    return wait_for(
        "the sweep's plan", lambda: next(iter(work.glob("sweeps/*/plan.json")), None)
    ).parent


def submitted(work: Path, runs: int) -> dict[str, dict[str, Any]] | None:
    """The sweep's Slurm state once ``runs`` runs have a job id."""
    states = list(work.glob("sweeps/*/slurm-state.json"))
    if not states:
        return None
    state = read_state(states[0].parent)
    return state if sum(bool(e["job_ids"]) for e in state.values()) >= runs else None


def queue() -> dict[str, str]:
    lines = subprocess.run(["squeue", "--noheader", "--states=all", "--format=%i|%T"],
                           capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    return dict(line.split("|") for line in lines)


def jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in text.splitlines() if x.strip().startswith("{")]


def test_a_calibration_through_the_service_runs_as_slurm_jobs(
    flopwise_server: Callable[..., ServerProcess], corpus: Path, work: Path
) -> None:
    server = flopwise_server(env={"OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO),
                                  "FLOPWISE_TRAINER_DIR": str(work),
                                  "FLOPWISE_CORPUS_ROOT": str(corpus.parent),
                                  "FLOPWISE_ALLOW_CALIBRATIONS": "1"})  # fmt: skip
    body = {"dataset": DATASET, "flops": 4e11, "time_cap_hours": 1, "device": "cpu",
            "executor": "slurm", "corpus": str(corpus), "sizes": 2,
            "aspects": ["standard", "wide"], "evals": 4, "tokens_per_param": 5, "threads": 1,
            "throughput": 3e10, "slurm_max_jobs": 2, "slurm_poll_seconds": 0.5}  # fmt: skip
    with httpx.Client(base_url=server.url, timeout=60) as http:
        answer = http.post("/v1/calibrations", json=body)
        assert answer.status_code == 202, answer.text
        job = wait_job(server.url, answer.json()["job_id"], timeout=400)
        assert job["status"] == "succeeded", job["error"] or server.log_text()[-3000:]
        assert job["progress"]["stage"] == "done" and job["progress"]["runs_done"] == 4
        law = http.get(f"/v1/laws/{job['result']['law_id']}@{job['result']['version']}").json()
    assert law["constants"]["alpha"] > 0 and law["constants"]["beta"] > 0

    state = read_state(sweep_dir(work))  # each run one Slurm job, done
    assert len(state) == 4
    assert all(len(e["job_ids"]) == 1 and e["status"] == "done" for e in state.values())
    stored = all_runs(server.url, DATASET)  # every evaluation ingested once, with its cost
    assert {r["run"] for r in stored} == set(state)
    assert len({(r["run"], r["tokens"]) for r in stored}) == len(stored) == job["progress"]["evals"]
    assert all(r["gpu"] == "cpu" and r["n_gpus"] == 1 and r["seconds_per_step"] > 0
               and r["tags"]["host"] for r in stored)  # fmt: skip


def test_cancelling_a_calibration_whose_trainer_died_cancels_its_slurm_jobs(
    flopwise_server: Callable[..., ServerProcess], corpus: Path, work: Path
) -> None:
    """The trainer (the Slurm submitter) killed outright leaves its batch jobs queued and
    its job failed: cancelling the job cancels them (issue 18: ``cancel_calibration``
    was never called)."""
    server = flopwise_server(env={"OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO),
                                  "FLOPWISE_TRAINER_DIR": str(work),
                                  "FLOPWISE_CORPUS_ROOT": str(corpus.parent),
                                  "FLOPWISE_ALLOW_CALIBRATIONS": "1"})  # fmt: skip
    body = {"dataset": DATASET, "flops": 4e12, "time_cap_hours": 1, "device": "cpu",
            "executor": "slurm", "corpus": str(corpus), "sizes": 2, "aspects": ["standard"],
            "evals": 4, "tokens_per_param": 5, "threads": 1, "throughput": 3e10,
            "slurm_max_jobs": 2, "slurm_poll_seconds": 0.5}  # fmt: skip
    with httpx.Client(base_url=server.url, timeout=120) as http:
        job_id = http.post("/v1/calibrations", json=body).json()["job_id"]
        state = wait_for("the Slurm jobs' submission", lambda: submitted(work, 1))
        ids = {i for e in state.values() for i in e["job_ids"]}
        trainer = wait_for(
            "the trainer's record",
            lambda: http.get(f"/v1/jobs/{job_id}").json()["progress"].get("trainer"),
        )
        os.killpg(trainer["pid"], signal.SIGKILL)  # no chance to cancel what it submitted
        job = wait_for(
            "the job to fail",
            lambda: (j := http.get(f"/v1/jobs/{job_id}").json())["status"] == "failed" and j,
        )
        assert ids & set(queue())  # its batch jobs still queued or running
        cancel = http.post(f"/v1/jobs/{job_id}/cancel")
        assert cancel.status_code == 200, cancel.text
    wait_for("Slurm to drop the jobs", lambda: not (ids & {
        i for i, s in queue().items() if s in ALIVE}))  # fmt: skip
    assert job["status"] == "failed"


def test_a_host_that_cannot_submit_refuses_a_slurm_calibration(
    flopwise_server: Callable[..., ServerProcess], corpus: Path
) -> None:
    """No ``sbatch`` on the service's PATH: 409 before anything is queued."""
    server = flopwise_server(
        env={"PATH": str(corpus), "PYTHONPATH": str(REPO), "FLOPWISE_ALLOW_CALIBRATIONS": "1"}
    )
    body = {"dataset": DATASET, "flops": 4e11, "time_cap_hours": 1, "executor": "slurm"}
    with httpx.Client(base_url=server.url, timeout=60) as http:
        answer = http.post("/v1/calibrations", json=body)
        assert answer.status_code == 409 and "sbatch" in answer.json()["detail"]
        assert http.get("/v1/jobs", params={"kind": "calibration"}).json()["count"] == 0


def test_a_job_killed_with_scancel_is_resubmitted_and_resumes(corpus: Path, work: Path) -> None:
    proc = start(sweep_argv(corpus, work, flops="6e11", aspects="standard"), work / "sweep.log")
    state = wait_for("the job's submission", lambda: submitted(work, 1))
    ((run_id, entry),) = state.items()
    run_dir = sweep_dir(work) / "runs" / run_id
    wait_for("a checkpoint", lambda: (run_dir / "checkpoint.pt").exists())
    assert not (run_dir / "done.json").exists(), "the run finished before it could be killed"
    subprocess.run(["scancel", entry["job_ids"][0]], check=True)
    proc.wait(timeout=400)  # status 1: one model is too few to fit a law, which is not the point
    done = jsonl((work / "sweep.log").read_text())[-1]
    assert done["event"] == "done" and done["finished"] == 1 and not done["failed"], done

    entry = read_state(sweep_dir(work))[run_id]
    assert len(entry["job_ids"]) == 2 and entry["attempts"] == 1 and entry["status"] == "done"
    second = jsonl((run_dir / f"slurm-{entry['job_ids'][1]}.out").read_text())
    resumed = next(e for e in second if e["event"] == "start")["resumed_from_step"]
    assert resumed > 0  # from the killed job's checkpoint, not from scratch
    records = jsonl((work / "out" / "runs.jsonl").read_text())
    assert len({r["tokens"] for r in records}) == len(records) >= 3


def test_resume_after_the_submitter_died_duplicates_nothing(corpus: Path, work: Path) -> None:
    argv = sweep_argv(corpus, work, flops="3e11", aspects="standard,wide")
    proc = start(argv, work / "sweep.log")
    first = wait_for("both jobs' submission", lambda: submitted(work, 2))
    proc.send_signal(signal.SIGKILL)  # a lost login node: no clean-up runs
    proc.wait(timeout=60)
    alive = queue()
    assert all(alive.get(e["job_ids"][0]) in ALIVE | {"COMPLETED"} for e in first.values())

    again = finish([*argv, "--resume"])  # (two models are too few for a law: status 1)
    done = jsonl(again.stdout)[-1]
    assert done["event"] == "done" and done["finished"] == 2 and not done["failed"], again.stderr
    state = read_state(sweep_dir(work))
    for run_id, entry in state.items():  # the running jobs were adopted, not submitted again
        assert entry["job_ids"] == first[run_id]["job_ids"] and entry["status"] == "done"
        assert len(list((sweep_dir(work) / "runs" / run_id).glob("slurm-*.out"))) == 1
    records = jsonl((work / "out" / "runs.jsonl").read_text())
    assert len({(r["run"], r["tokens"]) for r in records}) == len(records) == done["observations"]


@pytest.mark.parametrize("how", ["--cancel", "SIGTERM"])
def test_cancel_leaves_no_job_in_the_queue(corpus: Path, work: Path, how: str) -> None:
    """``--cancel`` from another process, or SIGTERM to the submitter (the service's
    job cancel), leaves nothing queued or running."""
    argv = sweep_argv(corpus, work, flops="3e11", aspects="standard,wide")
    proc = start(argv, work / "sweep.log")
    state = wait_for("both jobs' submission", lambda: submitted(work, 2))
    ids = {e["job_ids"][0] for e in state.values()}
    if how == "SIGTERM":
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=120) == 128 + signal.SIGTERM
    else:
        cancel = finish([*argv, "--cancel"])
        assert cancel.returncode == 0, cancel.stderr
        assert ids <= set(cancel.stdout.split()), cancel.stdout
        assert proc.wait(timeout=120) == 1  # the submitter saw the cancel and stopped
    wait_for("the queue to empty", lambda: not ids & {i for i, s in queue().items() if s in ALIVE})
    left = subprocess.run(["squeue", "--noheader", "--format=%i"], capture_output=True,
                          text=True, check=True).stdout.split()  # fmt: skip
    assert not ids & set(left)
    state = read_state(sweep_dir(work))
    assert all(len(e["job_ids"]) == 1 and e["status"] == "cancelled" for e in state.values())

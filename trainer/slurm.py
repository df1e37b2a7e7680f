"""The Slurm executor: every planned run is one Slurm batch job, followed until it ends.

Plain ``sbatch`` / ``squeue`` / ``scancel`` through ``subprocess`` rather than submitit:
a run is already a command (``python -m flopwise.trainer train --job job.json``) with its
state on disk (checkpoint, observations, ``done.json``), so nothing needs pickling, the
job script a person can read and resubmit by hand is written beside the run, and the
only dependency is the Slurm client every cluster login node has.

* **Script.** ``run_dir/slurm.sh`` asks for ``--nodes`` / ``--ntasks-per-node=1`` /
  ``--gres=gpu:k`` / ``--time`` from the plan (CPU runs ask ``--cpus-per-task``), the
  partition, account, QoS and extra options from the request, ``--requeue`` (a
  preempted job is requeued by Slurm and resumes from its checkpoint) and writes its
  output to ``run_dir/slurm-<job id>.out``. One GPU runs the trainer under ``srun``;
  several on one node under ``torchrun --standalone``; more GPUs than a node holds run
  ``srun`` one torchrun per node meeting at a c10d rendezvous on the first node.
* **State.** ``sweep_dir/slurm-state.json`` (replaced atomically) lists every run's job
  ids, attempts and status. A resumed sweep adopts the jobs still queued or running
  (by id, or by job name for a submission whose id was never written down) instead of
  submitting them again; a run with ``done.json`` is never submitted.
* **Following.** Every ``poll_seconds`` the queue is read (``squeue --states=all``);
  new observations in a run's directory are passed on as ``eval`` events. A job that
  left the queue without its run's ``done.json`` (cancelled, failed, timed out, node
  failure) is resubmitted up to ``retries`` times and resumes from its checkpoint.
* **Cancel.** :func:`cancel_sweep` writes ``sweep_dir/cancelled`` and ``scancel`` s every
  job of the sweep; a submitter still following the sweep sees the marker and stops
  instead of resubmitting. A submitter stopped by a signal cancels its jobs too; one
  that dies (SIGKILL, a lost login node) leaves them running for ``--resume``.
"""

from __future__ import annotations

import contextlib
import json
import math
import shlex
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flopwise.protocol.events import EvalEvent
from flopwise.protocol.sweep import SweepRequest
from flopwise.trainer.checkpoint import read_done, read_observations, write_json_atomic
from flopwise.trainer.executor import (
    SKIPPED,
    ExecutorError,
    JobSpec,
    OnEvent,
    OnExit,
    Outcome,
    last_line,
)
from flopwise.trainer.sinks import record_key

__all__ = ["SlurmError", "SlurmExecutor", "cancel_sweep", "job_script", "read_state"]

STATE_FILE = "slurm-state.json"
CANCELLED = "cancelled"
ALIVE = frozenset(
    {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "REQUEUED", "REQUEUE_HOLD",
     "REQUEUE_FED", "RESIZING", "SUSPENDED", "PREEMPTED", "SIGNALING", "STAGE_OUT"}
)  # fmt: skip
"""squeue states of a job that may still run (PREEMPTED: requeued by --requeue)."""
RENDEZVOUS_PORT = 29500


class SlurmError(ExecutorError):
    """A Slurm command failed (its message is Slurm's)."""


def _slurm(*argv: str, attempts: int = 1) -> str:
    """Run a Slurm command; ``attempts`` > 1 retries (a read the controller may miss
    while it restarts), two seconds apart."""
    problem = ""
    for attempt in range(attempts):
        if attempt:
            threading.Event().wait(2.0)
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            problem = f"{argv[0]}: {exc}"
            continue
        if done.returncode == 0:
            return done.stdout
        problem = f"{argv[0]}: {' '.join(done.stderr.split()) or done.returncode}"
    raise SlurmError(problem)


def job_name(run_id: str) -> str:
    """The Slurm job name of a run (how a resumed sweep finds an unrecorded submission)."""
    return f"flopwise-{run_id}"


def _trainer(job: JobSpec) -> list[str]:
    return ["-m", "flopwise.trainer", "train", "--job", str(job.run_dir / "job.json"),
            "--progress", "jsonl"]  # fmt: skip


def job_script(job: JobSpec, request: SweepRequest, *, gpus: bool, threads: int) -> str:
    """The batch script of one run (see the module docstring)."""
    per_node = request.slurm_gpus_per_node
    nodes = max(1, math.ceil(job.n_devices / per_node)) if gpus else 1
    procs = job.n_devices // nodes if gpus else 1
    minutes = math.ceil(max(600.0, 3.0 * job.est_seconds) / 60.0)
    out = job.run_dir / "slurm-%j.out"
    lines = [
        "#!/bin/bash",
        f"#SBATCH --job-name={job_name(job.run_id)}",
        f"#SBATCH --output={out}",
        f"#SBATCH --error={out}",
        "#SBATCH --open-mode=append",
        f"#SBATCH --nodes={nodes}",
        "#SBATCH --ntasks-per-node=1",
        f"#SBATCH --time={minutes}",
        "#SBATCH --requeue",
    ]
    if gpus:
        lines.append(f"#SBATCH --gres=gpu:{procs}")
    elif threads:
        lines.append(f"#SBATCH --cpus-per-task={threads}")
    for flag, value in (("partition", request.slurm_partition),
                        ("account", request.slurm_account), ("qos", request.slurm_qos)):  # fmt: skip
        if value:
            lines.append(f"#SBATCH --{flag}={value}")
    lines += [f"#SBATCH {option}" for option in request.slurm_options]
    lines += ["set -euo pipefail", f"cd {shlex.quote(str(Path.cwd()))}"]
    if threads and not gpus:
        lines.append(f"export OMP_NUM_THREADS={threads}")
    python = shlex.quote(sys.executable)
    trainer = " ".join(shlex.quote(a) for a in _trainer(job))
    if procs == 1 and nodes == 1:
        lines.append(f"srun {python} {trainer}")
    elif nodes == 1:
        lines.append(f"srun {python} -m torch.distributed.run --standalone "
                     f"--nproc-per-node={procs} {trainer}")  # fmt: skip
    else:
        lines += [
            'head=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)',
            f"srun {python} -m torch.distributed.run --nnodes={nodes} "
            f"--nproc-per-node={procs} --rdzv-id=$SLURM_JOB_ID --rdzv-backend=c10d "
            f"--rdzv-endpoint=$head:{RENDEZVOUS_PORT} {trainer}",
        ]
    return "\n".join(lines) + "\n"


def read_state(sweep_dir: Path) -> dict[str, dict[str, Any]]:
    """run id -> ``{"job_ids": [...], "attempts": n, "status": ...}`` (empty: no state)."""
    path = sweep_dir / STATE_FILE
    return dict(json.loads(path.read_text())["runs"]) if path.exists() else {}


def _queue() -> dict[str, tuple[str, str]]:
    """Every job Slurm still knows: id -> (name, state)."""
    out: dict[str, tuple[str, str]] = {}
    listing = _slurm("squeue", "--noheader", "--states=all", "--format=%i|%j|%T", attempts=5)
    for line in listing.splitlines():
        parts = line.strip().split("|")
        if len(parts) == 3:
            out[parts[0]] = (parts[1], parts[2])
    return out


def cancel_sweep(sweep_dir: Path) -> list[str]:
    """Cancel every Slurm job of the sweep in ``sweep_dir``; returns their ids."""
    sweep_dir.mkdir(parents=True, exist_ok=True)
    (sweep_dir / CANCELLED).write_text("cancelled\n")
    state = read_state(sweep_dir)
    ids = [job_id for entry in state.values() for job_id in entry["job_ids"]]
    names = {job_name(run_id) for run_id in state}
    ids += [i for i, (name, st) in _queue().items() if name in names and st in ALIVE]
    ids = sorted(set(ids))
    if ids:
        _slurm("scancel", *ids)
    return ids


@dataclass
class _Tracked:
    job: JobSpec
    entry: dict[str, Any]
    seen: set[tuple[str, str, int]] = field(default_factory=set)


class SlurmExecutor:
    """Runs a sweep's jobs as Slurm jobs (see the module docstring)."""

    def __init__(
        self,
        sweep_dir: Path,
        request: SweepRequest,
        *,
        gpus: bool,
        threads: int,
        slots: int,
        stop: threading.Event | None = None,
    ) -> None:
        self.sweep_dir, self.request = sweep_dir, request
        self.gpus, self.threads, self.slots = gpus, threads, slots
        self.stop = stop or threading.Event()
        self.state = read_state(sweep_dir)

    def _save(self) -> None:
        write_json_atomic(self.sweep_dir / STATE_FILE, {"runs": self.state})

    def cancel(self) -> list[str]:
        return cancel_sweep(self.sweep_dir)

    def run(
        self, jobs: list[JobSpec], *, deadline: float, on_event: OnEvent, on_exit: OnExit
    ) -> Outcome:
        """Submit, follow and resubmit ``jobs`` until each has ended for good."""
        (self.sweep_dir / CANCELLED).unlink(missing_ok=True)
        outcome = Outcome()
        pending = sorted(jobs, key=lambda j: -j.est_seconds)
        active: dict[str, _Tracked] = {}
        queue = _queue()
        for job in list(pending):  # adopt what an earlier submitter left queued or running
            entry = self._entry(job.run_id)
            alive = [i for i, (name, st) in queue.items() if st in ALIVE and (
                i in entry["job_ids"] or name == job_name(job.run_id))]  # fmt: skip
            if alive:
                alive.sort(key=lambda i: (len(i), i))
                if len(alive) > 1:  # submitted twice (a lost sbatch answer): keep the newest
                    _slurm("scancel", *alive[:-1])
                entry["job_ids"] = [i for i in entry["job_ids"] if i not in alive] + alive
                active[job.run_id] = _Tracked(job, entry)
                pending.remove(job)
        self._save()
        try:
            self._follow(pending, active, outcome, deadline, on_event, on_exit)
        except BaseException:  # stopped by a signal: do not leave the cluster busy for nothing
            with contextlib.suppress(SlurmError):
                self._cancel_active(active)
            raise
        return outcome

    def _entry(self, run_id: str) -> dict[str, Any]:
        return self.state.setdefault(run_id, {"job_ids": [], "attempts": 0, "status": "pending"})

    def _submit(self, job: JobSpec) -> str:
        script = job.run_dir / "slurm.sh"
        script.write_text(job_script(job, self.request, gpus=self.gpus, threads=self.threads))
        job_id = _slurm("sbatch", "--parsable", str(script)).strip().split(";")[0]
        entry = self._entry(job.run_id)
        entry["job_ids"].append(job_id)
        entry["status"] = "submitted"
        self._save()
        return job_id

    def _follow(
        self,
        pending: list[JobSpec],
        active: dict[str, _Tracked],
        outcome: Outcome,
        deadline: float,
        on_event: OnEvent,
        on_exit: OnExit,
    ) -> None:
        while pending or active:
            if (self.sweep_dir / CANCELLED).exists() or time.monotonic() > deadline:
                self._give_up(pending, active, outcome, on_exit)
                return
            used = sum(t.job.n_devices for t in active.values())
            for job in list(pending):
                if used + job.n_devices <= self.slots or not active:
                    pending.remove(job)
                    self._submit(job)
                    active[job.run_id] = _Tracked(job, self._entry(job.run_id))
                    used += job.n_devices
            queue = _queue()
            for run_id, tracked in list(active.items()):
                self._new_evals(tracked, on_event)
                _, status = queue.get(tracked.entry["job_ids"][-1], ("", "GONE"))
                if status in ALIVE:
                    continue
                del active[run_id]
                self._ended(tracked, status, pending, outcome, on_exit)
            if pending or active:
                self.stop.wait(self.request.slurm_poll_seconds)

    def _cancel_active(self, active: dict[str, _Tracked]) -> None:
        if active:
            _slurm("scancel", *[t.entry["job_ids"][-1] for t in active.values()])
        for tracked in active.values():
            tracked.entry["status"] = "cancelled"
        self._save()

    def _new_evals(self, tracked: _Tracked, on_event: OnEvent) -> None:
        for record in read_observations(tracked.job.run_dir):
            key = record_key(record)
            if key not in tracked.seen:
                tracked.seen.add(key)
                event = EvalEvent(run=record["run"], tokens=record["tokens"],
                                  loss=record["loss"], record=record)  # fmt: skip
                on_event(tracked.job.run_id, event.to_dict())

    def _ended(
        self,
        tracked: _Tracked,
        status: str,
        pending: list[JobSpec],
        outcome: Outcome,
        on_exit: OnExit,
    ) -> None:
        job, entry = tracked.job, tracked.entry
        if read_done(job.run_dir) is not None:
            entry["status"] = "done"
            outcome.finished.append(job.run_id)
        elif (self.sweep_dir / CANCELLED).exists():  # cancelled under our feet: no resubmit
            entry["status"] = "cancelled"
            outcome.skipped.append(job.run_id)
        elif entry["attempts"] < self.request.retries:
            entry["attempts"] += 1
            entry["status"] = "resubmitting"
            pending.insert(0, job)
        else:
            entry["status"] = "failed"
            log = job.run_dir / f"slurm-{entry['job_ids'][-1]}.out"
            why = last_line(log) if log.exists() else "no output"
            outcome.failed[job.run_id] = f"slurm job {entry['job_ids'][-1]} {status}: {why}"
        self._save()
        if entry["status"] == "done":
            on_exit(job.run_id, "done", None)
        elif entry["status"] == "failed":
            on_exit(job.run_id, "failed", outcome.failed[job.run_id])
        elif entry["status"] == "cancelled":
            on_exit(job.run_id, "skipped", "the sweep was cancelled")

    def _give_up(
        self,
        pending: list[JobSpec],
        active: dict[str, _Tracked],
        outcome: Outcome,
        on_exit: OnExit,
    ) -> None:
        self._cancel_active(active)
        for tracked in active.values():
            on_exit(tracked.job.run_id, "skipped", SKIPPED)
        for job in pending:
            self._entry(job.run_id)["status"] = "cancelled"
        outcome.skipped.extend([*active, *(j.run_id for j in pending)])
        self._save()

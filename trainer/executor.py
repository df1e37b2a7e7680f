"""Run planned jobs as trainer processes: one per device, torchrun for multi-device jobs.

Each job is ``python -m trainer train --job run_dir/job.json --progress jsonl`` in its
own process (a crash or an out-of-memory kills one run, not the sweep), pinned to its
GPUs with ``CUDA_VISIBLE_DEVICES`` or given its CPU threads. A job that needs k devices
runs under ``python -m torch.distributed.run --standalone --nproc-per-node k``. The
children's JSON lines are read by one thread each and handed to the caller in order.
A failed job is retried (it resumes from its checkpoint); past the deadline no job is
started and running ones are stopped (they keep their checkpoints).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

__all__ = [
    "Executor",
    "ExecutorError",
    "JobSpec",
    "LocalExecutor",
    "Outcome",
    "last_line",
    "run_jobs",
]


@dataclass(frozen=True)
class JobSpec:
    """One job to run: its id, directory (holding job.json) and device count."""

    run_id: str
    run_dir: Path
    n_devices: int
    est_seconds: float


@dataclass
class Outcome:
    """What became of each job."""

    finished: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    """run id -> last line of its stderr."""
    skipped: list[str] = field(default_factory=list)
    """Not started or stopped: the deadline passed."""


OnEvent = Callable[[str, dict[str, Any]], None]
"""Receives ``(run_id, event)`` for each event of a run."""
OnExit = Callable[[str, str, str | None], None]
"""Receives ``(run_id, status, reason)`` once per job that ended for good: status
``done``, ``failed`` or ``skipped`` (the deadline passed; a cancelled sweep), the reason
why for the last two, as :class:`Outcome` records it."""
SKIPPED = "the time cap passed before it finished"


class ExecutorError(RuntimeError):
    """The executor's machinery failed (a scheduler command, say); its message says how."""


class Executor(Protocol):
    """Where a sweep's jobs run: this host (:class:`LocalExecutor`) or a cluster
    (``trainer.slurm.SlurmExecutor``). The sweep knows nothing else about either."""

    def run(
        self, jobs: list[JobSpec], *, deadline: float, on_event: OnEvent, on_exit: OnExit
    ) -> Outcome:
        """Run ``jobs`` until each ended for good or ``deadline`` (``time.monotonic()``)
        passed; ``on_event(run_id, event)`` gets the runs' events (``eval`` at least),
        ``on_exit(run_id, status, reason)`` is called once per job that ended."""
        ...

    def cancel(self) -> list[str]:
        """Cancel what this sweep left queued or running elsewhere; the ids cancelled."""
        ...


@dataclass(frozen=True)
class LocalExecutor:
    """Trainer processes on this host's devices (:func:`run_jobs`)."""

    devices: list[str]
    kind: str
    threads: int
    retries: int

    def run(
        self, jobs: list[JobSpec], *, deadline: float, on_event: OnEvent, on_exit: OnExit
    ) -> Outcome:
        return run_jobs(jobs, devices=self.devices, kind=self.kind, threads=self.threads,
                        deadline=deadline, on_event=on_event, on_exit=on_exit,
                        retries=self.retries)  # fmt: skip

    def cancel(self) -> list[str]:
        """Nothing: local jobs are children of the sweep and stop with it (SIGTERM)."""
        return []


def _command(job: JobSpec) -> list[str]:
    trainer = [
        "-m",
        "flopwise.trainer",
        "train",
        "--job",
        str(job.run_dir / "job.json"),
        "--progress",
        "jsonl",
    ]
    if job.n_devices == 1:
        return [sys.executable, *trainer]
    launcher = ["-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={job.n_devices}"]
    return [sys.executable, *launcher, *trainer]


def _env(devices: list[str], kind: str, threads: int) -> dict[str, str]:
    env = dict(os.environ)
    if kind == "cuda":
        env["CUDA_VISIBLE_DEVICES"] = ",".join(devices)
    elif threads:
        env["OMP_NUM_THREADS"] = str(threads)
    return env


def _pump(
    run_id: str, stream: IO[str], events: queue.Queue[tuple[str, dict[str, Any] | None]]
) -> None:
    for line in stream:
        line = line.strip()
        if line.startswith("{"):
            try:
                events.put((run_id, json.loads(line)))
            except json.JSONDecodeError:
                continue
    events.put((run_id, None))


@dataclass
class _Running:
    job: JobSpec
    proc: subprocess.Popen[str]
    devices: list[str]
    attempt: int


def last_line(path: Path) -> str:
    lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    return lines[-1] if lines else "no output"


class _Pool:
    """Devices, running processes and the event queue of one execution."""

    def __init__(self, devices: list[str], kind: str, threads: int) -> None:
        self.free = list(devices)
        self.kind, self.threads = kind, threads
        self.running: dict[str, _Running] = {}
        self.events: queue.Queue[tuple[str, dict[str, Any] | None]] = queue.Queue()

    def start(self, job: JobSpec, attempt: int) -> None:
        devices, self.free = self.free[: job.n_devices], self.free[job.n_devices :]
        err = (job.run_dir / "stderr.log").open("a")
        proc = subprocess.Popen(
            _command(job),
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=_env(devices, self.kind, self.threads),
        )
        err.close()
        assert proc.stdout is not None
        threading.Thread(
            target=_pump, args=(job.run_id, proc.stdout, self.events), daemon=True
        ).start()
        self.running[job.run_id] = _Running(job, proc, devices, attempt)

    def finish(self, run_id: str) -> tuple[_Running, int]:
        entry = self.running.pop(run_id)
        code = entry.proc.wait()
        if entry.proc.stdout is not None:  # the reader saw its end: close our side
            entry.proc.stdout.close()
        self.free.extend(entry.devices)
        return entry, code

    def stop_all(self) -> None:
        for entry in self.running.values():
            if entry.proc.poll() is None:
                entry.proc.send_signal(signal.SIGTERM)


def run_jobs(
    jobs: list[JobSpec],
    *,
    devices: list[str],
    kind: str,
    threads: int,
    deadline: float,
    on_event: OnEvent,
    on_exit: OnExit,
    retries: int = 1,
) -> Outcome:
    """Run ``jobs`` (longest first) on ``devices``; see the module docstring.

    ``on_event(run_id, event)`` gets every JSON event of a child; ``on_exit(run_id,
    ok)`` is called once per job when it has ended for good.
    """
    pool, outcome = _Pool(devices, kind, threads), Outcome()
    try:
        _schedule(jobs, pool, outcome, deadline, on_event, on_exit, retries)
    finally:  # interrupted (SIGTERM, Ctrl-C): stop the children, keep their checkpoints
        pool.stop_all()
        for entry in pool.running.values():
            entry.proc.wait()
    return outcome


def _schedule(
    jobs: list[JobSpec],
    pool: _Pool,
    outcome: Outcome,
    deadline: float,
    on_event: OnEvent,
    on_exit: OnExit,
    retries: int,
) -> None:
    pending = sorted(jobs, key=lambda j: -j.est_seconds)
    attempts = {j.run_id: 0 for j in jobs}
    stopping = False
    while pending or pool.running:
        if time.monotonic() > deadline and not stopping:
            stopping = True
            outcome.skipped.extend(j.run_id for j in pending)
            for job in pending:  # never started: said so, like every other run
                on_exit(job.run_id, "skipped", SKIPPED)
            pending.clear()
            pool.stop_all()
        for job in [j for j in pending if j.n_devices <= len(pool.free)]:
            if job.n_devices <= len(pool.free):
                pending.remove(job)
                pool.start(job, attempts[job.run_id])
        if not pool.running:  # what is left cannot start: it needs more devices than exist
            for job in pending:
                outcome.failed[job.run_id] = f"needs {job.n_devices} devices; this host has fewer"
                on_exit(job.run_id, "failed", outcome.failed[job.run_id])
            return
        try:
            run_id, event = pool.events.get(timeout=1.0)
        except queue.Empty:
            continue
        if event is not None:
            on_event(run_id, event)
            continue
        entry, code = pool.finish(run_id)
        if stopping and code != 0:
            outcome.skipped.append(run_id)
            on_exit(run_id, "skipped", SKIPPED)
        elif code == 0 and (entry.job.run_dir / "done.json").exists():
            outcome.finished.append(run_id)
            on_exit(run_id, "done", None)
        elif attempts[run_id] < retries:
            attempts[run_id] += 1
            pending.insert(0, entry.job)
        else:
            outcome.failed[run_id] = last_line(entry.job.run_dir / "stderr.log")
            on_exit(run_id, "failed", outcome.failed[run_id])

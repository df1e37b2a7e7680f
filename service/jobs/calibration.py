"""Calibration jobs: run the trainer's sweep as a separate process and follow it.

The service never imports torch or the trainer: it writes the request
(``protocol.sweep.SweepRequest``) as JSON and starts
``python -m flopwise.trainer sweep --config sweep.json --progress jsonl --yes`` (on this
host's devices, or submitting to Slurm with ``executor: slurm``), and reads one JSON object per
line from its stdout (``plan``, ``eval``, ``run_done``, ``fit``, ``done``; anything
else is ignored). The trainer posts its evaluations to this server's
``POST /v1/runs`` like any client, which queues the refit.

The trainer reports to the URL the operator configured (``Settings.base_url``), never
one a request names, and gets the API key in its environment (``FLOPWISE_API_KEY``),
never on its command line where ``ps`` shows it. It runs in its own process group, so
stopping a job (cancel, lease lost, shutdown) stops the trainer and every process it
started: SIGTERM to the group, SIGKILL after ``STOP_GRACE_SECONDS``.
"""

from __future__ import annotations

import collections
import importlib.util
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import IO, Any

from flopwise.protocol.events import (
    DoneEvent,
    EvalEvent,
    Event,
    FitEvent,
    PlanEvent,
    RunDoneEvent,
    parse_event,
)
from flopwise.service.config import Settings
from flopwise.service.jobs.base import JobContext, JobError, Outcome
from flopwise.service.jobs.trainers import die_with_parent, record_of, stop
from flopwise.service.store.jobs import Job

__all__ = [
    "apply_event",
    "calibration_argv",
    "calibration_available",
    "calibration_env",
    "cancel_calibration",
    "clean_up_after",
    "run_calibration",
    "stop_group",
    "write_sweep_config",
]

log = logging.getLogger(__name__)

STDERR_TAIL_LINES = 40
STOP_GRACE_SECONDS = 10.0
RUNTIME_KEYS = frozenset({"service_url"})
"""Payload keys that are not part of the sweep request (``SweepRequest``)."""


def calibration_available(settings: Settings, executor: str = "local") -> str | None:
    """``None`` when sweeps can run here (and, for ``slurm``, be submitted), else why not."""
    if executor == "slurm" and shutil.which("sbatch") is None:
        return "executor slurm: this host cannot submit to Slurm (no sbatch on its PATH)"
    if settings.trainer_command:
        return None
    for module in ("torch", "flopwise.trainer"):
        if importlib.util.find_spec(module) is None:
            return (
                f"calibration needs the trainer, and {module} is not installed here: "
                "pip install 'flopwise[train]' (from a checkout: pip install '.[train]'; on "
                "a machine without a GPU first pip install torch --index-url "
                "https://download.pytorch.org/whl/cpu, as a plain torch pulls a CUDA build), "
                "or use the trainer image"
            )
    return None


def write_sweep_config(payload: dict[str, Any], directory: str) -> str:
    """The sweep request of a calibration payload as the trainer's ``--config`` JSON."""
    path = os.path.join(directory, "sweep.json")
    request = {k: v for k, v in payload.items() if k not in RUNTIME_KEYS}
    with open(path, "w", encoding="utf-8") as out:
        json.dump(request, out)
    return path


def calibration_argv(payload: dict[str, Any], settings: Settings, config: str) -> list[str]:
    """The trainer command line for a calibration payload whose request is in ``config``
    (:func:`write_sweep_config`)."""
    base = list(settings.trainer_command or [sys.executable, "-m", "flopwise.trainer"])
    argv = [*base, "sweep", "--config", config]
    return [*argv, "--service-url", settings.base_url, "--progress", "jsonl", "--yes"]


def calibration_env(settings: Settings) -> dict[str, str]:
    """The trainer's environment: this one, with the API key (never on argv)."""
    env = {k: v for k, v in os.environ.items() if k != "FLOPWISE_API_KEY"}
    if settings.api_key:
        env["FLOPWISE_API_KEY"] = settings.api_key
    return env


def cancel_calibration(payload: dict[str, Any], settings: Settings) -> str:
    """Cancel what a calibration left queued on its executor (its Slurm jobs), for the
    job-cancel path when the sweep process is gone; returns the trainer's answer."""
    with tempfile.TemporaryDirectory() as tmp:
        argv = calibration_argv(payload, settings, write_sweep_config(payload, tmp))
        argv = [*argv[: argv.index("--service-url")], "--cancel", "--progress", "none"]
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env=calibration_env(settings),
        )
    if done.returncode != 0:
        raise JobError(f"cancel: trainer exited {done.returncode}: {done.stderr.strip()[-1000:]}")
    return done.stdout.strip()


def clean_up_after(job: Job, settings: Settings, *, now: float | None = None) -> list[str]:
    """Stop what a calibration left behind when no live worker holds it (ended, or its
    lease expired): its trainer on this host, and its Slurm jobs (``cancel_calibration``,
    which a dead worker's job never ran). Returns what was done, in words."""
    at = time.time() if now is None else now
    held = job.status == "running" and (job.lease_expires_at or 0.0) >= at
    if job.kind != "calibration" or held or job.status == "queued":
        return []
    done = []
    if stop((job.progress or {}).get("trainer")):
        done.append("stopped its trainer")
    if job.payload.get("executor") == "slurm":
        try:
            answer = cancel_calibration(job.payload, settings)
            done.append(f"cancelled its Slurm jobs ({answer or 'none left'})")
        except JobError as exc:
            log.warning("job %s: %s", job.id, exc)
            done.append(f"could not cancel its Slurm jobs: {exc}")
    return done


def apply_event(progress: dict[str, Any], event: Event) -> dict[str, Any]:
    """The job's progress after one trainer event (other events change nothing)."""
    out = dict(progress)
    if isinstance(event, PlanEvent):
        out.update(stage="training", total_runs=event.total_runs, runs_done=0)
    elif isinstance(event, EvalEvent):
        out["last_eval"] = {"run": event.run, "tokens": event.tokens, "loss": event.loss}
        out["evals"] = int(out.get("evals", 0)) + 1
    elif isinstance(event, RunDoneEvent):
        out.update(runs_done=event.done, total_runs=event.total or out.get("total_runs"))
    elif isinstance(event, FitEvent):
        out.update(stage="fitted", law={"law_id": event.law_id, "version": event.version})
    elif isinstance(event, DoneEvent):
        out["stage"] = "done"
    return out


def _parse(line: str) -> Event | None:
    try:
        return parse_event(json.loads(line))
    except ValueError:
        return None


def _follow(
    proc: subprocess.Popen[str], ctx: JobContext, trainer: dict[str, Any]
) -> dict[str, Any]:
    progress: dict[str, Any] = {"stage": "starting", "trainer": trainer}
    ctx.progress(**progress)
    stdout: IO[str] | None = proc.stdout
    assert stdout is not None
    for line in stdout:
        event = _parse(line.strip())
        if event is not None:
            progress = apply_event(progress, event)
            ctx.progress(**progress)
    return progress


def stop_group(proc: subprocess.Popen[str], grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM the process group ``proc`` leads; SIGKILL it if ``proc`` outlives ``grace``."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            if sig == signal.SIGTERM:
                os.killpg(proc.pid, signal.SIGKILL)  # stragglers of the group
            return
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            return


def _watchdog(proc: subprocess.Popen[str], ctx: JobContext, done: threading.Event) -> None:
    while not done.wait(0.5):
        if ctx.should_stop:
            stop_group(proc)
            return


def run_calibration(job: Job, ctx: JobContext) -> Outcome:
    """Run the sweep to its end; the job fails when the trainer exits non-zero."""
    done = threading.Event()
    with (
        tempfile.TemporaryDirectory() as tmp,
        tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as stderr,
    ):
        argv = calibration_argv(job.payload, ctx.settings, write_sweep_config(job.payload, tmp))
        try:
            proc = subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                env=calibration_env(ctx.settings),
                start_new_session=True,
                preexec_fn=die_with_parent,  # the trainer never outlives this service
            )
        except OSError as exc:
            raise JobError(f"could not start the trainer ({argv[0]}): {exc}") from None
        guard = threading.Thread(target=_watchdog, args=(proc, ctx, done), daemon=True)
        guard.start()
        with proc:
            progress = _follow(proc, ctx, record_of(proc.pid, argv))
            code = proc.wait()
        done.set()
        guard.join()
        stderr.seek(0)
        tail = "".join(collections.deque(stderr, maxlen=STDERR_TAIL_LINES)).strip()
    if code != 0:
        raise JobError(f"trainer exited with status {code}: {tail[-3000:]}")
    return Outcome(result=progress.get("law"))

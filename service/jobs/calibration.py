"""Calibration jobs: run the trainer's sweep as a separate process and follow it.

The service never imports torch or the trainer: it starts
``python -m trainer sweep ... --progress jsonl --yes`` and reads one JSON object per
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
import os
import signal
import subprocess
import sys
import tempfile
import threading
from typing import IO, Any

from flopwise.service.config import Settings
from flopwise.service.jobs.base import JobContext, JobError, Outcome
from flopwise.service.store.jobs import Job

__all__ = [
    "apply_event",
    "calibration_argv",
    "calibration_available",
    "calibration_env",
    "run_calibration",
    "stop_group",
]

STDERR_TAIL_LINES = 40
STOP_GRACE_SECONDS = 10.0
SWEEP_OPTIONS = (
    "max_runs",
    "sizes",
    "tokens_per_param",
    "evals",
    "cpu_jobs",
    "threads",
    "corpus_bytes",
    "seed",
)
"""Sweep-design fields of a calibration request, passed as ``--max-runs`` etc. (checked
by the request schema)."""


def calibration_available(settings: Settings) -> str | None:
    """``None`` when sweeps can run here, else why not."""
    if settings.trainer_command:
        return None
    for module in ("torch", "flopwise.trainer"):
        if importlib.util.find_spec(module) is None:
            return (
                f"calibration needs the trainer, and {module} is not installed here: "
                "pip install 'flopwise[train]' (from a checkout: pip install '.[train]'), "
                "or use the trainer image"
            )
    return None


def calibration_argv(payload: dict[str, Any], settings: Settings) -> list[str]:
    """The trainer command line for a calibration payload."""
    base = list(settings.trainer_command or [sys.executable, "-m", "flopwise.trainer"])
    argv = [*base, "sweep", "--dataset", payload["dataset"]]
    if payload.get("flops") is not None:
        argv += ["--flops", repr(float(payload["flops"]))]
    else:
        argv += ["--gpu-hours", repr(float(payload["gpu_hours"])), "--gpu", payload["gpu"]]
    argv += ["--time-cap-hours", repr(float(payload["time_cap_hours"]))]
    argv += ["--device", payload["device"]]
    if payload.get("corpus"):
        argv += ["--corpus", payload["corpus"]]
    for key in SWEEP_OPTIONS:
        if payload.get(key) is not None:
            argv += [f"--{key.replace('_', '-')}", str(payload[key])]
    argv += ["--service-url", settings.base_url, "--progress", "jsonl", "--yes"]
    return argv


def calibration_env(settings: Settings) -> dict[str, str]:
    """The trainer's environment: this one, with the API key (never on argv)."""
    env = {k: v for k, v in os.environ.items() if k != "FLOPWISE_API_KEY"}
    if settings.api_key:
        env["FLOPWISE_API_KEY"] = settings.api_key
    return env


def apply_event(progress: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """The job's progress after one trainer event (unknown events change nothing)."""
    kind = event.get("event")
    out = dict(progress)
    if kind == "plan":
        out.update(stage="training", total_runs=event.get("total_runs"), runs_done=0)
    elif kind == "eval":
        out["last_eval"] = {k: event.get(k) for k in ("run", "tokens", "loss")}
        out["evals"] = int(out.get("evals", 0)) + 1
    elif kind == "run_done":
        out.update(
            runs_done=event.get("done"), total_runs=event.get("total", out.get("total_runs"))
        )
    elif kind == "fit":
        out.update(
            stage="fitted", law={"law_id": event.get("law_id"), "version": event.get("version")}
        )
    elif kind == "done":
        out["stage"] = "done"
    return out


def _parse(line: str) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) and "event" in value else None


def _follow(proc: subprocess.Popen[str], ctx: JobContext) -> dict[str, Any]:
    progress: dict[str, Any] = {"stage": "starting"}
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
    argv = calibration_argv(job.payload, ctx.settings)
    done = threading.Event()
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as stderr:
        try:
            proc = subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                env=calibration_env(ctx.settings),
                start_new_session=True,
            )
        except OSError as exc:
            raise JobError(f"could not start the trainer ({argv[0]}): {exc}") from None
        guard = threading.Thread(target=_watchdog, args=(proc, ctx, done), daemon=True)
        guard.start()
        with proc:
            progress = _follow(proc, ctx)
            code = proc.wait()
        done.set()
        guard.join()
        stderr.seek(0)
        tail = "".join(collections.deque(stderr, maxlen=STDERR_TAIL_LINES)).strip()
    if code != 0:
        raise JobError(f"trainer exited with status {code}: {tail[-3000:]}")
    return Outcome(result=progress.get("law"))

"""Trainers the service owns (issue 24): a calibration's trainer never outlives the
service that started it, and a job's record says which process it was.

* The trainer runs in its own process group (so a stop reaches everything it started)
  with Linux's parent-death signal: when the thread that started it dies (the service
  killed, its worker gone) the kernel sends it SIGTERM, and the trainer stops its runs
  and cancels its Slurm jobs as on any SIGTERM (:func:`die_with_parent`).
* The job's progress records the trainer (``{"host", "pid"}``; the pid leads its group):
  on this host :func:`alive` tells whether it still runs, :func:`stop` ends its group.
* :func:`reap` stops, on this host, every recorded trainer whose job no live worker
  holds (an ended job, or one whose lease expired); calibration workers run it as they
  start and between jobs. The cap on calibrations counts live trainers too
  (:func:`live_trainers`), not only job rows.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import socket
import sys
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

from sqlalchemy import select

from flopwise.service.store.db import Database
from flopwise.service.store.models import JobRow

__all__ = ["alive", "die_with_parent", "live_trainers", "reap", "record_of", "stop"]

PR_SET_PDEATHSIG = 1
"""prctl(2) option: the signal a process gets when its parent thread exits."""
RECENT = 200
"""Calibration jobs (newest first) :func:`reap` and :func:`live_trainers` look at."""


def die_with_parent() -> None:  # pragma: no cover - runs in the child, before exec
    """``preexec_fn`` of a trainer: SIGTERM when the starting thread dies (Linux); exit
    at once if the parent is already gone."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


CMD_CHARS = 300
"""How much of the trainer's command line a record keeps, to tell it from a reused pid."""


def record_of(pid: int, argv: list[str]) -> dict[str, Any]:
    """What a job's progress keeps about the trainer it started."""
    return {"host": socket.gethostname(), "pid": pid, "cmd": "\0".join(argv)[:CMD_CHARS]}


def _same_process(pid: int, cmd: Any) -> bool:
    """Whether ``pid`` still runs the command the record saw (not a reused pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return not isinstance(cmd, str)  # no /proc here: the group's existence must do
    return isinstance(cmd, str) and cmdline.startswith(cmd)


def alive(record: Any) -> bool:
    """Whether the trainer ``record`` names runs, on this host."""
    if not isinstance(record, dict) or record.get("host") != socket.gethostname():
        return False
    pid = record.get("pid")
    if not isinstance(pid, int) or pid <= 1:
        return False
    try:
        os.killpg(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return _same_process(pid, record.get("cmd"))


def stop(record: Any, grace: float = 10.0) -> bool:
    """End the process group of the trainer ``record`` names (SIGTERM, then SIGKILL after
    ``grace`` seconds); ``False`` when it was not running here."""
    if not alive(record):
        return False
    pid = int(record["pid"])
    with suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return True
        with suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reap it if this process started it
        time.sleep(0.05)
    with suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    return True


def _unheld(row: JobRow, now: float) -> bool:
    """Whether no live worker holds the job ``row``."""
    if row.status != "running":
        return True
    return row.lease_expires_at is None or row.lease_expires_at < now


def _recorded(db: Database) -> list[JobRow]:
    with db.read_session() as session:
        query = (
            select(JobRow)
            .where(JobRow.kind == "calibration", JobRow.status != "queued")
            .order_by(JobRow.created_at.desc())
            .limit(RECENT)
        )
        return list(session.scalars(query))


def reap(db: Database, *, now: float | None = None) -> list[str]:
    """Stop every trainer on this host whose job no live worker holds; the ids of the
    jobs whose trainers were stopped."""
    at = time.time() if now is None else now
    stopped = []
    for row in _recorded(db):
        record = (row.progress or {}).get("trainer")
        if _unheld(row, at) and stop(record):
            stopped.append(row.id)
    return stopped


def live_trainers(db: Database) -> int:
    """Trainers on this host of calibration jobs that are no longer running (orphans:
    the cap counts them until :func:`reap` stops them)."""
    return sum(
        1
        for row in _recorded(db)
        if row.status != "running" and alive((row.progress or {}).get("trainer"))
    )

"""Checkpoints and the files a run leaves in its directory.

``run_dir/`` holds

* ``job.json``          the job (written by whoever starts the run);
* ``checkpoint.pt``     model, optimizer, step and observations so far, replaced
                        atomically (write a temporary file, then ``os.replace``) so a
                        run killed at any instant leaves either the old or the new one;
* ``checkpoint-<tokens>.pt`` copies kept at chosen token counts, for the cooldown
                        branches of a warmup-stable-decay sweep to start from;
* ``observations.jsonl`` the observation records so far, rewritten from the checkpoint;
* ``done.json``         written last: the run finished (or diverged) and need not run again;
* ``lock``              held (``flock``) by the process training the run, so a second
                        process started on the same run (a resumed sweep whose earlier
                        invocation was killed, leaving its trainer running) waits for the
                        first instead of training the same run twice.

A checkpoint carries the job's identity (:meth:`trainer.config.Job.identity`); resuming
from a directory that holds a different run is refused rather than silently mixed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

__all__ = [
    "Checkpoint",
    "keep_checkpoint",
    "kept_checkpoint",
    "load_branch_start",
    "load_checkpoint",
    "read_done",
    "read_observations",
    "restore",
    "run_lock",
    "save_checkpoint",
    "write_done",
    "write_json_atomic",
    "write_observations",
]

CHECKPOINT = "checkpoint.pt"
OBSERVATIONS = "observations.jsonl"
DONE = "done.json"


@dataclass(frozen=True)
class Checkpoint:
    """Everything needed to continue a run exactly where it stopped."""

    step: int
    """Optimizer steps completed."""
    model: dict[str, Any]
    optimizer: dict[str, Any]
    observations: list[dict[str, Any]]
    """Observation records emitted so far."""
    identity: dict[str, Any]
    """The job identity the checkpoint belongs to."""
    train_seconds: float
    """Wall seconds spent in training steps so far (evaluation excluded)."""


def _atomic(path: Path, write: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so readers see the old file or the new one, never half of one."""
    _atomic(path, lambda tmp: tmp.write_text(json.dumps(data, indent=1)))


def save_checkpoint(run_dir: Path, ckpt: Checkpoint) -> None:
    """Replace ``run_dir/checkpoint.pt`` atomically."""
    payload = {
        "step": ckpt.step,
        "model": ckpt.model,
        "optimizer": ckpt.optimizer,
        "observations": ckpt.observations,
        "identity_json": json.dumps(ckpt.identity, sort_keys=True),
        "train_seconds": ckpt.train_seconds,
    }
    _atomic(run_dir / CHECKPOINT, lambda tmp: torch.save(payload, tmp))


def load_checkpoint(run_dir: Path, identity: dict[str, Any]) -> Checkpoint | None:
    """The run's last checkpoint, ``None`` if there is none.

    Raises ``ValueError`` when the directory holds a checkpoint of a different job.
    """
    path = run_dir / CHECKPOINT
    if not path.exists():
        return None
    payload = torch.load(path, map_location="cpu", weights_only=True)
    saved = json.loads(payload["identity_json"])
    wanted = json.loads(json.dumps(identity, sort_keys=True))
    if saved != wanted:
        changed = sorted(_diff(saved, wanted))
        raise ValueError(
            f"run_dir: {run_dir} holds a checkpoint of a different job "
            f"({', '.join(changed[:5])} differ); use a fresh run directory"
        )
    return Checkpoint(
        step=int(payload["step"]),
        model=payload["model"],
        optimizer=payload["optimizer"],
        observations=list(payload["observations"]),
        identity=saved,
        train_seconds=float(payload["train_seconds"]),
    )


def kept_checkpoint(run_dir: Path, tokens: int) -> Path:
    """Where the copy of ``run_dir``'s checkpoint at ``tokens`` is kept."""
    return run_dir / f"checkpoint-{tokens}.pt"


def keep_checkpoint(run_dir: Path, tokens: int) -> None:
    """Keep a copy of the current checkpoint (atomically, like the checkpoint itself)."""
    source = (run_dir / CHECKPOINT).read_bytes()
    _atomic(kept_checkpoint(run_dir, tokens), lambda tmp: tmp.write_bytes(source))


def load_branch_start(path: Path) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """(step, model, optimizer) of another run's kept checkpoint, for a branch that
    continues from it under its own job (so no identity check; its observations stay
    the other run's). ``ValueError`` naming ``branch_from`` when it is missing."""
    if not path.exists():
        raise ValueError(f"branch_from: {path} does not exist (has the trunk run reached it?)")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    return int(payload["step"]), payload["model"], payload["optimizer"]


def restore(
    run_dir: Path,
    identity: dict[str, Any],
    branch_from: str,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
) -> tuple[int, list[dict[str, Any]], float]:
    """Load the run's checkpoint into ``model`` and ``optimizer``, or, for a cooldown
    branch starting afresh, its trunk's kept one (the trunk's observations stay the
    trunk's): (step to start from, observations so far, training seconds so far)."""
    ckpt = load_checkpoint(run_dir, identity)
    if ckpt is None and not branch_from:
        return 0, [], 0.0
    if ckpt is None:
        step, weights, state = load_branch_start(Path(branch_from))
        records, seconds = [], 0.0
    else:
        step, weights, state = ckpt.step, ckpt.model, ckpt.optimizer
        records, seconds = list(ckpt.observations), ckpt.train_seconds
    model.load_state_dict(weights)
    optimizer.load_state_dict(state)
    return step, records, seconds


def _diff(a: Any, b: Any, prefix: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in set(a) | set(b):
            out.extend(_diff(a.get(key), b.get(key), f"{prefix}{key}."))
        return out
    return [] if a == b else [prefix.rstrip(".")]


def write_observations(run_dir: Path, records: list[dict[str, Any]]) -> None:
    """Rewrite ``observations.jsonl`` (one record per line)."""
    text = "".join(json.dumps(r) + "\n" for r in records)
    _atomic(run_dir / OBSERVATIONS, lambda tmp: tmp.write_text(text))


def read_observations(run_dir: Path) -> list[dict[str, Any]]:
    """The observation records a run has written (empty when none)."""
    path = run_dir / OBSERVATIONS
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def write_done(run_dir: Path, summary: dict[str, Any]) -> None:
    """Mark the run finished."""
    write_json_atomic(run_dir / DONE, summary)


def read_done(run_dir: Path) -> dict[str, Any] | None:
    """The run's final summary, ``None`` while it has not finished."""
    path = run_dir / DONE
    return json.loads(path.read_text()) if path.exists() else None


@contextlib.contextmanager
def run_lock(run_dir: Path, waiting: Callable[[], None]) -> Iterator[None]:
    """Hold the run's lock; call ``waiting()`` first if another process holds it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / "lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waiting()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

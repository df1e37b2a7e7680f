"""The throughput half of a refit: fit ``<dataset>-throughput`` to the step times the
dataset's runs carry and publish it when the fit succeeds and passes its check.

Runs carry ``seconds_per_step``, ``gpu``, ``n_gpus`` and their shape; the global batch
is the ``batch_tokens`` tag, else ``tokens_per_second x seconds_per_step`` (what the
trainer's step clock posts). One measurement per run: its last evaluation, whose clock
averaged the most steps. Only the most common GPU's runs are fitted.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from sqlalchemy import select

from flopwise.fitting.counting import ArchFamily
from flopwise.fitting.hardware import gpu
from flopwise.fitting.throughput.fit import StepTimes, fit_throughput
from flopwise.fitting.throughput.model import ThroughputModel
from flopwise.service.store.db import Database
from flopwise.service.store.models import RunRow
from flopwise.service.store.published import latest, publish
from flopwise.service.store.throughput import THROUGHPUT

__all__ = ["MAX_MEDIAN_ERROR", "fit_dataset_throughput", "refit_throughput"]

MAX_MEDIAN_ERROR = 0.25
"""A model whose median relative step-time error on its own data exceeds this is not
published (the law check's bar)."""


def _batch_tokens(row: Any) -> float | None:
    tags = row.tags or {}
    try:
        if "batch_tokens" in tags:
            return float(tags["batch_tokens"])
        if "tokens_per_second" in tags:
            return float(tags["tokens_per_second"]) * float(row.seconds_per_step)
    except ValueError:
        return None
    return None


def _step_times(db: Database, dataset: str) -> StepTimes | None:
    """The dataset's step times on its most common GPU, one per run; ``None`` if none."""
    with db.read_session() as session:
        rows = session.execute(
            select(RunRow)
            .where(RunRow.dataset == dataset, RunRow.seconds_per_step.is_not(None))
            .order_by(RunRow.tokens)
        ).scalars()
        last: dict[str, Any] = {}
        for row in rows:
            if row.width and row.depth and row.n_gpus and row.gpu and _batch_tokens(row):
                last[row.run] = row  # ordered by tokens: the last evaluation wins
    if not last:
        return None
    common = Counter(r.gpu for r in last.values()).most_common(1)[0][0]
    picked = [r for r in last.values() if r.gpu == common]
    return StepTimes(
        width=np.array([r.width for r in picked]),
        depth=np.array([r.depth for r in picked]),
        n_gpus=np.array([r.n_gpus for r in picked]),
        batch_tokens=np.array([_batch_tokens(r) for r in picked], dtype=float),
        seconds_per_step=np.array([r.seconds_per_step for r in picked]),
        gpu=common,
    )


def fit_dataset_throughput(
    db: Database, dataset: str, family: ArchFamily
) -> tuple[ThroughputModel | None, str]:
    """Fit the dataset's throughput model: ``(model, "")`` or ``(None, why not)``."""
    times = _step_times(db, dataset)
    if times is None:
        return None, "no runs with step time, GPU, GPU count, shape and batch"
    try:
        peak = gpu(times.gpu).peak_bf16_flops
        result = fit_throughput(
            times,
            family=family,
            peak_flops=peak,
            model_id=f"{dataset}-throughput",
            source=f"refit of dataset {dataset!r} ({len(times)} runs on {times.gpu})",
        )
    except ValueError as exc:
        return None, str(exc)
    if result.model is None:
        return None, f"fit did not succeed: {result.message}"
    error = float(result.model.diagnostics["median_relative_error"])
    if error > MAX_MEDIAN_ERROR:
        return None, f"median relative step-time error on its data is {error:.0%}"
    return result.model, ""


def refit_throughput(db: Database, dataset: str, family: ArchFamily, job_id: str) -> dict[str, Any]:
    """Fit and publish; what happened, for the refit job's report."""
    model, reason = fit_dataset_throughput(db, dataset, family)
    if model is None:
        return {"published": False, "reason": reason}
    last = latest(db, THROUGHPUT, model.id)
    if last is not None and last.value.constants() == model.constants():
        return {"published": False, "reason": f"unchanged since {last.value.ref}"}
    with db.write_session.begin() as session:
        done = publish(session, THROUGHPUT, model, dataset=dataset, job_id=job_id)
    published = done.status != "superseded"  # "repeated": this job's earlier attempt did
    return {"published": published, "id": model.id, "version": done.version}

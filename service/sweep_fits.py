"""The sweep fits over HTTP: ``POST /v1/hyperparams/fit`` and
``POST /v1/critical-batch/fit`` answer what ``flopwise fit-hyperparams`` and
``flopwise fit-critical-batch`` print with ``--json``, from runs sent inline or, for
the hyper-parameter fit, a stored dataset's runs (``fitting.fit.sweep_runs``: each run's
loss at its planned end, its schedule's peak LR, its ``batch_tokens``). Excluded and
non-physical runs are left out as a refit leaves them out (``jobs.screening.screen``),
and they and the runs that say too little are named in the warnings. A sweep the core
refuses is a 422 on the list or dataset it came in. Imported by its routes only, so
answering a query never loads the fit engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.fit.critical_batch import fit_critical_batch
from flopwise.fitting.fit.hyper import fit_hyperparams
from flopwise.fitting.fit.sweep_runs import sweep_rows
from flopwise.fitting.laws import NDefinition
from flopwise.service.errors import FieldError
from flopwise.service.jobs.screening import screen
from flopwise.service.schemas.sweep_fits import CriticalFitRequest, HyperFitRequest
from flopwise.service.store.db import Database
from flopwise.service.store.exclusions import excluded
from flopwise.service.store.runs import load_records

__all__ = ["critical_fit_answer", "hyper_fit_answer"]

CLIENT_ERRORS = (ValueError, ArithmeticError)
SWEEP_COLUMNS = ("params", "tokens", "learning_rate", "batch_size", "loss")


def _fitted(field: str, fit: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """``fit(*args, **kwargs).to_dict()``; what the core refuses is a 422 on ``field``."""
    try:
        return dict(fit(*args, **kwargs).to_dict())
    except CLIENT_ERRORS as exc:
        raise FieldError(("body", field), f"{field}: {exc}") from None


def _stored_sweep(db: Database, dataset: str) -> tuple[list[list[float]], list[str], int | None]:
    """A dataset's runs as the fit's columns, why runs were left out and their sequence
    length; a 422 on ``dataset`` when none can be used."""
    stored = load_records(db, dataset)
    records, dropped = screen(stored, excluded(db, dataset))  # what a refit leaves out
    if not records:
        why = f"every run was left out ({dropped[0].reason})" if stored else "no runs stored"
        raise FieldError(("body", "dataset"), f"dataset: {dataset!r} has {why}")
    try:
        rows = sweep_rows(records)
    except ArgumentError as exc:
        raise FieldError(("body", "dataset"), f"dataset: {dataset!r}: {exc.message}") from None
    cols = [rows.params, rows.tokens, rows.learning_rate, rows.batch_tokens, rows.loss]
    left = [f"left out {why}" for why in rows.left_out]
    notes = left + [f"left out run {x.run} ({x.reason})" for x in dropped]
    return [c.tolist() for c in cols], notes, rows.sequence_length


def hyper_fit_answer(req: HyperFitRequest, db: Database) -> dict[str, Any]:
    """The sweep's optima and the ``power-law`` law through them (``--json`` layout of
    ``flopwise fit-hyperparams``); a bad sweep is a 422 on ``runs`` (or ``dataset``)."""
    if (req.runs is None) == (req.dataset is None):
        field = "dataset" if req.runs is None else "runs"
        raise FieldError(("body", field), f"{field}: give exactly one of runs and dataset")
    notes: list[str] = []
    sequence_length = None
    if req.runs is not None:
        field, total = "runs", False
        cols = [[getattr(r, k) for r in req.runs] for k in SWEEP_COLUMNS]
    else:
        if req.batch_in_sequences is not None:
            message = "batch_in_sequences: a dataset's batches are in tokens (batch_tokens)"
            raise FieldError(("body", "batch_in_sequences"), message)
        field, total = "dataset", True
        cols, notes, sequence_length = _stored_sweep(db, req.dataset or "")
    n_definition = req.n_definition or ("total" if total else "non_embedding")
    out = _fitted(
        field,
        fit_hyperparams,
        *cols,
        sequence_length=req.sequence_length or sequence_length or 2048,
        batch_in_sequences=bool(req.batch_in_sequences),
        n_definition=NDefinition(n_definition),
        law_id=req.law_id,
        source=f"POST /v1/hyperparams/fit ({req.dataset})" if total else "POST /v1/hyperparams/fit",
        bootstrap=req.bootstrap,
        seed=req.seed,
        level=req.level,
    )
    out["warnings"] = [*out["warnings"], *notes]
    return out


def critical_fit_answer(req: CriticalFitRequest) -> dict[str, Any]:
    """S_min and B_noise per group and the power laws across them (``--json`` layout of
    ``flopwise fit-critical-batch``); a bad table is a 422 on ``rows``."""
    rows = req.rows
    sizes = [r.params for r in rows if r.params is not None]
    return _fitted(
        "rows",
        fit_critical_batch,
        [r.batch for r in rows],
        [r.steps for r in rows],
        [r.group for r in rows],
        sequence_length=[r.sequence_length for r in rows],
        params=sizes if len(sizes) == len(rows) else None,
        bootstrap=req.bootstrap,
        seed=req.seed,
        level=req.level,
    )

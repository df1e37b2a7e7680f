"""The sweep fits over HTTP: ``POST /v1/hyperparams/fit`` and
``POST /v1/critical-batch/fit`` answer what ``flopwise fit-hyperparams`` and
``flopwise fit-critical-batch`` print with ``--json``, from runs sent inline (the run
store holds no learning rates or batches). A sweep the core refuses is a 422 on the
list it came in. Imported by its routes only, so answering a query never loads the fit
engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flopwise.fitting.fit.critical_batch import fit_critical_batch
from flopwise.fitting.fit.hyper import fit_hyperparams
from flopwise.fitting.laws import NDefinition
from flopwise.service.errors import FieldError
from flopwise.service.schemas.sweep_fits import CriticalFitRequest, HyperFitRequest

__all__ = ["critical_fit_answer", "hyper_fit_answer"]

CLIENT_ERRORS = (ValueError, ArithmeticError)
SWEEP_COLUMNS = ("params", "tokens", "learning_rate", "batch_size", "loss")


def _fitted(field: str, fit: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """``fit(*args, **kwargs).to_dict()``; what the core refuses is a 422 on ``field``."""
    try:
        return dict(fit(*args, **kwargs).to_dict())
    except CLIENT_ERRORS as exc:
        raise FieldError(("body", field), f"{field}: {exc}") from None


def hyper_fit_answer(req: HyperFitRequest) -> dict[str, Any]:
    """The sweep's optima and the ``power-law`` law through them (``--json`` layout of
    ``flopwise fit-hyperparams``); a bad sweep is a 422 on ``runs``."""
    cols = [[getattr(r, k) for r in req.runs] for k in SWEEP_COLUMNS]
    return _fitted(
        "runs",
        fit_hyperparams,
        *cols,
        sequence_length=req.sequence_length,
        batch_in_sequences=req.batch_in_sequences,
        n_definition=NDefinition(req.n_definition),
        law_id=req.law_id,
        source="POST /v1/hyperparams/fit",
        bootstrap=req.bootstrap,
        seed=req.seed,
        level=req.level,
    )


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

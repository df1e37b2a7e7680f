"""``POST /v1/hyperparams``: a peak learning rate and a global batch from a
hyper-parameter law (``fitting.hyperlaws``), every built-in law's beside it; and the
sweep fits ``POST /v1/hyperparams/fit`` and ``POST /v1/critical-batch/fit``, whose runs
come inline (the run store does not hold learning rates or batches).

Synchronous: an answer is a few power laws; a fit is small least-squares problems and
at most 2,000 bootstrap refits, well under a second for a sweep of hundreds of runs.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from flopwise.fitting.hyperlaws import builtin_hyper
from flopwise.service import queries
from flopwise.service.api.deps import require_reader
from flopwise.service.api.responses import AUTH, BODY, INVALID
from flopwise.service.schemas.hyper import HyperparamsPublic, HyperparamsRequest
from flopwise.service.schemas.sweep_fits import (
    CriticalFitPublic,
    CriticalFitRequest,
    HyperFitPublic,
    HyperFitRequest,
)
from flopwise.service.sweep_fits import critical_fit_answer, hyper_fit_answer

router = APIRouter(
    prefix="/v1",
    tags=["queries"],
    dependencies=[Depends(require_reader)],
    responses={**INVALID, **BODY, **AUTH},
)


@router.post("/hyperparams", response_model=HyperparamsPublic)
def post_hyperparams(body: HyperparamsRequest) -> dict[str, Any]:
    """Learning rate and batch (tokens and sequences) for N parameters trained on D
    tokens, from one law; the answer names it and lists every built-in law's answer."""
    return queries.hyperparams(builtin_hyper(body.law), body)


@router.post("/hyperparams/fit", response_model=HyperFitPublic)
def post_hyperparams_fit(body: HyperFitRequest) -> dict[str, Any]:
    """Best learning rate and batch per (N, D) of a sweep, and LR* and B* as power laws in
    N and D with bootstrap bands (the law ``flopwise hyperparams --law-file`` reads)."""
    return hyper_fit_answer(body)


@router.post("/critical-batch/fit", response_model=CriticalFitPublic)
def post_critical_batch_fit(body: CriticalFitRequest) -> dict[str, Any]:
    """S_min and B_noise per group (McCandlish et al. 2018), and B_noise as power laws in
    data size and model size across groups."""
    return critical_fit_answer(body)

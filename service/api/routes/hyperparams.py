"""``POST /v1/hyperparams``: a peak learning rate and a global batch from a
hyper-parameter law (``fitting.hyperlaws``), every built-in law's beside it; and the
sweep fits ``POST /v1/hyperparams/fit`` (runs inline, or a stored dataset's) and
``POST /v1/critical-batch/fit`` (rows inline).

An answer is a few power laws (a quarter of a millisecond), answered on the event
loop; a fit is small least-squares problems and up to 2,000 bootstrap refits over up to
100,000 runs, so it runs on the one bounded pool with a deadline (``service.executor``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from flopwise.fitting.hyperlaws import builtin_hyper
from flopwise.service import queries
from flopwise.service.api.deps import AnswersDep, DatabaseDep, require_reader
from flopwise.service.api.responses import AUTH, BODY, BUSY, INVALID
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
async def post_hyperparams(body: HyperparamsRequest) -> dict[str, Any]:
    """Learning rate and batch (tokens and sequences) for N parameters trained on D
    tokens, from one law; the answer names it and lists every built-in law's answer."""
    return queries.hyperparams(builtin_hyper(body.law), body)


@router.post("/hyperparams/fit", response_model=HyperFitPublic, responses=BUSY)
async def post_hyperparams_fit(
    body: HyperFitRequest, answers: AnswersDep, db: DatabaseDep
) -> dict[str, Any]:
    """Best learning rate and batch per (N, D) of a sweep, and LR* and B* as power laws in
    N and D with bootstrap bands (the law ``flopwise hyperparams --law-file`` reads). The
    sweep is ``runs`` inline, or a stored ``dataset`` (each run's loss at its planned end,
    its schedule's peak LR and its ``batch_tokens`` tag: what ``flopwise sweep --lr-grid``
    files)."""
    return await answers.executor.run(hyper_fit_answer, body, db)


@router.post("/critical-batch/fit", response_model=CriticalFitPublic, responses=BUSY)
async def post_critical_batch_fit(body: CriticalFitRequest, answers: AnswersDep) -> dict[str, Any]:
    """S_min and B_noise per group (McCandlish et al. 2018), and B_noise as power laws in
    data size and model size across groups."""
    return await answers.executor.run(critical_fit_answer, body)

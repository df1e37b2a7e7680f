"""``POST /v1/allocate``, ``/v1/predict``, ``/v1/frontier``: answers from laws in memory.

These are ``async``: an answer from built shape tables is a few hundred microseconds
of numpy with no I/O, cheaper on the event loop than handed to a thread; one that must
build tables first runs on a bounded thread pool with a deadline
(``service.answers.Answers``), so it never stalls other requests. Answers are cached
per law version and sent as the JSON bytes the response model produced.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from flopwise.service.api.deps import AnswersDep, require_reader
from flopwise.service.api.responses import AUTH, BODY, BUSY, INVALID
from flopwise.service.schemas.queries import (
    AllocatePublic,
    AllocateRequest,
    FrontierPublic,
    FrontierRequest,
    PredictPublic,
    PredictRequest,
)

router = APIRouter(
    prefix="/v1",
    tags=["queries"],
    dependencies=[Depends(require_reader)],
    responses={**INVALID, **BUSY, **BODY, **AUTH},
)


@router.post("/allocate", response_model=AllocatePublic)
async def allocate(body: AllocateRequest, answers: AnswersDep) -> Response:
    """Compute-optimal params, tokens, shape, loss, hyper-parameters and cost for a budget."""
    return Response(await answers.answer_async("allocate", body), media_type="application/json")


@router.post("/predict", response_model=PredictPublic)
async def predict(body: PredictRequest, answers: AnswersDep) -> Response:
    """Predicted loss for (params, tokens) or (width, depth, tokens)."""
    return Response(await answers.answer_async("predict", body), media_type="application/json")


@router.post("/frontier", response_model=FrontierPublic)
async def frontier(body: FrontierRequest, answers: AnswersDep) -> Response:
    """The compute-optimal path over a range of budgets."""
    return Response(await answers.answer_async("frontier", body), media_type="application/json")

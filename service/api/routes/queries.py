"""``POST /v1/allocate``, ``/v1/predict``, ``/v1/frontier``: answers from laws in memory.

These are ``async`` on purpose: each answer is a few hundred microseconds of numpy on
cached laws with no I/O, cheaper to run on the event loop than to hand to a thread.
Answers are cached per law version (``service.answers.AnswerCache``) and sent as the
JSON bytes the response model produced.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from flopwise.service.api.deps import AnswersDep
from flopwise.service.schemas.queries import (
    AllocatePublic,
    AllocateRequest,
    FrontierPublic,
    FrontierRequest,
    PredictPublic,
    PredictRequest,
)

router = APIRouter(prefix="/v1", tags=["queries"])


@router.post("/allocate", response_model=AllocatePublic)
async def allocate(body: AllocateRequest, answers: AnswersDep) -> Response:
    """Compute-optimal params, tokens, shape, loss, hyper-parameters and cost for a budget."""
    return Response(answers.allocate(body), media_type="application/json")


@router.post("/predict", response_model=PredictPublic)
async def predict(body: PredictRequest, answers: AnswersDep) -> Response:
    """Predicted loss for (params, tokens) or (width, depth, tokens)."""
    return Response(answers.predict(body), media_type="application/json")


@router.post("/frontier", response_model=FrontierPublic)
async def frontier(body: FrontierRequest, answers: AnswersDep) -> Response:
    """The compute-optimal path over a range of budgets."""
    return Response(answers.frontier(body), media_type="application/json")

"""``POST /v1/allocate``, ``/v1/predict``, ``/v1/frontier``: answers from laws in memory;
``POST /v1/count``: exact counts of one model (no law).

These are ``async``: one point, or a FLOP-optimal allocation from built shape tables,
is a few hundred microseconds of numpy with no I/O, cheaper on the event loop than
handed to a thread; everything heavier (prediction lists, validated there too,
frontiers, time-optimal and MoE plans, new tables) runs on the one bounded pool with a
deadline (``service.executor``, through ``service.answers.Answers``), so it never stalls
other requests. Answers are cached per law version and sent as the JSON bytes the
response model produced.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Response
from fastapi.exceptions import RequestValidationError
from pydantic import Field, TypeAdapter, ValidationError

from flopwise.service import moe_queries, queries
from flopwise.service.api.deps import AnswersDep, require_reader
from flopwise.service.api.responses import AUTH, BODY, BUSY, INVALID
from flopwise.service.api.run_bodies import inline
from flopwise.service.schemas.moe import CountPublic, CountRequest
from flopwise.service.schemas.queries import (
    MAX_PREDICT_BATCH,
    AllocatePublic,
    AllocateRequest,
    FrontierPublic,
    FrontierRequest,
    PredictPublic,
    PredictRequest,
)

PredictBatch = TypeAdapter(
    Annotated[list[PredictRequest], Field(min_length=1, max_length=MAX_PREDICT_BATCH)]
)
_ONE = inline(PredictRequest.model_json_schema())  # the schedule's model written out
_PREDICT_BODY = {
    "anyOf": [_ONE, {"type": "array", "items": _ONE, "minItems": 1, "maxItems": MAX_PREDICT_BATCH}]
}


def _predict_body(body: Any) -> Any:
    """One point or a list of them; errors located as ``body[.index].field``."""
    try:
        if isinstance(body, list):
            return PredictBatch.validate_python(body)
        return PredictRequest.model_validate(body)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors) from None


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


@router.post(
    "/predict",
    response_model=PredictPublic | list[PredictPublic],
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": _PREDICT_BODY}}}},
)
async def predict(body: Annotated[Any, Body()], answers: AnswersDep) -> Response:
    """Predicted loss for (params, tokens) or (width, depth, tokens); a list of such
    points (up to 10,000) gets a list of answers, in the same order."""
    if isinstance(body, list):  # validated on the pool too: 10,000 points take ~50 ms
        answer = await answers.predict_many_async(partial(_predict_body, body))
        return Response(answer, media_type="application/json")
    req = _predict_body(body)
    return Response(await answers.answer_async("predict", req), media_type="application/json")


@router.post("/frontier", response_model=FrontierPublic)
async def frontier(body: FrontierRequest, answers: AnswersDep) -> Response:
    """The compute-optimal path over a range of budgets."""
    return Response(await answers.answer_async("frontier", body), media_type="application/json")


@router.post("/count", response_model=CountPublic)
def count(body: CountRequest) -> Response:
    """Exact total and active parameters, FLOPs per token, memory and fewest GPUs of one
    dense or mixture-of-experts decoder."""
    answer = moe_queries.count(body)
    return Response(queries.to_json("count", answer), media_type="application/json")

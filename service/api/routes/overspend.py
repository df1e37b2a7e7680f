"""``POST /v1/overspend`` and ``GET /v1/overspend/plot.png`` (McLeish et al. 2025, Fig. 7).

How many more FLOPs and GPU-hours a shape needs than the optimum to reach a loss, and
a picture of both across widths and depths. Both run on the one bounded pool
(``service.executor``): the first question for a (law, model, constraints) counts every
feasible shape (up to a second), one for a new GPU count retimes them (milliseconds);
pictures are drawn one at a time. Both are cached per law and model version.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from flopwise.service.api.deps import AnswersDep, require_reader
from flopwise.service.api.responses import AUTH, BODY, BUSY, INVALID
from flopwise.service.overspend_plot import PlotQuery
from flopwise.service.schemas.common import N_GPUS, TARGET_LOSS
from flopwise.service.schemas.throughput import OverspendPublic, OverspendRequest

router = APIRouter(
    prefix="/v1",
    tags=["throughput"],
    dependencies=[Depends(require_reader)],
    responses={**INVALID, **BUSY, **AUTH},
)


@router.post("/overspend", response_model=OverspendPublic, responses=BODY)
async def post_overspend(body: OverspendRequest, answers: AnswersDep) -> Response:
    """FLOPs and GPU-hours a shape needs to reach a loss, against the optimal shapes."""
    return Response(await answers.answer_async("overspend", body), media_type="application/json")


@router.get(
    "/overspend/plot.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
async def overspend_plot(
    answers: AnswersDep,
    throughput: Annotated[str, Query(min_length=1, max_length=200)],
    target_loss: Annotated[float, Query(ge=TARGET_LOSS[0], le=TARGET_LOSS[1], allow_inf_nan=False)],
    n_gpus: Annotated[int, Query(ge=N_GPUS[0], le=N_GPUS[1])],
    law: Annotated[str, Query(min_length=1, max_length=200)] = "gemstones-2025",
    max_width: Annotated[int, Query(ge=256, le=16384)] = 4096,
    max_depth: Annotated[int, Query(ge=2, le=256)] = 96,
) -> Response:
    """FLOP and GPU-hour overspend over widths and depths at one target loss (PNG; at
    most 65,536 shapes drawn)."""
    query = PlotQuery(law, throughput, target_loss, n_gpus, max_width, max_depth)
    png = await answers.overspend_plot_async(query)
    return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=60"})

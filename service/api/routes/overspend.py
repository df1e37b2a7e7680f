"""``POST /v1/overspend`` and ``GET /v1/overspend/plot.png`` (McLeish et al. 2025, Fig. 7).

How many more FLOPs and GPU-hours a shape needs than the optimum to reach a loss, and
a picture of both across widths and depths. Synchronous routes: the first question
for a (law, model, GPU count) counts every feasible shape (a fraction of a second),
later ones reuse it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from flopwise.service import queries
from flopwise.service.answers import resolve_law, resolve_model
from flopwise.service.api.deps import AnswersDep, require_reader
from flopwise.service.api.responses import AUTH, BODY, INVALID
from flopwise.service.api.routes.throughput import registry_of
from flopwise.service.overspend_plot import render_overspend
from flopwise.service.schemas.throughput import OverspendPublic, OverspendRequest

router = APIRouter(
    prefix="/v1",
    tags=["throughput"],
    dependencies=[Depends(require_reader)],
    responses={**INVALID, **BODY, **AUTH},
)


@router.post("/overspend", response_model=OverspendPublic)
def post_overspend(body: OverspendRequest, answers: AnswersDep) -> dict[str, Any]:
    """FLOPs and GPU-hours a shape needs to reach a loss, against the optimal shapes."""
    law = resolve_law(answers.registry, body.law)
    model = resolve_model(registry_of(answers), body.throughput)
    return queries.overspend(law, model, body)


@router.get(
    "/overspend/plot.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def overspend_plot(
    answers: AnswersDep,
    throughput: Annotated[str, Query(min_length=1, max_length=200)],
    target_loss: Annotated[float, Query(gt=0, allow_inf_nan=False)],
    n_gpus: Annotated[int, Query(ge=1, le=100_000_000)],
    law: Annotated[str, Query(min_length=1, max_length=200)] = "gemstones-2025",
    max_width: Annotated[int, Query(ge=256, le=16384)] = 4096,
    max_depth: Annotated[int, Query(ge=2, le=256)] = 96,
) -> Response:
    """FLOP and GPU-hour overspend over widths and depths at one target loss (PNG)."""
    the_law = resolve_law(answers.registry, law, ("query",))
    model = resolve_model(registry_of(answers), throughput, ("query",))
    png = render_overspend(
        the_law,
        model,
        target_loss=target_loss,
        n_gpus=n_gpus,
        max_width=max_width,
        max_depth=max_depth,
    )
    return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=60"})

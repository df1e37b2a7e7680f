"""``POST /v1/hyperparams``: a peak learning rate and a global batch from a
hyper-parameter law (``fitting.hyperlaws``), every built-in law's beside it.

Synchronous: an answer is a few power laws, no shape search and no store.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from flopwise.fitting.hyperlaws import builtin_hyper
from flopwise.service import queries
from flopwise.service.api.deps import require_reader
from flopwise.service.api.responses import AUTH, BODY, INVALID
from flopwise.service.schemas.hyper import HyperparamsPublic, HyperparamsRequest

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

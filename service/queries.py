"""The one answer path: what ``POST /v1/allocate``, ``/v1/predict``, ``/v1/frontier``,
``/v1/overspend`` and ``flopwise allocate``, ``predict``, ``frontier``, ``overspend``
all answer, so the API's JSON and the CLI's ``--json`` cannot drift.

Each function takes a resolved law (the API resolves it in its registry, the CLI in
the built-in catalogue or a law file) and the validated request model, and returns the
answer as JSON-ready values laid out by the response model; :func:`to_json` writes it.
Request schemas have checked types and ranges; what only the core can judge (an
unknown GPU, a budget beyond what a law can answer) comes back as a ``ValueError``
and leaves here as a :class:`~service.errors.FieldError` naming the field.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

import numpy as np
from pydantic import BaseModel

from flopwise.fitting.allocation import Frontier, frontier_caveats, refuse_too_small
from flopwise.fitting.allocation import allocate as fitting_allocate
from flopwise.fitting.allocation import frontier as fitting_frontier
from flopwise.fitting.hardware import budget_to_flops, cost_of
from flopwise.fitting.hyperlaws import HyperLaw, builtin_hyper
from flopwise.fitting.laws import Law, NDefinition
from flopwise.fitting.prediction import path_loss_bands
from flopwise.fitting.prediction import predict as fitting_predict
from flopwise.fitting.shape import ShapeConstraints
from flopwise.fitting.throughput.model import ThroughputModel
from flopwise.service import curve_queries, downstream_queries, moe_queries
from flopwise.service.errors import FieldError, field_error
from flopwise.service.hyper_queries import hyperparams_answer
from flopwise.service.schemas.common import BUDGET_FLOPS
from flopwise.service.schemas.curves import ForecastPublic
from flopwise.service.schemas.hyper import HyperparamsPublic, HyperparamsRequest
from flopwise.service.schemas.moe import CountPublic
from flopwise.service.schemas.queries import (
    AllocatePublic,
    AllocateRequest,
    Constraints,
    FrontierPublic,
    FrontierRequest,
    PredictPublic,
    PredictRequest,
)
from flopwise.service.schemas.throughput import OverspendPublic, OverspendRequest
from flopwise.service.time_queries import (
    allocate_hours_answer,
    constant_mfu_warning,
    overspend_answer,
)

__all__ = [
    "PUBLIC",
    "allocate",
    "frontier",
    "hyperparams",
    "overspend",
    "predict",
    "shape_constraints",
    "to_json",
]

CONSTRAINT_FIELDS = tuple(Constraints.model_fields)
NESTED = {f: ("constraints", f) for f in CONSTRAINT_FIELDS}
"""``fitting`` argument names that are fields of the request's ``constraints``."""
CLIENT_ERRORS = (ValueError, ArithmeticError)
"""What the core raises for input it cannot answer (overflow included)."""


def shape_constraints(body: Constraints | None) -> ShapeConstraints:
    if body is None:
        return ShapeConstraints()
    try:
        return ShapeConstraints(**body.model_dump())
    except ValueError as exc:
        raise field_error(exc, (), nested=NESTED) from None


def _budget(req: AllocateRequest) -> tuple[float, str]:
    given = [k for k in ("flops", "gpu_hours", "dollars") if getattr(req, k) is not None]
    if len(given) != 1:
        loc = ("body", given[1]) if len(given) > 1 else ("body", "flops")
        raise FieldError(
            loc,
            f"budget: give exactly one of flops, gpu_hours or dollars (got {', '.join(given) or 'none'})",
        )
    kind = given[0]
    if kind == "flops" and req.gpu is None and req.price_per_gpu_hour is not None:
        raise FieldError(("body", "price_per_gpu_hour"), "price_per_gpu_hour: needs gpu")
    try:
        flops = budget_to_flops(
            flops=req.flops,
            gpu_hours=req.gpu_hours,
            dollars=req.dollars,
            gpu_name=req.gpu,
            mfu=req.mfu,
            price_per_gpu_hour=req.price_per_gpu_hour,
        )
    except CLIENT_ERRORS as exc:
        raise field_error(exc, AllocateRequest.model_fields, aliases={"budget": kind}) from None
    low, high = BUDGET_FLOPS
    if not low <= flops <= high:
        raise FieldError(
            ("body", kind), f"{kind}: the budget is {flops:.3g} FLOPs, outside [{low:g}, {high:g}]"
        )
    return flops, kind


def _finite(value: Any, where: str) -> None:
    """Refuse answers that are not finite numbers (JSON cannot carry them)."""
    arr = np.asarray([v for v in _numbers(value)], dtype=float)
    if arr.size and not np.all(np.isfinite(arr)):
        raise FieldError(("body", where), f"{where}: the law gives no finite answer for this input")


def _numbers(value: Any) -> list[float]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _numbers(v)]
    if isinstance(value, list | tuple):
        return [x for v in value for x in _numbers(v)]
    if isinstance(value, float | int) and not isinstance(value, bool):
        return [float(value)]
    return []


def allocate(
    law: Law,
    req: AllocateRequest,
    throughput: ThroughputModel | None = None,
    resolve: moe_queries.Resolve | None = None,
) -> dict[str, Any]:
    """The allocation for one budget: time-optimal when ``throughput`` is given
    (:func:`~service.time_queries.allocate_hours_answer`), else FLOP-optimal; with
    ``experts`` the MoE plan beside it, with ``vocab`` Tao et al.'s vocabulary
    (``service.moe_queries``; ``resolve`` finds the MoE law, the catalogue by default)."""
    constraints = shape_constraints(req.constraints)
    moe_queries.routing(req)  # top_k needs experts, whichever plan answers
    need = downstream_queries.target_flops(law, req, constraints)
    if need is not None:
        req = req.model_copy(update={"flops": need})
    if throughput is not None:
        out = allocate_hours_answer(law, throughput, req, constraints)
        downstream_queries.add_to_allocation(law, out, req, constraints, need)
        return out
    for name in ("max_wall_clock_hours", "b_noise_tokens"):
        if getattr(req, name) is not None:
            raise FieldError(("body", name), f"{name}: needs a throughput model (throughput)")
    flops, kind = _budget(req)
    if moe_queries.routing(req) is not None:
        law = moe_queries.dense_law(law, req, resolve)
    out = _allocate_flops(law, req, flops, kind, constraints)
    if req.vocab == "optimal":
        constraints = moe_queries.optimal_vocab(out, law, flops, constraints)
        vocabulary = out["vocabulary"]
        out = _allocate_flops(law, req, flops, kind, constraints)
        out["vocabulary"] = vocabulary
    moe_queries.add_moe(out, req, flops, constraints, resolve)
    downstream_queries.add_to_allocation(law, out, req, constraints, need)
    return out


def _allocate_flops(
    law: Law, req: AllocateRequest, flops: float, kind: str, constraints: ShapeConstraints
) -> dict[str, Any]:
    """The FLOP-optimal dense plan and its cost."""
    fields = AllocateRequest.model_fields
    try:
        result = fitting_allocate(
            law,
            flops,
            constraints=constraints,
            unique_tokens=req.unique_tokens,
            inference_tokens=req.inference_tokens,
            level=req.level,
            hyperparameters=builtin_hyper(req.hyperparameters),
        )
        cost = None
        if req.gpu is not None:
            cost = asdict(
                cost_of(
                    flops,
                    req.gpu,
                    mfu=req.mfu,
                    n_gpus=req.n_gpus,
                    price_per_gpu_hour=req.price_per_gpu_hour,
                )
            )
    except CLIENT_ERRORS as exc:
        aliases = {"flops": kind, "budget": kind}
        raise field_error(exc, fields, aliases=aliases, nested=NESTED) from None
    out = result.to_dict()  # finite: allocate refuses budgets it cannot answer finitely
    out["cost"] = cost
    if kind != "flops" and req.gpu is not None:
        out["warnings"].append(constant_mfu_warning(req.mfu, req.gpu))
    return out


def predict(law: Law, req: PredictRequest) -> dict[str, Any]:
    """Predicted loss at one point."""
    try:
        result = fitting_predict(
            law,
            params=req.params,
            tokens=req.tokens,
            width=req.width,
            depth=req.depth,
            unique_tokens=req.unique_tokens,
            level=req.level,
            schedule=curve_queries.schedule_of(req.schedule),
        )
    except CLIENT_ERRORS as exc:
        raise field_error(exc, PredictRequest.model_fields) from None
    out = result.to_dict()
    out["curve"] = curve_queries.predict_curve_points(law, req)
    _finite(out, "tokens")
    downstream_queries.add_to_prediction(law, out, req.level, req.width, req.depth)
    return out


def _budgets(req: FrontierRequest) -> np.ndarray:
    if req.flops is not None:
        if req.flops_min is not None or req.flops_max is not None:
            raise FieldError(
                ("body", "flops"), "flops: give a list of budgets or flops_min/flops_max, not both"
            )
        return np.asarray(req.flops, dtype=float)
    if req.flops_min is None or req.flops_max is None:
        raise FieldError(
            ("body", "flops_min"), "flops_min, flops_max: both are needed without a flops list"
        )
    if req.flops_min > req.flops_max:
        raise FieldError(("body", "flops_min"), "flops_min: must not exceed flops_max")
    return np.logspace(math.log10(req.flops_min), math.log10(req.flops_max), req.points)


def frontier(law: Law, req: FrontierRequest) -> dict[str, Any]:
    """The optimal path over many budgets."""
    budgets = _budgets(req)
    constraints = shape_constraints(req.constraints)
    try:
        path = fitting_frontier(
            law,
            budgets,
            constraints=constraints,
            unique_tokens=req.unique_tokens,
            inference_tokens=req.inference_tokens,
        )
        training = path.flops - 2.0 * path.params * (req.inference_tokens or 0.0)
        refuse_too_small(
            law,
            training,
            path.shape_flops_per_token * path.tokens,
            path.width,
            path.depth,
            constraints,
            name="flops" if req.flops is not None else "flops_min",
        )
    except CLIENT_ERRORS as exc:
        raise field_error(exc, FrontierRequest.model_fields, nested=NESTED) from None
    loss = [None] * len(path.flops) if path.loss is None else path.loss.tolist()
    bands = [None] * len(path.flops) if path.loss is None else _path_bands(law, path, req)
    scale = law.n_definition is NDefinition.MODEL_SCALE  # N is M, not parameters
    params = path.shape_params if scale else path.params
    points = [
        {
            "flops": float(c),
            "params": float(n),
            "tokens": float(d),
            "loss": None if v is None else float(v),
            "loss_interval": band,
            "width": int(w),
            "depth": int(dep),
            "shape_params": float(p),
            "flops_per_token": float(f),
            "model_scale": float(m) if scale else None,
        }
        for c, n, d, v, band, w, dep, p, f, m in zip(
            path.flops,
            params,
            path.tokens,
            loss,
            bands,
            path.width,
            path.depth,
            path.shape_params,
            path.shape_flops_per_token,
            path.params,
            strict=True,
        )
    ]
    _finite(points, "flops")
    more = downstream_queries.add_to_frontier(law, points, path.params, req.level)
    return {
        "law": {"id": law.id, "version": law.version},
        "points": points,
        "count": len(points),
        "level": req.level,
        "caveats": [*frontier_caveats(law, path), *more],
    }


def _path_bands(law: Law, path: Frontier, req: FrontierRequest) -> list[Any]:
    assert path.loss is not None
    return path_loss_bands(
        law,
        path.loss,
        path.params,
        path.tokens,
        width=path.width,
        depth=path.depth,
        unique_tokens=req.unique_tokens,
        level=req.level,
    )


def overspend(law: Law, throughput: ThroughputModel, req: OverspendRequest) -> dict[str, Any]:
    """A shape's extra FLOPs and GPU-hours to reach a loss (Gemstones Fig. 7)."""
    return overspend_answer(law, throughput, req, shape_constraints(req.constraints))


def hyperparams(law: HyperLaw, req: HyperparamsRequest) -> dict[str, Any]:
    """A learning rate and batch from ``law`` (the request's built-in one, or a fitted
    one the CLI read from a file), with every built-in law's beside it."""
    return hyperparams_answer(law, req)


PUBLIC: dict[str, type[BaseModel]] = {
    "count": CountPublic,
    "allocate": AllocatePublic,
    "predict": PredictPublic,
    "forecast": ForecastPublic,
    "frontier": FrontierPublic,
    "overspend": OverspendPublic,
    "hyperparams": HyperparamsPublic,
}
"""Each answer's response model."""


def to_json(endpoint: str, answer: dict[str, Any]) -> bytes:
    """``answer`` as the response model of ``endpoint`` writes it (the API's bytes)."""
    return PUBLIC[endpoint].model_validate(answer).model_dump_json().encode()

"""Time-optimal answers: ``/v1/allocate`` with a throughput model, and ``/v1/overspend``
(through :mod:`service.queries`, the one answer path of the API and the CLI).

A GPU-hour (or dollar) budget with a named throughput model is answered by
``fitting.throughput.time_optimal``: the top level is the time-optimal plan, ``time_optimal`` and
``flop_optimal`` carry both plans for the same hours. ``ArgumentError`` from the core
leaves as a :class:`~service.errors.FieldError` on the field it names.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from flopwise.fitting.caveats import answer_caveats
from flopwise.fitting.counting import ArchFamily
from flopwise.fitting.critical_batch import b_noise_of, builtin_critical_batch
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.hardware import gpu
from flopwise.fitting.hyperlaws import HyperLaw, builtin_hyper, shape_hyperparameters
from flopwise.fitting.laws import Law
from flopwise.fitting.prediction import loss_band, point_params
from flopwise.fitting.shape import ShapeConstraints
from flopwise.fitting.throughput.critical import CriticalBatchPlan, critical_batch_plan
from flopwise.fitting.throughput.model import ThroughputModel
from flopwise.fitting.throughput.overspend import overspend
from flopwise.fitting.throughput.time_optimal import TimeAllocation, allocate_hours
from flopwise.service.errors import CLIENT_ERRORS, FieldError
from flopwise.service.schemas.queries import AllocateRequest
from flopwise.service.schemas.throughput import OverspendRequest

__all__ = ["allocate_hours_answer", "constant_mfu_warning", "overspend_answer"]


def _argument(exc: Exception, fields: set[str]) -> FieldError:
    name = exc.name if isinstance(exc, ArgumentError) else ""
    loc = ("body", name) if name in fields else ("body",)
    return FieldError(loc, " ".join(str(exc).split()))


def constant_mfu_warning(mfu: float, gpu_name: str) -> str:
    """What an answer says when hours became FLOPs at a constant MFU."""
    return (
        f"GPU-hours were turned into FLOPs at a constant MFU of {mfu:g} on {gpu_name}: the "
        "shape is FLOP-optimal, not time-optimal (name a throughput model: GET /v1/throughput "
        "or `flopwise throughput` lists them)"
    )


def _hours(req: AllocateRequest, model: ThroughputModel) -> float:
    for name in ("flops", "inference_tokens", "unique_tokens"):
        if getattr(req, name) is not None:
            raise FieldError(
                ("body", name), f"{name}: not answered with a throughput model (GPU-hours only)"
            )
    if req.gpu is not None:
        try:
            name = gpu(req.gpu).name
        except ValueError as exc:
            raise FieldError(("body", "gpu"), str(exc)) from None
        if name != model.gpu:
            raise FieldError(
                ("body", "gpu"), f"gpu: throughput model {model.ref} is for {model.gpu}, not {name}"
            )
    if req.gpu_hours is not None and req.dollars is None:
        return req.gpu_hours
    if req.dollars is not None and req.gpu_hours is None and req.price_per_gpu_hour is not None:
        return req.dollars / req.price_per_gpu_hour
    raise FieldError(
        ("body", "gpu_hours"),
        "gpu_hours: a throughput model needs gpu_hours, or dollars with price_per_gpu_hour",
    )


def allocate_hours_answer(
    law: Law, model: ThroughputModel, req: AllocateRequest, constraints: ShapeConstraints
) -> dict[str, Any]:
    """The time-optimal allocation, laid out like every ``/v1/allocate`` answer."""
    hours = _hours(req, model)
    family = constraints.family(law.family)
    n_gpus = req.n_gpus
    if req.max_wall_clock_hours is not None and n_gpus is None and req.deadline_hours is None:
        n_gpus = _base_gpus(
            hours, req.max_wall_clock_hours, req.batch_tokens or model.batch_tokens, family
        )
    try:
        result = allocate_hours(
            law,
            model,
            hours,
            n_gpus=n_gpus,
            deadline_hours=req.deadline_hours,
            batch_tokens=req.batch_tokens,
            constraints=constraints,
            price_per_gpu_hour=req.price_per_gpu_hour,
        )
        family = constraints.family(law.family)
        critical = _critical(model, family, result, req)
    except CLIENT_ERRORS as exc:
        raise _argument(exc, set(AllocateRequest.model_fields)) from None
    out = _layout(law, result, family, builtin_hyper(req.hyperparameters), req.level)
    out["critical_batch"] = critical.to_dict()
    out["warnings"].extend(critical.warnings)
    return out


def _base_gpus(hours: float, deadline: float, batch: float, family: ArchFamily) -> int:
    """GPUs for the time-optimal plan under a wall-clock cap: what the hours need by the
    cap at no loss, at most one sequence of the batch per GPU (the critical-batch scan
    then adds GPUs, growing the batch, where the cap needs more)."""
    return max(1, min(math.ceil(hours / deadline), math.floor(batch / family.seq_len)))


def _critical(
    model: ThroughputModel, family: ArchFamily, result: TimeAllocation, req: AllocateRequest
) -> CriticalBatchPlan:
    """The time-optimal plan priced against the critical batch: the request's B_noise,
    or the built-in law's at the plan's tokens."""
    plan = result.time_optimal
    if req.b_noise_tokens is not None:
        b_noise, band, source = req.b_noise_tokens, None, "given"
    else:
        law = builtin_critical_batch()
        b_noise, band = b_noise_of(law, plan.tokens, req.level)
        source = f"{law.id} at {plan.tokens:.3g} tokens"
        if law.domain is not None and not law.domain[0] <= plan.tokens <= law.domain[1]:
            source += f", outside its fitted {law.domain[0]:.3g} to {law.domain[1]:.3g}"
    return critical_batch_plan(
        model,
        family,
        plan,
        n_gpus=result.n_gpus,
        batch_tokens=result.batch_tokens,
        b_noise=b_noise,
        b_noise_interval=band,
        b_noise_source=source,
        max_wall_clock_hours=req.max_wall_clock_hours,
    )


def _layout(
    law: Law, result: TimeAllocation, family: ArchFamily, hyper: HyperLaw, level: float
) -> dict[str, Any]:
    fast = result.time_optimal
    band = loss_band(law, fast.loss, None, fast.params, fast.tokens, level)
    w, d = fast.shape.width, fast.shape.depth
    return {
        "law": {"id": law.id, "version": law.version},
        "flops": fast.flops,
        "params": fast.params,
        "tokens": fast.tokens,
        "loss": fast.loss,
        "loss_interval": None if band is None else list(band),
        "curve_interval": None,
        "level": level,
        "caveats": list(
            answer_caveats(law, params=fast.params, tokens=fast.tokens, flops=fast.flops)
        ),
        "tokens_per_param": fast.tokens / fast.params,
        "shape": dict(vars(fast.shape)),
        "hyperparameters": asdict(shape_hyperparameters(hyper, family, w, d, fast.tokens)),
        "cost": {
            "gpu_hours": fast.gpu_hours,
            "wall_clock_hours": fast.wall_clock_hours,
            "dollars": fast.dollars,
        },
        "n_definition": str(law.n_definition),
        "c_definition": str(law.c_definition),
        "training_flops": fast.flops,
        "inference_flops": 0.0,
        "params_interval": None,
        "tokens_interval": None,
        "unique_tokens": None,
        "epochs": None,
        "model_scale": None,
        "warnings": list(result.warnings),
        "throughput": {"id": result.throughput_id, "version": result.throughput_version},
        "time_optimal": fast.to_dict(),
        "flop_optimal": result.flop_optimal.to_dict(),
        "n_gpus": result.n_gpus,
    }


def overspend_answer(
    law: Law, model: ThroughputModel, req: OverspendRequest, constraints: ShapeConstraints
) -> dict[str, Any]:
    """A shape's extra FLOPs and GPU-hours to reach a loss (Gemstones Fig. 7)."""
    try:
        result = overspend(
            law,
            model,
            req.width,
            req.depth,
            n_gpus=req.n_gpus,
            target_loss=req.target_loss,
            flops=req.flops,
            batch_tokens=req.batch_tokens,
            constraints=constraints,
        )
    except CLIENT_ERRORS as exc:
        raise _argument(exc, set(OverspendRequest.model_fields)) from None
    out = result.to_dict()
    shape = out["shape"]
    params = point_params(law, None, shape["width"], shape["depth"])
    out["caveats"] = list(
        answer_caveats(law, params=params, tokens=shape["tokens"], flops=shape["flops"])
    )
    return out

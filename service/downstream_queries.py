"""Downstream metrics in the one answer path (``service.queries``): predicted benchmark
scores in allocations, predictions and frontiers of laws with downstream links, and
allocations to a target score (docs/laws.md §20). What ``fitting`` refuses comes back
as a ``FieldError`` naming ``target.metric`` or ``target.value``."""

from __future__ import annotations

from typing import Any

import numpy as np

from flopwise.fitting.caveats import link_caveats
from flopwise.fitting.downstream import chain, link_of, predict_metrics
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.laws import Law
from flopwise.fitting.prediction import point_params
from flopwise.fitting.shape import ShapeConstraints
from flopwise.fitting.stats import intervals
from flopwise.fitting.targets import reach_probability, target_budget
from flopwise.service.errors import FieldError, field_error
from flopwise.service.schemas.queries import AllocateRequest

__all__ = ["add_to_allocation", "add_to_frontier", "add_to_prediction", "target_flops"]

BUDGET_FIELDS = ("flops", "gpu_hours", "dollars")
FRONTIER_SAMPLES = 500
"""A new run's samples per frontier point (up to 1,000 points, each metric)."""
CLIENT_ERRORS = (ValueError, ArithmeticError)


def target_flops(law: Law, req: AllocateRequest, constraints: ShapeConstraints) -> float | None:
    """The smallest budget reaching ``req.target`` when the request gives no budget."""
    if req.target is None or any(getattr(req, k) is not None for k in BUDGET_FIELDS):
        return None
    if req.throughput is not None:
        raise FieldError(
            ("body", "target"), "target: is planned in FLOPs, not with a throughput model"
        )
    try:
        return target_budget(
            law, req.target.metric, req.target.value, constraints=constraints
        ).flops
    except CLIENT_ERRORS as exc:
        raise _refused(exc) from None


def _refused(exc: Exception) -> FieldError:
    """What ``fitting`` refused about a target, against ``target.metric`` or
    ``target.value``."""
    if isinstance(exc, ArgumentError) and exc.name == "metric":
        message = str(exc).removeprefix("metric: ")
        return FieldError(("body", "target", "metric"), f"target.metric: {message}")
    return field_error(exc, ("target",))


def _point(out: dict[str, Any]) -> dict[str, Any]:
    shape = out.get("shape") or {}
    params = out.get("model_scale") if out.get("model_scale") is not None else out["params"]
    return {"params": params, "tokens": out["tokens"], "width": shape.get("width"),
            "depth": shape.get("depth")}  # fmt: skip


def add_to_allocation(
    law: Law,
    out: dict[str, Any],
    req: AllocateRequest,
    constraints: ShapeConstraints,
    need: float | None = None,
) -> None:
    """``out`` (an allocation answer) with ``downstream`` and, when asked, ``target``
    (``need``: the smallest budget reaching it, when already found)."""
    try:
        link = None if req.target is None else link_of(law, req.target.metric)
    except CLIENT_ERRORS as exc:
        raise _refused(exc) from None
    numbers = all(isinstance(out.get(k), float | int) for k in ("params", "tokens"))
    if not law.downstream or not numbers:
        return
    point = _point(out)
    metrics, caveats = predict_metrics(law, level=req.level, **point)
    out["downstream"] = {k: v.to_dict() for k, v in metrics.items()}
    out["caveats"] = [*out["caveats"], *caveats]
    if req.target is None or link is None:
        return
    try:
        c = chain(law, link, **point)
        if need is None:
            need = target_budget(
                law, req.target.metric, req.target.value, constraints=constraints
            ).flops
    except CLIENT_ERRORS as exc:
        raise _refused(exc) from None
    probability, run_probability = reach_probability(c, req.target.value)
    out["target"] = {
        "metric": req.target.metric,
        "value": req.target.value,
        "flops": need,
        "predicted": float(c.value[0]),
        "probability": probability,
        "run_probability": run_probability,
    }


def add_to_prediction(law: Law, out: dict[str, Any], level: float, width: Any, depth: Any) -> None:
    """``out`` (a prediction answer) with ``downstream`` and its caveats."""
    params = point_params(law, out.get("params"), width, depth)
    if not law.downstream or params is None:
        return
    metrics, caveats = predict_metrics(law, params=params, tokens=out["tokens"],
                                       width=width, depth=depth, level=level)  # fmt: skip
    out["downstream"] = {k: v.to_dict() for k, v in metrics.items()}
    out["caveats"] = [*out["caveats"], *caveats]


def add_to_frontier(
    law: Law, points: list[dict[str, Any]], params: np.ndarray, level: float
) -> list[str]:
    """Each frontier point with its metrics (value and a new run's interval); the
    caveats of the whole path."""
    if not law.downstream or not points:
        return []
    tokens = np.array([p["tokens"] for p in points])
    width = np.array([p["width"] for p in points])
    depth = np.array([p["depth"] for p in points])
    caveats: list[str] = []
    for name, link in law.downstream.items():
        c = chain(law, link, params=params, tokens=tokens, width=width, depth=depth,
                  samples=FRONTIER_SAMPLES)  # fmt: skip
        bands = intervals(c.runs, level)
        for point, value, band in zip(points, c.value, bands, strict=True):
            point.setdefault("downstream", {})[name] = {
                "value": float(value),
                "interval": None if band is None else list(band),
            }
        caveats.extend(link_caveats(law.id, link, c.x))
    return caveats

"""The keyword arguments of the client's query methods, as typed dictionaries.

The names, units and ranges are the HTTP API's (``/openapi.json`` describes each
field); the service checks them and a refused one raises
:class:`~flopwise.client.errors.RequestRejected` whose ``issues`` name it. Shape limits
may be given as ``fitting.shape.ShapeConstraints`` (the offline library's own type) or
as a dictionary of its fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

from flopwise.fitting.shape import ShapeConstraints

__all__ = [
    "AllocateArgs",
    "ConstraintsArgs",
    "FrontierArgs",
    "OverspendArgs",
    "PredictArgs",
    "RunRecord",
    "body",
]


class ConstraintsArgs(TypedDict, total=False):
    """Limits on the model shape (``fitting.shape.ShapeConstraints``'s fields)."""

    min_width: int
    max_width: int
    min_depth: int
    max_depth: int
    aspect_ratio: float
    head_dim: int
    kv_group: int
    vocab_size: int
    seq_len: int


Constraints = ShapeConstraints | ConstraintsArgs


class AllocateArgs(TypedDict, total=False):
    """``POST /v1/allocate``: a budget as ``flops``; ``gpu_hours`` with ``gpu``; or
    ``dollars`` with ``gpu`` and ``price_per_gpu_hour``."""

    law: str
    flops: float
    gpu_hours: float
    dollars: float
    gpu: str
    mfu: float
    n_gpus: int
    price_per_gpu_hour: float
    inference_tokens: float
    unique_tokens: float
    constraints: Constraints
    level: float
    throughput: str
    deadline_hours: float
    batch_tokens: float


class PredictArgs(TypedDict, total=False):
    """``POST /v1/predict``, one point: ``(params, tokens)`` or ``(width, depth, tokens)``."""

    law: str
    tokens: float
    params: float
    width: int
    depth: int
    unique_tokens: float
    level: float


class FrontierArgs(TypedDict, total=False):
    """``POST /v1/frontier``: budgets as a list (``flops``) or ``points`` log-spaced
    budgets from ``flops_min`` to ``flops_max``."""

    law: str
    flops: list[float]
    flops_min: float
    flops_max: float
    points: int
    unique_tokens: float
    inference_tokens: float
    constraints: Constraints
    level: float


class OverspendArgs(TypedDict, total=False):
    """``POST /v1/overspend``: a shape, a throughput model, GPUs and a target loss (or
    a FLOP budget whose best loss is the target)."""

    law: str
    throughput: str
    width: int
    depth: int
    target_loss: float
    flops: float
    n_gpus: int
    batch_tokens: float
    constraints: Constraints


class RunRecord(TypedDict):
    """One observation for ``POST /v1/runs``; (dataset, run, tokens) identifies it."""

    dataset: str
    run: str
    params: float
    tokens: float
    loss: float
    width: NotRequired[int | None]
    depth: NotRequired[int | None]
    flops: NotRequired[float | None]
    seconds_per_step: NotRequired[float | None]
    n_gpus: NotRequired[int | None]
    gpu: NotRequired[str | None]
    tags: NotRequired[dict[str, str]]
    unique_tokens: NotRequired[float | None]
    epochs: NotRequired[float | None]


def body(args: Mapping[str, Any]) -> dict[str, Any]:
    """A request body from keyword arguments: ``None`` values left out (the service's
    default applies), ``ShapeConstraints`` as its fields."""
    out = {k: v for k, v in args.items() if v is not None}
    limits = out.get("constraints")
    if isinstance(limits, ShapeConstraints):
        out["constraints"] = {k: v for k, v in dataclasses.asdict(limits).items() if v is not None}
    return out

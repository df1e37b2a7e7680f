"""Bodies of ``/v1/allocate``, ``/v1/predict`` and ``/v1/frontier``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from flopwise.fitting.allocation import Allocation
from flopwise.fitting.catalogue import DEFAULT_LAW
from flopwise.fitting.hardware import Cost
from flopwise.fitting.hyperlaws import DEFAULT_HYPER_LAW, HyperLawId
from flopwise.fitting.hyperparams import Hyperparameters
from flopwise.fitting.shape import Shape
from flopwise.fitting.stats import DEFAULT_LEVEL
from flopwise.fitting.throughput.critical import CriticalBatchPlan, DeadlinePlan, GpuPoint
from flopwise.fitting.throughput.time_optimal import Plan
from flopwise.service.schemas.common import (
    LAW_REF_PATTERN,
    LEVEL,
    BatchTokens,
    Depth,
    Flops,
    Hours,
    LawRef,
    NGpus,
    Params,
    Request,
    Tokens,
    Width,
    between,
    public_model,
)
from flopwise.service.schemas.curves import CurvePointPublic, ScheduleIn
from flopwise.service.schemas.downstream import (
    MetricPublic,
    PointMetricPublic,
    Target,
    TargetPublic,
)
from flopwise.service.schemas.moe import MoEPlanPublic, Precision, VocabularyPublic
from flopwise.service.schemas.rules import exactly_one, excludes, given, needs, rules

__all__ = [
    "AllocatePublic",
    "AllocateRequest",
    "Constraints",
    "FrontierPublic",
    "FrontierRequest",
    "PlanPublic",
    "PredictPublic",
    "PredictRequest",
    "ThroughputRefPublic",
]

LevelField = Field(
    DEFAULT_LEVEL,
    ge=LEVEL[0],
    le=LEVEL[1],
    allow_inf_nan=False,
    description="Coverage of every interval in the answer, 0.01 to 0.998 (one of the "
    "built-in laws' 1,000 bootstrap draws in each tail).",
)
MAX_PREDICT_BATCH = 10_000
"""Points one ``POST /v1/predict`` list may carry."""
MAX_SHAPES = 1 << 20
"""Feasible shapes one search may consider: (width range / width step) x depth range."""


class Constraints(Request):
    """Limits on the model shape; unset fields keep the law's own architecture.

    Cross-field rules (422 naming the field): ``min_width <= max_width`` and
    ``min_depth <= max_depth``; some width in range must be a multiple of
    ``head_dim x kv_group``; the search may consider at most 1,048,576 shapes
    (widths in range / (head_dim x kv_group), times depths in range)."""

    min_width: Width = 1
    """Smallest model width (hidden size, in channels) allowed, 1 to 262,144."""
    max_width: Width = 65536
    """Largest model width (hidden size, in channels) allowed, 1 to 262,144."""
    min_depth: Depth = 1
    """Fewest transformer blocks allowed, 1 to 2,048."""
    max_depth: Depth = 512
    """Most transformer blocks allowed, 1 to 2,048."""
    aspect_ratio: float = Field(128.0, ge=1, le=10_000, allow_inf_nan=False)
    """Target width / depth for laws without width/depth terms (dimensionless), 1 to 10,000."""
    head_dim: int | None = Field(None, ge=1, le=4096)
    """Attention head size in channels (the law's architecture family by default)."""
    kv_group: int | None = Field(None, ge=1, le=1024)
    """Query heads per key/value head (the law's family by default)."""
    vocab_size: int | None = Field(None, ge=1, le=10_000_000)
    """Vocabulary size in tokens (the law's family by default)."""
    seq_len: int | None = Field(None, ge=1, le=100_000_000)
    """Training context length in tokens (the law's family by default)."""


class AllocateRequest(Request):
    """A budget as exactly one of ``flops``; ``gpu_hours`` with ``gpu``; or ``dollars``
    with ``gpu`` and ``price_per_gpu_hour``; or none with a ``target`` score.

    Cross-field rules (422 naming the field): exactly one budget field, or none and a
    ``target`` (planned in FLOPs, so without ``throughput``); ``gpu_hours``
    and ``dollars`` need ``gpu``, ``dollars`` also ``price_per_gpu_hour``;
    ``price_per_gpu_hour`` needs ``gpu``; the budget in FLOPs (gpu-hours x peak x mfu)
    must lie in 1e6..1e32; ``inference_tokens`` only for laws that price inference.
    With ``throughput``: no ``flops``, ``inference_tokens`` or ``unique_tokens``, the
    hours need no ``gpu`` (the model's, if given), ``n_gpus``, ``deadline_hours`` or
    ``max_wall_clock_hours`` (not both of the first two), and a law with a
    chinchilla-core or width-depth loss; ``max_wall_clock_hours`` and
    ``b_noise_tokens`` need ``throughput``; ``top_k`` needs ``experts``. The JSON Schema
    states every rule here that does not depend on the law (``allOf``), with one
    exception: it asks for exactly one budget even with a ``target``, which the service
    also takes instead of a budget. (Spelled as an alternative beside the other rules,
    the schema outgrows what schema-driven generators expand: jsonschema_rs gives up on
    its intersections and schemathesis cannot draw a body.)"""

    model_config = ConfigDict(
        json_schema_extra=rules(
            exactly_one("flops", "gpu_hours", "dollars"),  # a target instead: see above
            needs("dollars", "price_per_gpu_hour"),
            needs(("gpu_hours", "dollars", "price_per_gpu_hour"), "gpu", unless="throughput"),
            excludes("throughput", "flops", "inference_tokens", "unique_tokens"),
            needs(("max_wall_clock_hours", "b_noise_tokens"), "throughput"),
            needs("top_k", "experts"),
            {
                "if": given("throughput"),
                "then": {
                    "not": given("n_gpus", "deadline_hours"),
                    "anyOf": [
                        given("n_gpus"),
                        given("deadline_hours"),
                        given("max_wall_clock_hours"),
                    ],
                },
            },
        )
    )

    law: LawRef = DEFAULT_LAW
    """Law id, or id@version (ASCII digits): GET /v1/laws lists them."""
    flops: Flops | None = None
    """Training budget in FLOPs as the law counts C, 1e6 to 1e32."""
    gpu_hours: float | None = Field(None, ge=1e-6, le=1e10, allow_inf_nan=False)
    """Training budget in GPU-hours on ``gpu``, 1e-6 to 1e10."""
    dollars: float | None = Field(None, ge=1e-6, le=1e13, allow_inf_nan=False)
    """Training budget in US dollars at ``price_per_gpu_hour`` on ``gpu``, 1e-6 to 1e13."""
    gpu: str | None = Field(None, min_length=1, max_length=64)
    """GPU name for GPU-hour and dollar budgets (h100, a100, mi250x-gcd, ...)."""
    mfu: float = Field(0.4, ge=0.001, le=1, allow_inf_nan=False)
    """Model FLOPs utilisation turning GPU-hours into FLOPs (fraction of peak), 0.001 to 1."""
    n_gpus: NGpus | None = None
    """GPUs training in parallel, for the wall-clock time (and time-optimal plans)."""
    price_per_gpu_hour: float | None = Field(None, ge=1e-6, le=1e4, allow_inf_nan=False)
    """Price of one GPU-hour in US dollars, for dollar budgets and costs."""
    inference_tokens: Tokens | None = None
    """Tokens the model will serve; the budget then pays 2 N per served token too
    (Sardana et al. 2024), 1 to 1e18."""
    unique_tokens: Tokens | None = None
    """Distinct training tokens available; repeating them is discounted (Muennighoff et
    al. 2023), 1 to 1e18."""
    constraints: Constraints | None = None
    """Limits on the shape (the CLI takes each as a flag of its own)."""
    level: float = LevelField
    throughput: str | None = Field(None, min_length=1, max_length=200, pattern=LAW_REF_PATTERN)
    """Throughput model id or id@version (``GET /v1/throughput``): a GPU-hour budget gets
    time-optimal and FLOP-optimal plans; without one, hours become FLOPs at ``mfu``."""
    deadline_hours: Hours | None = None
    """Wall-clock deadline in hours; sets ``n_gpus = ceil(gpu_hours / deadline_hours)``."""
    batch_tokens: BatchTokens | None = None
    """Global batch per step in tokens for the time-optimal plans (the model's own by
    default), 1 to 1e12."""
    experts: int | None = Field(None, ge=1, le=1 << 16)
    """Routed experts per MoE block: the answer adds the compute-optimal MoE plan
    (``moe``) beside the dense one."""
    top_k: int | None = Field(None, ge=1, le=1 << 16)
    """Routed experts each token passes through (default 1 with ``experts``)."""
    shared_experts: int = Field(0, ge=0, le=1024)
    """Experts every token passes through (DeepSeekMoE), 0 to 1,024."""
    granularity: float = Field(1.0, ge=1, le=1024, allow_inf_nan=False)
    """Dense MLP size over one expert's (Krajewski et al. 2024's G), 1 to 1,024."""
    dense_layers: int = Field(0, ge=0, le=2048)
    """Dense blocks before the first MoE block, 0 to 2,048."""
    moe_law: str = Field("krajewski-2024", min_length=1, max_length=200, pattern=LAW_REF_PATTERN)
    """Mixture-of-experts law for the MoE plan; the dense plan then uses ``law`` if given,
    else the MoE law's own dense fit (``<moe_law>-dense``) where one exists."""
    precision: Precision = "mixed-adam"
    """How memory counts a parameter, for the fewest GPUs on ``gpu`` (ZeRO §3.1: 16 bytes
    under mixed precision with Adam)."""
    vocab: Literal["optimal"] | None = None
    """``optimal``: size the shape's vocabulary by Tao et al. 2024 (fitted on 33M to
    2.87B non-vocabulary parameters)."""
    hyperparameters: HyperLawId = DEFAULT_HYPER_LAW
    """Law for the batch size and learning rate: deepseek-2024, step-law-2025,
    porian-2024-tuned or olmo-ladder-2024 (the answer names it and says where they
    disagree by more than 2x)."""
    max_wall_clock_hours: Hours | None = None
    """Finish within this many hours (with a throughput model): the answer gives the
    fewest GPUs, so the fewest GPU-hours, that meet it, counting the extra tokens a
    batch past the critical batch needs, or says why no GPU count does."""
    b_noise_tokens: Annotated[float, between((1, 1e13))] | None = None
    """Critical batch B_noise in tokens (McCandlish et al. 2018) for plans with a
    throughput model, 1 to 1e13, e.g. from flopwise fit-critical-batch; by default the
    built-in zhang-2024 law at the plan's tokens."""
    target: Target | None = None
    """A benchmark score to reach (``{"metric": "hellaswag_acc", "value": 0.7}``), for laws
    with downstream links: without a budget, the answer plans the smallest budget whose
    predicted metric reaches it; with one, it says the chance of reaching it there."""


class LawPublicRef(BaseModel):
    id: str
    version: int


if TYPE_CHECKING:
    ShapePublic = BaseModel
    HyperparametersPublic = BaseModel
    CostPublic = BaseModel
    PlanPublic = BaseModel
else:  # the fields of fitting's answers, declared there (``public_model``)
    ShapePublic = public_model(Shape, "ShapePublic")
    HyperparametersPublic = public_model(
        Hyperparameters, "HyperparametersPublic", exclude=("compute",)
    )
    CostPublic = public_model(Cost, "CostPublic")
    PlanPublic = public_model(
        Plan,
        "PlanPublic",
        doc="One way to spend GPU-hours, costed in FLOPs, hours and dollars.",
        types={"shape": ShapePublic},
    )


class ThroughputRefPublic(BaseModel):
    id: str
    version: int


if TYPE_CHECKING:
    CriticalBatchPublic = BaseModel
else:  # ``fitting.throughput.critical``'s answer, declared there
    GpuPointPublic = public_model(GpuPoint, "GpuPointPublic")
    DeadlinePublic = public_model(
        DeadlinePlan,
        "DeadlinePublic",
        types={"point": GpuPointPublic | None, "fastest": GpuPointPublic},
    )
    CriticalBatchPublic = public_model(
        CriticalBatchPlan,
        "CriticalBatchPublic",
        doc="The plan priced against the critical batch, and what more GPUs buy.",
        types={
            "plan": GpuPointPublic,
            "at_largest_useful": GpuPointPublic,
            "points": list[GpuPointPublic],
            "deadline": DeadlinePublic | None,
            "warnings": list[str],
        },
    )

if TYPE_CHECKING:
    AllocatePublic = BaseModel
else:  # ``fitting.allocation.Allocation``'s fields, with the service's own after them
    AllocatePublic = public_model(
        Allocation,
        "AllocatePublic",
        doc="The compute-optimal answer for one budget.",
        exclude=("law_id", "law_version"),
        types={
            "shape": ShapePublic | None,
            "hyperparameters": HyperparametersPublic | None,
            "warnings": list[str],
            "caveats": list[str],
        },
        leading={"law": (LawPublicRef, ...)},
        extra={
            "cost": (CostPublic | None, ...),
            "throughput": (ThroughputRefPublic | None, None),
            "time_optimal": (PlanPublic | None, None),
            "flop_optimal": (PlanPublic | None, None),
            "n_gpus": (int | None, None),
            "moe": (MoEPlanPublic | None, None),
            "memory_bytes": (float | None, None),
            "min_gpus": (int | None, None),
            "vocabulary": (VocabularyPublic | None, None),
            "critical_batch": (CriticalBatchPublic | None, None),
            "downstream": (dict[str, MetricPublic] | None, None),
            "target": (TargetPublic | None, None),
        },
    )


class PredictRequest(Request):
    """``(params, tokens)`` or ``(width, depth, tokens)``.

    Cross-field rules (422 naming the field): ``params`` or both ``width`` and ``depth``
    (the JSON Schema's ``allOf``); laws with width/depth terms need ``width`` and
    ``depth``, the others ``params`` or a shape to count it from; ``unique_tokens`` only
    for data-constrained laws."""

    model_config = ConfigDict(
        json_schema_extra=rules({"anyOf": [given("params"), given("width", "depth")]})
    )

    law: LawRef = DEFAULT_LAW
    """Law id, or id@version (ASCII digits): GET /v1/laws lists them."""
    tokens: Tokens
    """Training tokens, 1 to 1e18."""
    params: Params | None = None
    """Parameters as the law counts N (its ``n_definition``), 1 to 1e16."""
    width: Width | None = None
    """Model width (hidden size, in channels), 1 to 262,144; with ``depth``, instead of
    ``params``."""
    depth: Depth | None = None
    """Transformer blocks, 1 to 2,048; with ``width``, instead of ``params``."""
    unique_tokens: Tokens | None = None
    """Distinct tokens among the training tokens (data-constrained laws), 1 to 1e18."""
    level: float = LevelField
    schedule: ScheduleIn | None = None
    """Loss-curve laws (docs/laws.md §21): the run's schedule, the loss after ``tokens``."""
    curve: bool = False
    """Loss-curve laws: also answer the whole predicted curve up to ``tokens``."""


class PredictPublic(BaseModel):
    law: LawPublicRef
    loss: float
    loss_interval: tuple[float, float] | None
    """Where a new run's measured loss will fall (``level`` coverage)."""
    curve_interval: tuple[float, float] | None
    """The mean curve's bootstrap band (parameter uncertainty only)."""
    level: float
    caveats: list[str]
    params: float | None
    tokens: float
    downstream: dict[str, MetricPublic] | None = None
    """Predicted benchmark metrics, for laws with downstream links (docs/laws.md §20)."""
    curve: list[CurvePointPublic] | None = None
    """Asked for ``curve``: the loss-curve law's predicted curve up to ``tokens``."""


class FrontierRequest(Request):
    """Budgets as a list, or ``points`` log-spaced budgets from ``flops_min`` to ``flops_max``.

    Cross-field rules (422 naming the field): either ``flops`` or both ``flops_min``
    and ``flops_max`` (not both forms: the JSON Schema's ``allOf``), with
    ``flops_min <= flops_max``; the same shape rules as ``/v1/allocate``'s
    ``constraints``."""

    model_config = ConfigDict(
        json_schema_extra=rules(
            exactly_one("flops", given("flops_min", "flops_max")),
            excludes("flops", "flops_min", "flops_max"),
        )
    )

    law: LawRef = DEFAULT_LAW
    """Law id, or id@version (ASCII digits): GET /v1/laws lists them."""
    flops: list[Flops] | None = Field(None, min_length=1, max_length=1000)
    """Budgets in FLOPs, 1e6 to 1e32 each, up to 1,000 (the CLI repeats the flag)."""
    flops_min: Flops | None = None
    """Smallest budget in FLOPs, with ``flops_max`` and ``points``."""
    flops_max: Flops | None = None
    """Largest budget in FLOPs, with ``flops_min`` and ``points``."""
    points: int = Field(32, ge=2, le=1000)
    """Budgets log-spaced from ``flops_min`` to ``flops_max``, 2 to 1,000."""
    unique_tokens: Tokens | None = None
    """Distinct training tokens available (Muennighoff et al. 2023), 1 to 1e18."""
    inference_tokens: Tokens | None = None
    """Tokens the model will serve (Sardana et al. 2024), 1 to 1e18."""
    constraints: Constraints | None = None
    """Limits on the shape (the CLI takes each as a flag of its own)."""
    level: float = LevelField


class FrontierPoint(BaseModel):
    flops: float
    params: float
    """N* as a parameter count (for a law counting DeepSeek's M: the shape's parameters)."""
    tokens: float
    loss: float | None
    loss_interval: tuple[float, float] | None = None
    width: int
    depth: int
    shape_params: float
    flops_per_token: float
    model_scale: float | None = None
    """N* of a law counting DeepSeek's M (non-embedding FLOPs per token), else null."""
    downstream: dict[str, PointMetricPublic] | None = None
    """Predicted benchmark metrics at this point, for laws with downstream links."""


class FrontierPublic(BaseModel):
    law: LawPublicRef
    points: list[FrontierPoint]
    count: int
    level: float = DEFAULT_LEVEL
    caveats: list[str] = []

"""Bodies of ``/v1/allocate``, ``/v1/predict`` and ``/v1/frontier``."""

from __future__ import annotations

from pydantic import BaseModel, Field

from flopwise.fitting.catalogue import DEFAULT_LAW
from flopwise.fitting.uncertainty import DEFAULT_LEVEL
from flopwise.service.schemas.common import Positive, Request

__all__ = [
    "AllocatePublic",
    "AllocateRequest",
    "Constraints",
    "FrontierPublic",
    "FrontierRequest",
    "PredictPublic",
    "PredictRequest",
]

LawRef = Field(DEFAULT_LAW, min_length=1, max_length=200, description="Law id, or id@version.")
LevelField = Field(
    DEFAULT_LEVEL,
    gt=0,
    lt=1,
    allow_inf_nan=False,
    description="Coverage of every interval in the answer, in (0, 1).",
)
MAX_PREDICT_BATCH = 10_000
"""Points one ``POST /v1/predict`` list may carry."""


class Constraints(Request):
    """Limits on the model shape; unset fields keep the law's own architecture."""

    min_width: int = Field(1, ge=1, le=1 << 20)
    max_width: int = Field(65536, ge=1, le=1 << 20)
    min_depth: int = Field(1, ge=1, le=4096)
    max_depth: int = Field(512, ge=1, le=4096)
    aspect_ratio: Positive = 128.0
    head_dim: int | None = Field(None, ge=1, le=4096)
    kv_group: int | None = Field(None, ge=1, le=1024)
    vocab_size: int | None = Field(None, ge=1, le=10_000_000)
    seq_len: int | None = Field(None, ge=1, le=100_000_000)


class AllocateRequest(Request):
    """A budget as exactly one of ``flops``; ``gpu_hours`` with ``gpu``; or ``dollars``
    with ``gpu`` and ``price_per_gpu_hour``."""

    law: str = LawRef
    flops: Positive | None = None
    gpu_hours: Positive | None = None
    dollars: Positive | None = None
    gpu: str | None = Field(None, min_length=1, max_length=64)
    mfu: float = Field(0.4, gt=0, le=1, allow_inf_nan=False)
    n_gpus: int | None = Field(None, ge=1, le=100_000_000)
    price_per_gpu_hour: Positive | None = None
    inference_tokens: Positive | None = None
    unique_tokens: Positive | None = None
    constraints: Constraints | None = None
    level: float = LevelField


class LawPublicRef(BaseModel):
    id: str
    version: int


class ShapePublic(BaseModel):
    width: int
    depth: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    ffn_size: int
    params: int
    params_law: float
    flops_per_token: float
    flops_per_token_6n: float


class HyperparametersPublic(BaseModel):
    batch_size_tokens: float
    learning_rate: float
    source: str


class CostPublic(BaseModel):
    gpu_hours: float
    wall_clock_hours: float | None
    dollars: float | None


class AllocatePublic(BaseModel):
    """The compute-optimal answer for one budget."""

    law: LawPublicRef
    flops: float
    params: float
    tokens: float
    loss: float | None
    loss_interval: tuple[float, float] | None
    tokens_per_param: float
    shape: ShapePublic | None
    hyperparameters: HyperparametersPublic | None
    cost: CostPublic | None
    n_definition: str
    c_definition: str
    training_flops: float
    inference_flops: float
    params_interval: tuple[float, float] | None
    tokens_interval: tuple[float, float] | None
    unique_tokens: float | None
    epochs: float | None
    warnings: list[str]
    curve_interval: tuple[float, float] | None
    """The mean curve's bootstrap band; ``loss_interval`` is where a new run will fall."""
    level: float
    caveats: list[str]


class PredictRequest(Request):
    """``(params, tokens)`` or ``(width, depth, tokens)``."""

    law: str = LawRef
    tokens: Positive
    params: Positive | None = None
    width: int | None = Field(None, ge=1, le=1 << 20)
    depth: int | None = Field(None, ge=1, le=4096)
    unique_tokens: Positive | None = None
    level: float = LevelField


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


class FrontierRequest(Request):
    """Budgets as a list, or ``points`` log-spaced budgets from ``flops_min`` to ``flops_max``."""

    law: str = LawRef
    flops: list[Positive] | None = Field(None, min_length=1, max_length=1000)
    flops_min: Positive | None = None
    flops_max: Positive | None = None
    points: int = Field(32, ge=2, le=1000)
    unique_tokens: Positive | None = None
    inference_tokens: Positive | None = None
    constraints: Constraints | None = None
    level: float = LevelField


class FrontierPoint(BaseModel):
    flops: float
    params: float
    tokens: float
    loss: float | None
    loss_interval: tuple[float, float] | None = None
    width: int
    depth: int
    shape_params: float
    flops_per_token: float


class FrontierPublic(BaseModel):
    law: LawPublicRef
    points: list[FrontierPoint]
    count: int
    level: float = DEFAULT_LEVEL
    caveats: list[str] = []

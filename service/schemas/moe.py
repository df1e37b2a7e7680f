"""Bodies of ``POST /v1/count`` and the mixture-of-experts and vocabulary parts of
``/v1/allocate``'s answer (fields of ``fitting``'s own answers: ``public_model``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from flopwise.fitting.moe_plan import MoEPlan, MoEShape
from flopwise.fitting.shape import MAX_DEPTH
from flopwise.fitting.vocabulary import Vocabulary
from flopwise.service.schemas.common import Depth, Request, Width, public_model
from flopwise.service.schemas.rules import needs, rules

__all__ = [
    "CountPublic",
    "CountRequest",
    "MoEPlanPublic",
    "Precision",
    "VocabularyPublic",
]

Precision = Literal["mixed-adam", "fp32-adam", "bf16-weights", "fp8-weights"]
"""Bytes a parameter (weights + gradients + optimiser states): mixed-adam 2 + 2 + 12
(ZeRO §3.1), fp32-adam 4 + 4 + 8, bf16-weights 2, fp8-weights 1."""


class CountRequest(Request):
    """One decoder, dense or mixture-of-experts.

    Cross-field rules (422 naming the field): ``top_k`` needs ``experts`` and may not
    exceed it; ``heads`` must divide ``width`` unless ``head_dim`` is given; ``kv_heads``
    must divide ``heads``; ``dense_layers`` must be below ``depth``. The JSON Schema
    states the first (``allOf``)."""

    model_config = ConfigDict(json_schema_extra=rules(needs("top_k", "experts")))

    width: Width
    """Model width (hidden size, in channels), 1 to 262,144."""
    depth: Depth
    """Transformer blocks, 1 to 2,048."""
    heads: int = Field(ge=1, le=1 << 14)
    """Query heads."""
    kv_heads: int | None = Field(None, ge=1, le=1 << 14)
    """Key/value heads (grouped-query attention; default: as many as query heads)."""
    head_dim: int | None = Field(None, ge=1, le=4096)
    """Channels per head (default: width / heads)."""
    ffn: int = Field(ge=1, le=1 << 22)
    """MLP hidden size of a dense block, in channels (and of each expert unless
    ``expert_ffn`` is given)."""
    vocab: int = Field(ge=1, le=10_000_000)
    """Vocabulary size in tokens."""
    experts: int | None = Field(None, ge=1, le=1 << 16)
    """Routed experts per MoE block (absent: a dense model)."""
    top_k: int | None = Field(None, ge=1, le=1 << 16)
    """Routed experts each token passes through (default 1 with ``experts``)."""
    shared_experts: int = Field(0, ge=0, le=1024)
    """Experts every token passes through (DeepSeekMoE), 0 to 1,024."""
    expert_ffn: int | None = Field(None, ge=1, le=1 << 22)
    """MLP hidden size of one expert in channels (default ``ffn``: coarse experts)."""
    dense_layers: int = Field(0, ge=0, le=MAX_DEPTH)
    """Dense blocks before the first MoE block (DeepSeek's first_k_dense_replace)."""
    gated: bool = True
    """Gated MLPs (SwiGLU: three matrices) rather than two matrices."""
    tied: bool = False
    """Output head shares the input embedding."""
    precision: Precision = "mixed-adam"
    """How memory_bytes counts a parameter (weights, gradients, optimiser states)."""
    gpu: str | None = Field(None, min_length=1, max_length=64)
    """GPU whose memory holds the model states, for min_gpus (h100, a100, ...)."""


class CountPublic(BaseModel):
    """Exact counts of one model."""

    total_params: int
    """Every parameter: what memory holds."""
    active_params: int
    """Parameters one token passes through."""
    total_non_embedding: int
    active_non_embedding: int
    embedding_params: int
    flops_per_token: float
    """Training FLOPs per token, 6 x active_params."""
    memory_bytes: float
    """Weights, gradients and optimiser states of total_params at ``precision``."""
    precision: str
    min_gpus: int | None
    """Fewest ``gpu`` whose memory holds memory_bytes (activations not counted)."""
    granularity: float | None
    """d_ff / d_expert (Krajewski et al. 2024); none for a dense model."""
    sparsity: float | None
    """1 - top_k / experts (Abnar et al. 2025); none for a dense model."""


if TYPE_CHECKING:
    MoEShapePublic = BaseModel
    MoEPlanPublic = BaseModel
    VocabularyPublic = BaseModel
else:
    MoEShapePublic = public_model(MoEShape, "MoEShapePublic")
    MoEPlanPublic = public_model(
        MoEPlan,
        "MoEPlanPublic",
        doc="The compute-optimal mixture-of-experts model at the same budget.",
        exclude=("law_id", "law_version"),
        types={"shape": MoEShapePublic, "warnings": list[str]},
        leading={"law": (dict[str, str | int], ...)},
    )
    VocabularyPublic = public_model(
        Vocabulary,
        "VocabularyPublic",
        doc="Tao et al. 2024's compute-optimal vocabulary for the planned model.",
        types={"warnings": list[str]},
    )

"""Bodies of ``POST /v1/hyperparams`` (and ``flopwise hyperparams``): a batch size and a
learning rate from a hyper-parameter law (``fitting.hyperlaws``), with every built-in
law's answer beside it. The sweep fits' bodies are in ``schemas.sweep_fits``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field

from flopwise.fitting.hyperlaws import HyperLawId
from flopwise.fitting.hyperparams import Hyperparameters
from flopwise.service.schemas.common import Request, between, public_model
from flopwise.service.schemas.queries import HyperparametersPublic, LevelField
from flopwise.service.schemas.rules import given, rules

__all__ = ["HyperparamsPublic", "HyperparamsRequest"]


class HyperparamsRequest(Request):
    """A model size and a token count; the law to answer from.

    Cross-field rules (422 naming the field): ``model_scale`` only for ``deepseek-2024``
    (the JSON Schema's ``allOf``); the OLMo ladder rule takes sequences of 2048 or 4096
    tokens (others are answered at its own 4096, with a caveat)."""

    model_config = ConfigDict(
        json_schema_extra=rules(
            {
                "if": given("model_scale"),
                "then": {"required": ["law"], "properties": {"law": {"const": "deepseek-2024"}}},
            }
        )
    )

    law: HyperLawId = "step-law-2025"
    """Hyper-parameter law: deepseek-2024 (in C = M x D), step-law-2025 (N and D),
    porian-2024-tuned (N, tuned map) or olmo-ladder-2024 (N)."""
    params: float = Field(ge=1, le=1e16, allow_inf_nan=False)
    """Parameters as the law counts N: non-embedding for step-law-2025, blocks plus
    output head for porian-2024-tuned and olmo-ladder-2024; 1 to 1e16."""
    tokens: float = Field(ge=1, le=1e18, allow_inf_nan=False)
    """Training tokens, 1 to 1e18."""
    model_scale: Annotated[float, between((1, 1e18))] | None = None
    """DeepSeek's model scale M in FLOPs per token, 1 to 1e18 (deepseek-2024 only;
    without it M is taken as 6 x params)."""
    sequence_length: int | None = Field(None, ge=1, le=100_000_000)
    """Tokens per sequence, for the batch in sequences (the law's own by default)."""
    level: float = LevelField


if TYPE_CHECKING:
    HyperparamsPublic = BaseModel
else:  # ``fitting.hyperparams.Hyperparameters``'s fields, with the comparison after them
    HyperparamsPublic = public_model(
        Hyperparameters,
        "HyperparamsPublic",
        doc="A learning rate and batch from one law, and every built-in law's beside it.",
        exclude=("compute",),
        types={"caveats": list[str]},
        extra={
            "comparison": (list[HyperparametersPublic], ...),
            "warnings": (list[str], ...),
        },
    )

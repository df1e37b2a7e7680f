"""Bodies of ``/v1/runs``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Self

from pydantic import (
    BaseModel,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from flopwise.client.types import Ingested, Run
from flopwise.service.schemas.common import Name, Positive, Request, public_model
from flopwise.service.schemas.curves import LR_RANGE, ScheduleIn

__all__ = ["IngestPublic", "RunCreate", "RunPublic", "RunsCreate", "RunsPublic"]

TagKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
TagValue = Annotated[str, StringConstraints(max_length=256)]
MetricName = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]
MetricValue = Annotated[float, Field(ge=-1e6, le=1e6, allow_inf_nan=False)]


class RunCreate(Request):
    """One evaluation of one training run; (dataset, run, tokens) identifies it."""

    dataset: Name
    run: str = Field(min_length=1, max_length=200)
    params: float = Field(
        ge=1, le=1e16, allow_inf_nan=False,
        description="Parameters (total, as the dataset counts them), 1 to 1e16.",
    )  # fmt: skip
    tokens: float = Field(
        ge=1, le=1e18, allow_inf_nan=False,
        description="Training tokens seen at this evaluation, 1 to 1e18.",
    )  # fmt: skip
    loss: float = Field(
        gt=1e-3, le=100, allow_inf_nan=False,
        description="Validation loss in nats per token, 0.001 to 100 (a language model's "
        "cross-entropy; ln of a 50k vocabulary is 10.8).",
    )  # fmt: skip
    width: int | None = Field(None, ge=1, le=1 << 20)
    depth: int | None = Field(None, ge=1, le=4096)
    flops: Positive | None = Field(None, le=1e35)
    seconds_per_step: Positive | None = Field(None, le=1e7)
    n_gpus: int | None = Field(None, ge=1, le=10_000_000)
    gpu: str | None = Field(None, min_length=1, max_length=64)
    tags: dict[TagKey, TagValue] = Field(default_factory=dict, max_length=32)
    unique_tokens: Positive | None = Field(
        None, le=1e18, description="Unique tokens in the training data (repeated data)."
    )
    epochs: Positive | None = Field(
        None, ge=1, le=1e6, description="Or: passes over the data (unique = tokens / epochs)."
    )
    lr: float | None = Field(
        None, ge=LR_RANGE[0], le=LR_RANGE[1], allow_inf_nan=False,
        description="Learning rate in force at this evaluation, 0 to 10 (loss curves, "
        "docs/laws.md §21).",
    )  # fmt: skip
    schedule: ScheduleIn | None = None
    """The run's learning-rate schedule (docs/laws.md §21): kind, peak_lr, warmup_tokens,
    final_lr_fraction, decay_tokens, total_tokens, cooldown."""

    @field_validator("schedule")
    @classmethod
    def _schedule_holds(cls, value: ScheduleIn | None) -> ScheduleIn | None:
        if value is not None:
            value.to_schedule()  # an inconsistent schedule: a ValueError naming its field
        return value

    metrics: dict[MetricName, MetricValue] = Field(
        default_factory=dict,
        max_length=128,
        description="Named metrics besides the loss, e.g. {'hellaswag_acc': 0.41, "
        "'hellaswag_bpb': 1.02}: a task's score and its loss (<task>_bpb or <task>_loss); "
        "up to 128, finite, within +-1e6.",
    )

    @field_validator("unique_tokens")
    @classmethod
    def _unique_within_tokens(cls, value: float | None, info: ValidationInfo) -> float | None:
        tokens = info.data.get("tokens")
        if value is not None and tokens is not None and value > tokens * (1 + 1e-12):
            raise ValueError(f"unique_tokens: {value:g} exceeds the {tokens:g} tokens trained")
        return value

    @field_validator("epochs")
    @classmethod
    def _epochs_agree(cls, value: float | None, info: ValidationInfo) -> float | None:
        unique, tokens = info.data.get("unique_tokens"), info.data.get("tokens")
        if value is None or unique is None or tokens is None:
            return value
        if abs(tokens / value - unique) > 1e-9 * unique:
            raise ValueError("epochs: disagrees with unique_tokens; give one of them")
        return value

    @model_validator(mode="after")
    def _epochs_to_unique(self) -> Self:
        if self.epochs is not None and self.unique_tokens is None:
            self.unique_tokens = self.tokens / self.epochs
        return self


class RunsCreate(Request):
    """A batch of observations, stored in one transaction."""

    runs: list[RunCreate] = Field(min_length=1)
    refit: bool = True
    """Queue the dataset's debounced refit; a calibration sweep, which asks for its own
    fit when it ends, sends ``false``."""


if TYPE_CHECKING:
    IngestPublic = BaseModel
    RunPublic = BaseModel
else:  # the client's types, declared there (``public_model``): one wire format
    IngestPublic = public_model(
        Ingested, "IngestPublic", doc="What a batch did; 2xx only after it was committed."
    )
    RunPublic = public_model(Run, "RunPublic", doc="One stored observation.")


class RunsPublic(BaseModel):
    data: list[RunPublic]
    count: int
    offset: int
    limit: int

"""Learning-rate schedules, loss curves and forecasts of live runs (docs/laws.md §21):
the ``schedule`` object of ``/v1/predict`` and ``/v1/runs``, the points of a predicted
curve, and the body and answer of ``POST /v1/runs/{dataset}/{run}/forecast``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from flopwise.fitting.forecast import Forecast
from flopwise.fitting.schedules import Schedule
from flopwise.fitting.stats import DEFAULT_LEVEL
from flopwise.service.schemas.common import (
    LawRef,
    Level,
    Params,
    Request,
    Tokens,
    between,
    public_model,
)

__all__ = [
    "LR_RANGE",
    "CurvePointPublic",
    "ForecastPublic",
    "ForecastRequest",
    "ObservationIn",
    "ScheduleIn",
]

LR_RANGE = (0.0, 10.0)
"""A learning rate: 0 (the end of a cooldown) to 10 (far above any that trains)."""
MAX_OBSERVATIONS = 100_000
"""Checkpoints one forecast may carry."""


class ScheduleIn(Request):
    """A run's learning-rate schedule, in tokens: a linear warmup from 0 to ``peak_lr``,
    then ``constant``, ``cosine`` or ``linear`` down to ``final_lr_fraction`` of the peak
    (over ``decay_tokens``, or to ``total_tokens``), or ``wsd``: stable, then a cooldown
    over the last ``decay_tokens`` before ``total_tokens`` (docs/laws.md §21).

    Cross-field rules (422 naming the field): ``wsd`` needs ``decay_tokens``; a decaying
    schedule needs ``total_tokens`` or ``decay_tokens`` (a prediction's ``tokens`` stands
    in for the end), and its end must lie beyond warmup."""

    kind: Literal["constant", "cosine", "linear", "wsd"]
    """Schedule shape after warmup: constant, cosine, linear or wsd."""
    peak_lr: float = between((1e-12, LR_RANGE[1]))
    """Learning rate after warmup, 1e-12 to 10."""
    warmup_tokens: float = Field(0.0, ge=0.0, le=1e18, allow_inf_nan=False)
    """Tokens of linear warmup from 0 to the peak, 0 to 1e18."""
    final_lr_fraction: float = Field(0.0, ge=0.0, le=1.0, allow_inf_nan=False)
    """Last learning rate over the peak, 0 to 1."""
    decay_tokens: Tokens | None = None
    """wsd: the cooldown's length; cosine/linear: the decay's length after warmup
    (default: to total_tokens), 1 to 1e18."""
    total_tokens: Tokens | None = None
    """Where the run is planned to end, in tokens, 1 to 1e18."""
    cooldown: Literal["linear", "1-sqrt"] = "linear"
    """wsd only: linear or 1-sqrt cooldown (Hägele et al. 2024)."""

    def to_schedule(self) -> Schedule:
        """The ``fitting`` value (``ArgumentError`` named ``schedule.<field>``)."""
        return Schedule(**self.model_dump())


class ObservationIn(Request):
    """One checkpoint of a run: its tokens and validation loss."""

    tokens: Tokens
    """Training tokens seen at the checkpoint, 1 to 1e18."""
    loss: float = between((1e-6, 1e4))
    """Validation loss, nats per token, 1e-6 to 1e4."""


class ForecastRequest(Request):
    """Where a run will land: every field left out comes from the stored run (its params,
    schedule and checkpoints), and the law from the run's dataset (its latest loss-curve
    law, ``<dataset>-multi-power`` or ``<dataset>-tissue``).

    Cross-field rules (422 naming the field): the law must be a loss-curve law; the
    schedule must name the run's end (``total_tokens``), every checkpoint lying before it."""

    law: LawRef | None = None
    """Loss-curve law id or id@version (default: the dataset's own)."""
    params: Params | None = None
    """Parameters as the law counts N, 1 to 1e16 (default: the stored run's)."""
    schedule: ScheduleIn | None = None
    """The run's schedule (default: the stored run's)."""
    observations: list[ObservationIn] | None = Field(None, max_length=MAX_OBSERVATIONS)
    """Checkpoints so far, up to 100,000 (default: the stored run's)."""
    level: Level = DEFAULT_LEVEL
    curve: bool = False
    """Also answer the whole predicted curve (64 points)."""


class CurvePointPublic(BaseModel):
    """One point of a predicted loss curve."""

    tokens: float
    lr: float
    loss: float
    loss_interval: tuple[float, float] | None


class LawPublicRef(BaseModel):
    id: str
    version: int


if TYPE_CHECKING:
    ForecastPublic = BaseModel
else:  # ``fitting.forecast.Forecast``'s fields, with the run it is about
    ForecastPublic = public_model(
        Forecast,
        "ForecastPublic",
        doc="Where a run will land, and whether it is tracking the law.",
        exclude=("law_id", "law_version"),
        types={
            "curve": list[CurvePointPublic] | None,
            "caveats": list[str],
            "loss_interval": tuple[float, float] | None,
            "curve_interval": tuple[float, float] | None,
            "adjusted_interval": tuple[float, float] | None,
        },
        leading={"law": (LawPublicRef, ...)},
        extra={"dataset": (str | None, None), "run": (str | None, None)},
    )

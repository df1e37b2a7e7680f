"""Bodies of the sweep fits ``POST /v1/hyperparams/fit`` and ``POST /v1/critical-batch/fit``
(``flopwise fit-hyperparams`` and ``fit-critical-batch`` over HTTP): runs inline, or for
the hyper-parameter fit a stored dataset (each run's peak LR from its schedule, its batch
from its ``batch_tokens`` tag)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from flopwise.fitting.fit.critical_batch import CriticalBatchFit, GroupFit, PowerLawFit
from flopwise.fitting.fit.hyper import HyperFit, SweepOptimum
from flopwise.service.schemas.common import Name, Request, between, public_model
from flopwise.service.schemas.queries import LevelField
from flopwise.service.schemas.rules import exactly_one, excludes, rules

__all__ = ["CriticalFitPublic", "CriticalFitRequest", "HyperFitPublic", "HyperFitRequest"]


class SweepRun(Request):
    """One run of a learning-rate and batch sweep."""

    params: float = Field(ge=1, le=1e16, allow_inf_nan=False)
    """Parameters as the sweep counts N (``n_definition``)."""
    tokens: float = Field(ge=1, le=1e18, allow_inf_nan=False)
    """Training tokens."""
    learning_rate: float = between((1e-9, 100))
    """Peak learning rate, 1e-9 to 100."""
    batch_size: float = between((1, 1e13))
    """Global batch, in tokens (or sequences with ``batch_in_sequences``), 1 to 1e13."""
    loss: float = between((1e-6, 1e4))
    """Final loss (lower is better), 1e-6 to 1e4."""


class FitOptions(Request):
    """What both sweep fits take besides their rows."""

    bootstrap: int = Field(200, ge=0, le=2000)
    """Bootstrap refits, for the bands, 0 to 2,000."""
    seed: int = Field(0, ge=0, le=2**31)
    """Seed of the bootstrap's resampling."""
    level: float = LevelField


class HyperFitRequest(FitOptions):
    """A sweep to fit a ``power-law`` hyper-parameter law to (``flopwise fit-hyperparams``
    over HTTP): at least three (N, D) pairs, each swept over learning rates and batches.

    Cross-field rules (422 naming the field): exactly one of ``runs`` (inline) and
    ``dataset`` (stored: each run's loss at the end its schedule plans, its schedule's
    peak LR and its ``batch_tokens`` tag, as a sweep with ``lr_grid`` / ``batch_grid``
    files them; excluded runs left out); ``batch_in_sequences`` only with ``runs``."""

    model_config = ConfigDict(
        json_schema_extra=rules(
            exactly_one("runs", "dataset"), excludes("dataset", "batch_in_sequences")
        )
    )

    runs: list[SweepRun] | None = Field(None, min_length=3, max_length=100_000)
    """The sweep's runs, 3 to 100,000 (or give ``dataset``)."""
    dataset: Name | None = None
    """A stored dataset whose runs are the sweep (or give ``runs``)."""
    batch_in_sequences: bool | None = None
    """Whether ``batch_size`` counts sequences of ``sequence_length`` tokens (inline runs
    only; default false)."""
    sequence_length: int | None = Field(None, ge=1, le=100_000_000)
    """Tokens per sequence; default a dataset's (its runs' ``sequence_length`` tag), else
    2048."""
    n_definition: Literal["non_embedding", "total", "with_head", "model_scale"] | None = None
    """What ``params`` counts; default ``non_embedding`` for inline runs and ``total`` for
    a dataset (the trainer's runs count every weight)."""
    law_id: Name = "my-sweep-hyperparameters"
    """Id of the fitted law."""


class StepsRow(Request):
    """Optimizer steps to a target loss at one global batch."""

    batch: float = between((1, 1e13))
    """Global batch (tokens, or units of ``sequence_length`` tokens), 1 to 1e13."""
    steps: float = between((1, 1e13))
    """Fewest steps that reached the target, 1 to 1e13."""
    group: str = Field("all", min_length=1, max_length=64)
    """The group the row belongs to (a model size, say "85M")."""
    params: float | None = Field(None, ge=1, le=1e16, allow_inf_nan=False)
    """The group's model size, if known (else read off labels like "85M")."""
    sequence_length: Annotated[float, between((1, 1e8))] = 1.0
    """Tokens per batch unit (1: the batch is in tokens), 1 to 1e8."""


class CriticalFitRequest(FitOptions):
    """Steps-to-target rows to fit McCandlish et al.'s S_min and B_noise to, per group
    (``flopwise fit-critical-batch`` over HTTP)."""

    rows: list[StepsRow] = Field(min_length=3, max_length=100_000)
    """The rows, 3 to 100,000 (at least 3 distinct batches per group)."""


if TYPE_CHECKING:
    HyperFitPublic = BaseModel
    CriticalFitPublic = BaseModel
else:  # the fit results' fields, declared in ``fitting.fit``
    HyperFitPublic = public_model(
        HyperFit,
        "HyperFitPublic",
        doc="A sweep's optima per (N, D) and the power law through them.",
        types={
            "optima": list[public_model(SweepOptimum, "SweepOptimumPublic")],
            "law": dict[str, Any],
            "intervals": dict[str, tuple[float, float]],
            "warnings": list[str],
        },
    )
    _PowerLaw = public_model(PowerLawFit, "CriticalPowerLawPublic", exclude=("draws",))
    CriticalFitPublic = public_model(
        CriticalBatchFit,
        "CriticalFitPublic",
        doc="S_min and B_noise per group, and B_noise as power laws across groups.",
        types={
            "groups": list[public_model(GroupFit, "GroupFitPublic")],
            "data_law": _PowerLaw | None,
            "params_law": _PowerLaw | None,
            "warnings": list[str],
        },
    )

"""Bodies of ``/v1/fits``, ``/v1/calibrations`` and ``/v1/jobs``."""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from flopwise.fitting.counting import ArchFamily
from flopwise.protocol.sweep import SweepRequest
from flopwise.service.schemas.common import Flops, Name, Request, between, no_nul
from flopwise.service.schemas.rules import exactly_one, needs, rules

__all__ = [
    "CalibrationCreate",
    "FamilyIn",
    "FitCreate",
    "FitOptionsIn",
    "JobAccepted",
    "JobPublic",
    "JobsPublic",
]


_FAMILY_LIMITS: dict[str, dict[str, Any]] = {
    "head_dim": {"ge": 1, "le": 4096},
    "kv_group": {"ge": 1, "le": 1024},
    "ffn_multiplier": {"ge": 0.01, "le": 64},
    "ffn_round": {"ge": 1, "le": 65536},
    "vocab_size": {"ge": 1, "le": 10_000_000},
    "seq_len": {"ge": 1, "le": 10_000_000},
}
"""What the service adds to ``ArchFamily``: bounds on what a request may ask for."""


def _family_model() -> Any:
    """``ArchFamily``'s fields (names, types, defaults: declared once, in ``fitting``)
    as a request model, with the service's bounds."""
    hints = get_type_hints(ArchFamily)
    spec: dict[str, Any] = {
        f.name: (hints[f.name], Field(f.default, **_FAMILY_LIMITS.get(f.name, {})))
        for f in dataclass_fields(ArchFamily)
    }
    doc = "How the runs' models are built (``fitting.counting.ArchFamily``)."
    return create_model("FamilyIn", __base__=Request, __doc__=doc, **spec)


if TYPE_CHECKING:

    class FamilyIn(Request):
        """Generated from ``ArchFamily`` at import (see ``_family_model``)."""

else:
    FamilyIn = _family_model()


ConstantName = Annotated[str, Field(min_length=1, max_length=64)]
"""A law constant's name (``E``, ``alpha``, ``N_c``): the form says which exist."""
ConstantValue = Annotated[float, Field(ge=-1e18, le=1e18, allow_inf_nan=False)]
"""A value a fit may hold a constant at: finite, within +-1e18."""


class FitOptionsIn(Request):
    """Options passed to ``fitting.fit.fit`` (see ``fitting.fit.options.FitOptions``)."""

    delta: Annotated[float, between((1e-8, 10))] | None = None
    """Huber loss threshold on log loss, 1e-8 to 10."""
    bootstrap: int | None = Field(None, ge=0, le=1000)
    seed: int | None = Field(None, ge=0, le=2**63 - 1)
    search: Literal["auto", "full", "staged"] | None = None
    max_iter: int | None = Field(None, ge=1, le=200_000)
    envelope: Literal["hull", "binned"] | None = None
    n_bins: int | None = Field(None, ge=0, le=1000)
    grouping: Literal["exact", "binned"] | None = None
    profile: Literal["akima", "parabola", "robust"] | None = None
    extrapolation: bool | None = None
    holdout: int | None = Field(None, ge=0, le=10_000)
    budgets: list[Flops] | None = Field(None, max_length=100)
    """Approach 2's isoFLOP budgets, 1e6 to 1e32 FLOPs each, up to 100."""
    n_definition: Literal["total", "non_embedding", "with_head", "model_scale"] | None = None
    c_definition: Literal["6ND", "MD", "gemstones"] | None = None
    title: str | None = Field(None, max_length=200)
    tokenizer: str | None = Field(None, max_length=200)
    citation: str | None = Field(None, max_length=500)
    notes: str | None = Field(None, max_length=2000)
    family: FamilyIn | None = None
    """Default: the family of the law version being refreshed, else Gemstones' recipe."""
    tie: dict[ConstantName, ConstantName] | None = Field(None, max_length=20)
    """Approach 3: constants tied to another, ``{"beta": "alpha"}`` (fewer free constants)."""
    fix: dict[ConstantName, ConstantValue] | None = Field(None, max_length=20)
    """Approach 3: constants held at a value, ``{"E": 1.8}``: finite numbers within
    +-1e18 (the largest built-in constant, Kaplan et al.'s N_c, is 6.4e13)."""
    objective: Literal["huber", "mse", "asymmetric"] | None = None
    """Approach 3 objective on log loss (default huber; see ``fitting.fit.objectives``)."""


class FitCreate(Request):
    """Fit a law to a dataset's stored runs.

    Cross-field rules (422 naming the field): ``form`` must be one ``method`` fits
    (Approach 1 and 2 fit power laws, Approach 3 the parametric forms: see
    ``fitting.forms``), the fit must not publish a built-in law's id, and ``dataset``
    must have stored runs; ``options.tie`` and ``options.fix`` name the form's
    constants (checked when the fit runs)."""

    dataset: Name
    form: str = Field("chinchilla", max_length=64)
    """A registered law form (``fitting.forms``) that ``method`` fits."""
    method: Literal["approach1", "approach2", "approach3"] = "approach3"
    options: FitOptionsIn = Field(default_factory=lambda: FitOptionsIn.model_validate({}))


class CalibrationCreate(SweepRequest):
    """Launch a calibration sweep: a budget as ``flops`` or ``gpu_hours`` (+ ``gpu``).

    ``protocol.sweep.SweepRequest`` itself (its fields, defaults, descriptions and checks,
    declared once there), with the service's refusal of NUL characters.

    Cross-field rules (422 naming the field): exactly one of ``flops`` and
    ``gpu_hours``; ``gpu_hours`` needs ``gpu`` (both in the JSON Schema's ``allOf``), a
    known one; ``aspects`` distinct; ``aspect_spread`` 0 or above 1."""

    model_config = ConfigDict(
        json_schema_extra=rules(exactly_one("flops", "gpu_hours"), needs("gpu_hours", "gpu"))
    )
    _no_nul = field_validator("*", mode="after")(no_nul)


class JobAccepted(BaseModel):
    job_id: str
    status: str


class JobPublic(BaseModel):
    id: str
    kind: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    progress: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    attempts: int
    max_attempts: int
    worker: str | None = Field(None, validation_alias="lease_owner")
    """The worker holding (or that last held) the job: ``host:pid:tag``."""
    payload: dict[str, Any]
    created_at: float
    updated_at: float
    finished_at: float | None


class JobsPublic(BaseModel):
    data: list[JobPublic]
    count: int

"""Laws as data: a :class:`Law` is a value holding a form, its constants and what they mean.

A law never carries hidden state: predicting, allocating and fitting are pure
functions of a ``Law`` (see ``predict``, ``allocation``, ``fit``). Laws serialise to
plain JSON (``to_dict`` / ``from_dict``) so the service can store fitted ones.

Here a form is a name. What a form requires of a law (its constants, the width of its
draws, form-specific checks) is checked a floor above, by the form itself
(``fitting.forms.checked``), which every path that acts on a law goes through.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from typing import Any

import numpy as np

from flopwise.fitting.counting import ArchFamily
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.uncertainty import PredictiveError

__all__ = [
    "CDefinition",
    "Domain",
    "DownstreamLink",
    "Form",
    "Law",
    "NDefinition",
    "from_dict",
    "to_dict",
]


class Form(StrEnum):
    """The built-in forms' names; each form's module in ``fitting.forms`` says what it
    is. A law's ``form`` may also name a form registered later (``forms.register``)."""

    CHINCHILLA = "chinchilla"
    """Hoffmann et al. 2022 Eq. 2: E + A/N^alpha + B/D^beta."""
    KAPLAN = "kaplan"
    """Kaplan et al. 2020: joint L(N, D) (Eq. 1.5), L(C_min) (Eq. 1.3), N_opt(C_min) (Table 6)."""
    WIDTH_DEPTH = "width-depth"
    """Gemstones Eq. 2: E + A_w/w^alpha_w + A_d/d^alpha_d + A_p/p^alpha_p + B/T^beta."""
    WIDTH_DEPTH_ALT = "width-depth-alt"
    """Gemstones Eq. 3: E + A_w/w^alpha_w + A_d/d^alpha_d + B/T^beta."""
    DATA_CONSTRAINED = "data-constrained"
    """Muennighoff et al. 2023 Eq. 7: Chinchilla form over effective N', D'."""
    POWER_LAW = "power-law"
    """Allocation rule N* = k_N C^a_N, optionally L* = E + A C^-gamma; a published
    D* = k_D C^a_D is kept for reference, D* itself spends the budget at N*."""
    TABULATED = "tabulated"
    """Published (C, N*, D*) rows, interpolated log-log (Chinchilla Table 3)."""
    OVERTRAINING = "overtraining"
    """Gadre et al. 2024: E + A/N^eta + B/D^eta (Chinchilla with tied exponents)."""


class NDefinition(StrEnum):
    """What a law's N counts (docs/laws.md §0)."""

    TOTAL = "total"
    """Every parameter, embeddings included (Chinchilla, Epoch, Gemstones)."""
    NON_EMBEDDING = "non_embedding"
    """No token/position embeddings, no untied head (Kaplan)."""
    WITH_HEAD = "with_head"
    """Weight matrices that do FLOPs: blocks plus output head (Porian)."""
    MODEL_SCALE = "model_scale"
    """DeepSeek's M: non-embedding FLOPs per token, attention included."""


class CDefinition(StrEnum):
    """What a law's C counts."""

    SIX_ND = "6ND"
    """C = 6 N D with the law's own N."""
    MD = "MD"
    """C = M D, DeepSeek's model scale times tokens (Eq. 2)."""
    GEMSTONES = "gemstones"
    """C = flops_per_token_gqa(w, d) x T (Gemstones App. M)."""


@dataclass(frozen=True)
class Domain:
    """Where a law was fitted (or where its authors say it holds); ``None`` = unknown."""

    flops: tuple[float, float] | None = None
    params: tuple[float, float] | None = None
    tokens: tuple[float, float] | None = None


@dataclass(frozen=True, kw_only=True, eq=False)
class DownstreamLink:
    """How a law's answers reach a benchmark metric (docs/laws.md §20): an intermediate
    loss ``via`` predicted from (N, D), then ``link`` (``fitting.links``) from it to
    ``metric``. ``step1`` is the law that predicts ``via``; ``None`` when it is the law
    that carries the link (its own loss)."""

    metric: str
    link: str
    """``sigmoid`` (Bhagia et al. 2024) or ``exponential`` (Gadre et al. 2024)."""
    via: str
    """Name of the intermediate loss (a task's bits per byte, or the main loss)."""
    constants: Mapping[str, float]
    draws: np.ndarray | None = None
    """Bootstrap draws of the link's constants (resampled runs), paired by row with the
    draws of the law predicting ``via``."""
    x_range: tuple[float, float] | None = None
    """The intermediate losses step 2 was fitted on."""
    noise_sd: float = 0.0
    """Scatter of the metric about the link on the rows it was fitted on."""
    noise_dof: int | None = None
    step1: Law | None = None
    diagnostics: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for k, v in self.constants.items():
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise ArgumentError("downstream", f"{k} of link {self.metric!r} is not finite")
        if self.draws is not None:
            draws = np.asarray(self.draws, dtype=float)
            if draws.ndim != 2 or draws.shape[1] != len(self.constants):
                raise ArgumentError("downstream", f"draws of {self.metric!r}: shape {draws.shape}")
            draws.setflags(write=False)
            object.__setattr__(self, "draws", draws)
        object.__setattr__(self, "constants", dict(self.constants))


@dataclass(frozen=True, kw_only=True, eq=False)
class Law:
    """A scaling law: its form, constants and what they mean.

    ``constants`` holds unrounded values where the source gives them; a rounded
    variant is a separate law. ``draws`` (n_draws x the form's required constants) are
    bootstrap draws of the constants, for intervals.
    """

    id: str
    form: str
    """A registered form's name (``Form`` member for the built-in ones)."""
    constants: Mapping[str, float]
    title: str = ""
    version: int = 1
    n_definition: NDefinition = NDefinition.TOTAL
    c_definition: CDefinition = CDefinition.SIX_ND
    family: ArchFamily = field(default_factory=ArchFamily)
    tokenizer: str = ""
    dataset: str = ""
    citation: str = ""
    source: str = ""
    domain: Domain = field(default_factory=Domain)
    rounded: bool = False
    verified: bool = True
    loss_unit: str = "nats/token"
    notes: str = ""
    table: tuple[tuple[float, float, float], ...] = ()
    """Tabulated form only: (C, N*, D*) rows, C increasing."""
    draws: np.ndarray | None = None
    """Bootstrap draws of the required constants, one row per draw, columns in the
    form's order (``fitting.forms.draw_constants`` names them)."""
    diagnostics: Mapping[str, Any] = field(default_factory=dict)
    spread: PredictiveError | None = None
    """Run-to-run noise and extrapolation growth behind predictive intervals
    (``fitting.uncertainty``); ``None``: the documented default applies."""
    caveats: tuple[str, ...] = ()
    """Known limits of the law, shown with every answer it gives."""
    downstream: Mapping[str, DownstreamLink] = field(default_factory=dict)
    """Links from the law's answers to benchmark metrics, by metric name (§20)."""

    def __post_init__(self) -> None:
        name = str(self.form)
        if not name:
            raise ArgumentError("form", f"law {self.id!r} names no form")
        object.__setattr__(self, "form", Form(name) if name in Form._value2member_map_ else name)
        object.__setattr__(self, "n_definition", NDefinition(self.n_definition))
        object.__setattr__(self, "c_definition", CDefinition(self.c_definition))
        for k, v in self.constants.items():
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise ArgumentError("constants", f"{k} of law {self.id!r} is not finite ({v})")
        if self.draws is not None:
            draws = np.asarray(self.draws, dtype=float)
            if draws.ndim != 2:
                raise ArgumentError("draws", f"expected a 2-D array, got shape {draws.shape}")
            draws.setflags(write=False)
            object.__setattr__(self, "draws", draws)
        object.__setattr__(self, "constants", dict(self.constants))
        object.__setattr__(self, "downstream", dict(self.downstream))

    @property
    def ref(self) -> str:
        """``id@version``."""
        return f"{self.id}@{self.version}"

    def evolve(self, **changes: Any) -> Law:
        """A copy with some fields changed (laws are immutable)."""
        return replace(self, **changes)


def to_dict(law: Law) -> dict[str, Any]:
    """A JSON-ready dict of ``law`` (draws as nested lists)."""
    out: dict[str, Any] = {}
    for f in fields(law):
        value = getattr(law, f.name)
        if f.name == "family":
            value = {g.name: getattr(value, g.name) for g in fields(value)}
        elif f.name == "domain":
            value = {
                g.name: (list(getattr(value, g.name)) if getattr(value, g.name) else None)
                for g in fields(value)
            }
        elif f.name == "draws":
            value = None if value is None else np.asarray(value).tolist()
        elif f.name == "table":
            value = [list(r) for r in value]
        elif f.name == "spread":
            value = None if value is None else value.to_dict()
        elif f.name == "caveats":
            value = list(value)
        elif f.name == "downstream":
            value = {name: _link_dict(link) for name, link in value.items()}
        elif isinstance(value, StrEnum):
            value = str(value)
        elif isinstance(value, Mapping):
            value = dict(value)
        out[f.name] = value
    return out


def from_dict(data: Mapping[str, Any]) -> Law:
    """Inverse of :func:`to_dict`."""
    kwargs = dict(data)
    if "family" in kwargs:
        kwargs["family"] = ArchFamily(**kwargs["family"])
    if "domain" in kwargs:
        kwargs["domain"] = Domain(
            **{k: (tuple(v) if v else None) for k, v in kwargs["domain"].items()}
        )
    if kwargs.get("draws") is not None:
        kwargs["draws"] = np.asarray(kwargs["draws"], dtype=float)
    if "table" in kwargs:
        kwargs["table"] = tuple(tuple(r) for r in kwargs["table"])
    if kwargs.get("spread") is not None:
        kwargs["spread"] = PredictiveError.from_dict(kwargs["spread"])
    if "caveats" in kwargs:
        kwargs["caveats"] = tuple(kwargs["caveats"])
    if kwargs.get("downstream"):
        kwargs["downstream"] = {k: _link_from(v) for k, v in kwargs["downstream"].items()}
    return Law(**kwargs)


def _link_dict(link: DownstreamLink) -> dict[str, Any]:
    out = {f.name: getattr(link, f.name) for f in fields(link)}
    out["constants"] = dict(link.constants)
    out["draws"] = None if link.draws is None else link.draws.tolist()
    out["x_range"] = None if link.x_range is None else list(link.x_range)
    out["step1"] = None if link.step1 is None else to_dict(link.step1)
    out["diagnostics"] = dict(link.diagnostics)
    return out


def _link_from(data: Mapping[str, Any]) -> DownstreamLink:
    kwargs = dict(data)
    if kwargs.get("draws") is not None:
        kwargs["draws"] = np.asarray(kwargs["draws"], dtype=float)
    if kwargs.get("x_range") is not None:
        kwargs["x_range"] = tuple(kwargs["x_range"])
    if kwargs.get("step1") is not None:
        kwargs["step1"] = from_dict(kwargs["step1"])
    try:
        return DownstreamLink(**kwargs)
    except TypeError as exc:
        raise ArgumentError("downstream", str(exc)) from None

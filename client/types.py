"""What the client's methods return.

Where the offline library has a type for an answer, the client returns it (or a
subclass carrying what only the service adds), so code written against
``flopwise.fitting`` runs against a server: ``allocate`` gives an
:class:`~flopwise.fitting.allocation.Allocation`, ``predict`` a
:class:`~flopwise.fitting.prediction.Prediction`, ``frontier`` a
:class:`~flopwise.fitting.allocation.Frontier`, ``overspend`` an
:class:`~flopwise.fitting.throughput.overspend.Overspend`, ``laws.get`` a
:class:`~flopwise.fitting.laws.Law` and ``throughput.get`` a
:class:`~flopwise.fitting.throughput.model.ThroughputModel`. The rest (jobs, runs,
ingestion) are small dataclasses here, with the response's fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from flopwise.fitting.allocation import Allocation, Frontier
from flopwise.fitting.checks import known_fields
from flopwise.fitting.hardware import Cost
from flopwise.fitting.throughput.overspend import Overspend
from flopwise.fitting.throughput.time_optimal import Plan

__all__ = [
    "Accepted",
    "Health",
    "Ingested",
    "Job",
    "LawSummary",
    "Ref",
    "Run",
    "RunsPage",
    "ServiceAllocation",
    "ServiceFrontier",
    "ServiceOverspend",
]

TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
"""Job states that do not change any more."""


@dataclass(frozen=True)
class Ref:
    """A versioned reference: a law or throughput model as ``id@version``."""

    id: str
    version: int

    def __str__(self) -> str:
        return f"{self.id}@{self.version}"


@dataclass(frozen=True)
class ServiceAllocation(Allocation):
    """An :class:`Allocation` with what the service adds: the budget's ``cost`` on the
    request's GPU, and for a GPU-hour budget answered with a throughput model that
    model (``throughput``), the time-optimal and FLOP-optimal plans for the same hours
    and the GPUs they run on."""

    cost: Cost | None = None
    throughput: Ref | None = None
    time_optimal: Plan | None = None
    flop_optimal: Plan | None = None
    n_gpus: int | None = None

    @classmethod
    def from_answer(cls, data: Mapping[str, Any]) -> ServiceAllocation:
        """Read a ``POST /v1/allocate`` answer."""
        extra = data.get("throughput")
        return replace(
            cls.from_dict(data),
            cost=None if data.get("cost") is None else Cost(**known_fields(Cost, data["cost"])),
            throughput=None if extra is None else Ref(extra["id"], extra["version"]),
            time_optimal=_plan(data.get("time_optimal")),
            flop_optimal=_plan(data.get("flop_optimal")),
            n_gpus=data.get("n_gpus"),
        )


def _plan(data: Mapping[str, Any] | None) -> Plan | None:
    return None if data is None else Plan.from_dict(data)


@dataclass(frozen=True)
class ServiceFrontier(Frontier):
    """A :class:`Frontier` with each point's ``loss_interval`` (rows of (low, high);
    NaN where a point has none), their coverage ``level`` and the path's caveats.
    ``params`` is N* as the law counts N (DeepSeek's M for such a law, as offline)."""

    loss_interval: np.ndarray
    level: float
    caveats: tuple[str, ...] = ()

    @classmethod
    def from_answer(cls, data: Mapping[str, Any]) -> ServiceFrontier:
        """Read a ``POST /v1/frontier`` answer."""
        points = data["points"]

        def column(name: str, kind: type = float) -> np.ndarray:
            return np.asarray([p[name] for p in points], dtype=kind)

        losses = [p["loss"] for p in points]
        bands = [p.get("loss_interval") or (np.nan, np.nan) for p in points]
        scale = [p.get("model_scale") for p in points]
        params = [s if s is not None else p["params"] for s, p in zip(scale, points, strict=True)]
        return cls(
            law_id=data["law"]["id"],
            law_version=data["law"]["version"],
            flops=column("flops"),
            params=np.asarray(params, dtype=float),
            tokens=column("tokens"),
            loss=None if any(v is None for v in losses) else np.asarray(losses, dtype=float),
            width=column("width", int),
            depth=column("depth", int),
            shape_params=column("shape_params"),
            shape_flops_per_token=column("flops_per_token"),
            loss_interval=np.asarray(bands, dtype=float).reshape(len(points), 2),
            level=float(data.get("level", 0.9)),
            caveats=tuple(data.get("caveats", ())),
        )


@dataclass(frozen=True)
class ServiceOverspend(Overspend):
    """An :class:`Overspend` with the reasons to doubt its numbers (``caveats``)."""

    caveats: tuple[str, ...] = ()

    @classmethod
    def from_answer(cls, data: Mapping[str, Any]) -> ServiceOverspend:
        """Read a ``POST /v1/overspend`` answer."""
        return replace(cls.from_dict(data), caveats=tuple(data.get("caveats", ())))


def read(cls: type, data: Mapping[str, Any]) -> Any:
    return cls(**known_fields(cls, data))


@dataclass(frozen=True)
class Health:
    """``GET /healthz``: alive, and the law versions the server answers with by default."""

    status: str
    laws: dict[str, int]

    @classmethod
    def from_answer(cls, data: Mapping[str, Any]) -> Health:
        result: Health = read(cls, data)
        return result


@dataclass(frozen=True)
class LawSummary:
    """One law of ``GET /v1/laws`` (``laws.get`` gives the :class:`Law` itself)."""

    id: str
    version: int
    title: str
    form: str
    n_definition: str
    c_definition: str
    source: str
    citation: str
    dataset: str
    builtin: bool
    has_draws: bool
    domain: dict[str, list[float] | None]
    versions: list[int]

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"


@dataclass(frozen=True)
class Run:
    """One stored observation (``GET /v1/runs``)."""

    id: int
    dataset: str
    run: str
    params: float
    tokens: float
    loss: float
    width: int | None = None
    depth: int | None = None
    flops: float | None = None
    seconds_per_step: float | None = None
    n_gpus: int | None = None
    gpu: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    created_at: float = 0.0
    unique_tokens: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    """Named metrics besides the loss (a task's accuracy and bits per byte, docs/laws.md
    §20); empty when the run carries none."""
    lr: float | None = None
    """The learning rate in force at the evaluation (loss curves, docs/laws.md §21)."""
    schedule: dict[str, Any] | None = None
    """The run's learning-rate schedule (kind, peak_lr, warmup_tokens, final_lr_fraction,
    decay_tokens, total_tokens, cooldown), in tokens; ``None`` when it names none."""


@dataclass(frozen=True)
class RunsPage:
    """A page of ``GET /v1/runs``: ``count`` is how many match in all."""

    data: list[Run]
    count: int
    offset: int
    limit: int

    @classmethod
    def from_answer(cls, data: Mapping[str, Any]) -> RunsPage:
        rows = [read(Run, row) for row in data["data"]]
        return cls(rows, data["count"], data["offset"], data["limit"])


@dataclass(frozen=True)
class Ingested:
    """What ``POST /v1/runs`` did (summed over the batches of one ``runs.post``)."""

    received: int = 0
    inserted: int = 0
    duplicates: int = 0
    refit_jobs: dict[str, str] = field(default_factory=dict)
    """Dataset -> the (debounced) refit job the runs queued or delayed."""

    def __add__(self, other: Ingested) -> Ingested:
        return Ingested(
            self.received + other.received,
            self.inserted + other.inserted,
            self.duplicates + other.duplicates,
            {**self.refit_jobs, **other.refit_jobs},
        )


@dataclass(frozen=True)
class Exclusion:
    """A run left out of its dataset's fits (``POST /v1/runs/{dataset}/{run}/exclude``),
    or the end of that (``.../restore``: ``restored_at``), or a deletion in the history."""

    dataset: str
    run: str
    reason: str
    excluded_at: float
    restored_at: float | None = None
    refit_job: str | None = None
    """The refit the change queued (``None`` in the history)."""


@dataclass(frozen=True)
class Deleted:
    """What ``DELETE /v1/runs/{dataset}/{run}`` removed."""

    dataset: str
    run: str
    deleted: int
    refit_job: str | None = None


@dataclass(frozen=True)
class Accepted:
    """A queued job (``POST /v1/fits``, ``POST /v1/calibrations``)."""

    job_id: str
    status: str


@dataclass(frozen=True)
class Job:
    """One job (``GET /v1/jobs/{id}``): a refit or a calibration sweep."""

    id: str
    kind: str
    status: str
    """queued, running, succeeded, failed or cancelled."""
    progress: dict[str, Any]
    result: dict[str, Any] | None
    """For a published fit ``{"law_id", "version"}``."""
    error: str | None
    attempts: int
    max_attempts: int
    payload: dict[str, Any]
    created_at: float
    updated_at: float
    finished_at: float | None
    worker: str | None = None

    @property
    def done(self) -> bool:
        """Whether the job has ended (succeeded, failed or cancelled)."""
        return self.status in TERMINAL

    @property
    def law(self) -> Ref | None:
        """The law version a succeeded fit published."""
        result = self.result or {}
        law_id, version = result.get("law_id"), result.get("version")
        if isinstance(law_id, str) and isinstance(version, int):
            return Ref(law_id, version)
        return None

"""The trainer -> service stream, typed once: observation records and progress events.

The trainer posts :class:`RunRecord` s to ``POST /v1/runs`` (and writes them to
``runs.jsonl``) and prints one progress event per line (``--progress jsonl``), which the
service follows for ``/v1/jobs/{id}``. Both sides use these classes: the trainer builds
an event and sends ``to_dict()``; the service reads a line with :func:`parse_event`.
Standard library only (the service and the trainer never import each other).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

__all__ = [
    "RUN_RECORD_FIELDS",
    "DoneEvent",
    "EvalEvent",
    "Event",
    "FitEvent",
    "MessageEvent",
    "PlanEvent",
    "ProgressEvent",
    "RunDoneEvent",
    "RunRecord",
    "StartEvent",
    "parse_event",
]


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    """One observation as ``POST /v1/runs`` takes it; (dataset, run, tokens) identifies it."""

    dataset: str
    """Dataset the run belongs to."""
    run: str
    """Run id (one model trained once)."""
    width: int
    """Residual width."""
    depth: int
    """Transformer blocks."""
    params: int
    """Total trainable parameters."""
    tokens: int
    """Training tokens seen at this evaluation."""
    flops: float
    """Training FLOPs so far (Gemstones' counter)."""
    loss: float
    """Validation loss, nats per token."""
    seconds_per_step: float
    """Measured wall seconds per optimizer step on the node that trained it."""
    n_gpus: int
    """Devices (processes) the run used."""
    gpu: str
    """Device kind by ``fitting.hardware`` name, or ``cpu``."""
    tags: dict[str, str] = field(default_factory=dict)
    """Labels and measurements without a column (sweep, host, tokens/s, MFU, ...)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


RUN_RECORD_FIELDS = tuple(f.name for f in fields(RunRecord))
"""Keys of one run record in ``POST /v1/runs`` and one line of ``runs.jsonl``."""


@dataclass(frozen=True, kw_only=True)
class Event:
    """A progress event; ``kind`` is its ``"event"`` key on the wire."""

    kind: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.kind, **asdict(self)}


@dataclass(frozen=True, kw_only=True)
class PlanEvent(Event):
    """The sweep's plan, before anything runs."""

    kind: ClassVar[str] = "plan"
    sweep_id: str
    dataset: str
    total_runs: int
    finished_runs: int
    resumed: bool
    family: str
    budget_flops: float
    limited_by: str
    est_wall_seconds: float
    devices: list[str]
    device_kind: str
    sweep_dir: str
    runs: list[dict[str, Any]]
    """Per run: run, aspect, width, depth, params, tokens, flops, evals, est_seconds,
    n_devices."""


@dataclass(frozen=True, kw_only=True)
class StartEvent(Event):
    """A run begins or resumes."""

    kind: ClassVar[str] = "start"
    run: str
    params: int
    width: int
    depth: int
    tokens: int
    total_tokens: int
    resumed_from_step: int
    lr: float
    device: str
    world_size: int


@dataclass(frozen=True, kw_only=True)
class ProgressEvent(Event):
    """Training loss and throughput of a run."""

    kind: ClassVar[str] = "progress"
    run: str
    tokens: int
    train_loss: float
    tokens_per_second: float


@dataclass(frozen=True, kw_only=True)
class EvalEvent(Event):
    """One evaluation (one observation) of a run."""

    kind: ClassVar[str] = "eval"
    run: str
    tokens: int
    loss: float
    params: int | None = None
    record: dict[str, Any] | None = None
    """The :class:`RunRecord` as a dict, from the process that trained the run."""


@dataclass(frozen=True, kw_only=True)
class RunDoneEvent(Event):
    """A run ended (a sweep's run also says how far the sweep is)."""

    kind: ClassVar[str] = "run_done"
    run: str
    status: str
    tokens: int | None = None
    loss: float | None = None
    done: int | None = None
    total: int | None = None
    est_seconds: float | None = None
    """The sweep plan's estimate of the run's time (throughput model or constant speed)."""
    measured_seconds: float | None = None
    """The run's training time by its own step clock, beside ``est_seconds``."""


@dataclass(frozen=True, kw_only=True)
class FitEvent(Event):
    """The law fitted at the end of a sweep."""

    kind: ClassVar[str] = "fit"
    success: bool
    law_id: str | None
    version: int | None
    message: str
    constants: dict[str, float] | None = None
    where: str = "local"


@dataclass(frozen=True, kw_only=True)
class MessageEvent(Event):
    """One line for a person."""

    kind: ClassVar[str] = "message"
    text: str


@dataclass(frozen=True, kw_only=True)
class DoneEvent(Event):
    """The sweep ended."""

    kind: ClassVar[str] = "done"
    sweep_id: str
    finished: int
    failed: dict[str, str]
    skipped: list[str]
    observations: int


_KINDS: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        PlanEvent,
        StartEvent,
        ProgressEvent,
        EvalEvent,
        RunDoneEvent,
        FitEvent,
        MessageEvent,
        DoneEvent,
    )
}


def parse_event(data: Any) -> Event | None:
    """The event a JSON object holds; ``None`` for anything else (an unknown kind,
    missing fields), so a reader skips lines it does not understand.

    >>> parse_event({"event": "eval", "run": "r", "tokens": 8, "loss": 3.5})
    EvalEvent(run='r', tokens=8, loss=3.5, params=None, record=None)
    >>> parse_event({"event": "eval", "run": "r"}) is None
    True
    """
    if not isinstance(data, dict):
        return None
    cls = _KINDS.get(str(data.get("event")))
    if cls is None:
        return None
    names = {f.name for f in fields(cls)}
    try:
        return cls(**{k: v for k, v in data.items() if k in names})
    except TypeError:
        return None

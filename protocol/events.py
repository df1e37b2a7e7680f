"""The trainer -> service stream, typed once: observation records and progress events.

The trainer posts :class:`RunRecord` s to ``POST /v1/runs`` (and writes them to
``runs.jsonl``) and prints one progress event per line (``--progress jsonl``), which the
service follows for ``/v1/jobs/{id}``. Both sides use these models: the trainer builds
an event and sends ``to_dict()``; the service reads a line with :func:`parse_event`,
which picks the model by the line's ``"event"`` key (a discriminated union).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

__all__ = [
    "RUN_RECORD_FIELDS",
    "AnyEvent",
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


class Wire(BaseModel):
    """A message between the trainer and the service: immutable; a reader skips keys
    it does not know (a newer writer may add some)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    def to_dict(self) -> dict[str, Any]:
        """The message as a JSON-ready dict (floats kept as floats, NaN included)."""
        return self.model_dump()


class RunRecord(Wire):
    """One observation as ``POST /v1/runs`` takes it; (dataset, run, tokens) identifies it."""

    dataset: str = Field(description="Dataset the run belongs to.")
    run: str = Field(description="Run id (one model trained once).")
    width: int = Field(description="Residual width, features.")
    depth: int = Field(description="Transformer blocks.")
    params: int = Field(description="Total trainable parameters.")
    tokens: int = Field(description="Training tokens seen at this evaluation.")
    flops: float = Field(description="Training compute so far, FLOPs (Gemstones' counter).")
    loss: float = Field(description="Validation loss, nats per token.")
    seconds_per_step: float = Field(
        description="Measured wall time per optimizer step on the node that trained it, s."
    )
    n_gpus: int = Field(description="Devices (processes) the run used.")
    gpu: str = Field(description="Device kind by ``fitting.hardware`` name, or ``cpu``.")
    tags: dict[str, str] = Field(
        default_factory=dict,
        description="Labels and measurements without a column (sweep, host, tokens/s, MFU).",
    )
    metrics: dict[str, float] = Field(
        default_factory=dict,
        description="Named metrics besides the loss: a task's accuracy (<task>_acc) and its "
        "bits per byte (<task>_bpb).",
    )
    lr: float | None = Field(
        default=None, description="Learning rate in force at this evaluation (docs/laws.md §21)."
    )
    schedule: dict[str, Any] | None = Field(
        default=None,
        description="The run's learning-rate schedule (kind, peak_lr, warmup_tokens, "
        "final_lr_fraction, decay_tokens, total_tokens, cooldown), in tokens.",
    )


RUN_RECORD_FIELDS = tuple(RunRecord.model_fields)
"""Keys of one run record in ``POST /v1/runs`` and one line of ``runs.jsonl``."""


class Event(Wire):
    """A progress event; ``event`` names its kind on the wire."""


class PlanEvent(Event):
    """The sweep's plan, before anything runs."""

    event: Literal["plan"] = "plan"
    sweep_id: str
    dataset: str
    total_runs: int
    finished_runs: int
    resumed: bool
    family: str
    budget_flops: float = Field(description="Compute the plan spends, FLOPs.")
    limited_by: str
    est_wall_seconds: float = Field(description="Estimated wall time of the sweep, s.")
    devices: list[str]
    device_kind: str
    sweep_dir: str
    runs: list[dict[str, Any]] = Field(
        description="Per run: run, aspect, width, depth, params, tokens, flops, evals, "
        "lr (peak), batch_size (sequences), est_seconds, n_devices; an MoE sweep's "
        "granularity."
    )
    full_flops: float | None = Field(
        default=None,
        description="A warmup-stable-decay plan: what training each cooldown's point to its "
        "end would cost, FLOPs (budget_flops is what the plan spends).",
    )


class StartEvent(Event):
    """A run begins or resumes."""

    event: Literal["start"] = "start"
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


class ProgressEvent(Event):
    """Training loss and throughput of a run."""

    event: Literal["progress"] = "progress"
    run: str
    tokens: int
    train_loss: float = Field(description="Training loss, nats per token.")
    tokens_per_second: float


class EvalEvent(Event):
    """One evaluation (one observation) of a run."""

    event: Literal["eval"] = "eval"
    run: str
    tokens: int
    loss: float = Field(description="Validation loss, nats per token.")
    params: int | None = None
    record: dict[str, Any] | None = Field(
        default=None, description="The RunRecord as a dict, from the process that trained the run."
    )


class RunDoneEvent(Event):
    """A run ended (a sweep's run also says how far the sweep is)."""

    event: Literal["run_done"] = "run_done"
    run: str
    status: str
    """done, failed or skipped (a sweep's run: as the sweep's summary counts it)."""
    reason: str | None = None
    """Why a run failed or was skipped."""
    tokens: int | None = None
    loss: float | None = None
    done: int | None = None
    total: int | None = None
    est_seconds: float | None = Field(
        default=None,
        description="The plan's estimate of the run's time, s (throughput model or "
        "constant speed).",
    )
    measured_seconds: float | None = Field(
        default=None, description="The run's training time by its own step clock, s."
    )


class FitEvent(Event):
    """The law fitted at the end of a sweep."""

    event: Literal["fit"] = "fit"
    success: bool
    law_id: str | None
    version: int | None
    message: str
    constants: dict[str, float] | None = None
    where: str = "local"
    warnings: list[str] = []
    """The fit's own warnings (a constant at a bound, too few sizes...), shown with it."""


class MessageEvent(Event):
    """One line for a person."""

    event: Literal["message"] = "message"
    text: str


class DoneEvent(Event):
    """The sweep ended."""

    event: Literal["done"] = "done"
    sweep_id: str
    finished: int
    failed: dict[str, str]
    skipped: list[str]
    observations: int


AnyEvent = Annotated[
    PlanEvent
    | StartEvent
    | ProgressEvent
    | EvalEvent
    | RunDoneEvent
    | FitEvent
    | MessageEvent
    | DoneEvent,
    Field(discriminator="event"),
]
"""Every progress event, told apart by its ``event`` key."""

_EVENTS: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)


def parse_event(data: Any) -> AnyEvent | None:
    """The event a JSON object holds; ``None`` for anything else (an unknown kind,
    missing fields), so a reader skips lines it does not understand.

    >>> parse_event({"event": "eval", "run": "r", "tokens": 8, "loss": 3.5})
    EvalEvent(event='eval', run='r', tokens=8, loss=3.5, params=None, record=None)
    >>> parse_event({"event": "eval", "run": "r"}) is None
    True
    """
    try:
        return _EVENTS.validate_python(data)
    except ValidationError:
        return None

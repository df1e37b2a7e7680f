"""One evaluation point of one run: the record the service ingests (``POST /v1/runs``).

Constant learning rate lets one run be evaluated at many token counts, each point one
observation (Gemstones, docs/laws.md §8.1). The record's fields are exactly the service's
run schema; measurements the schema has no column for (tokens/s, MFU, LR, step, seed)
travel in ``tags`` as strings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flopwise.fitting.events import RUN_RECORD_FIELDS, RunRecord

__all__ = ["SERVICE_FIELDS", "Observation"]

SERVICE_FIELDS = RUN_RECORD_FIELDS
"""Keys of one run record in ``POST /v1/runs`` (``fitting.events.RunRecord``)."""


@dataclass(frozen=True, kw_only=True)
class Observation:
    """Validation loss of a model after ``tokens`` training tokens, with its cost."""

    dataset: str
    """Dataset the run belongs to."""
    run: str
    """Run id (one model trained once)."""
    width: int
    depth: int
    params: int
    """Total trainable parameters (``fitting.counting.count(spec).total``)."""
    tokens: int
    """Training tokens seen so far."""
    flops: float
    """Training FLOPs so far: tokens x Gemstones FLOPs per token."""
    loss: float
    """Mean validation cross-entropy, nats per token."""
    seconds_per_step: float
    """Measured wall seconds per optimizer step (training only, evaluation excluded)."""
    tokens_per_second: float
    """Measured training throughput over all devices."""
    mfu: float | None
    """Model FLOPs utilisation (None on CPU)."""
    n_gpus: int
    """Devices (processes) the run used."""
    gpu: str
    """Device kind by ``fitting.hardware`` name, or ``cpu``."""
    step: int
    """Optimizer steps so far."""
    lr: float
    """Learning rate at this step."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Labels from the run's config (sweep, aspect, seed, ...)."""

    def __post_init__(self) -> None:
        for name in ("loss", "flops", "seconds_per_step", "tokens_per_second"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be finite and non-negative, got {value!r}")

    @property
    def key(self) -> tuple[str, str, int]:
        """What the service is idempotent on."""
        return (self.dataset, self.run, self.tokens)

    def record(self) -> dict[str, Any]:
        """The service's run record (``SERVICE_FIELDS``)."""
        tags = dict(self.tags)
        tags.update(
            tokens_per_second=f"{self.tokens_per_second:.6g}",
            step=str(self.step),
            lr=f"{self.lr:.6g}",
            flops_counter="gemstones",
        )
        if self.mfu is not None:
            tags["mfu"] = f"{self.mfu:.4f}"
        return RunRecord(
            dataset=self.dataset,
            run=self.run,
            width=self.width,
            depth=self.depth,
            params=self.params,
            tokens=self.tokens,
            flops=self.flops,
            loss=self.loss,
            seconds_per_step=self.seconds_per_step,
            n_gpus=self.n_gpus,
            gpu=self.gpu,
            tags=tags,
        ).to_dict()

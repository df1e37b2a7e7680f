"""One evaluation point of one run: the record the service ingests (``POST /v1/runs``).

Constant learning rate lets one run be evaluated at many token counts, each point one
observation (Gemstones, docs/laws.md §8.1). The record's fields are exactly the service's
run schema; measurements the schema has no column for (tokens/s, MFU, LR, step, seed)
travel in ``tags`` as strings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from flopwise.fitting.events import RUN_RECORD_FIELDS, RunRecord

__all__ = ["SERVICE_FIELDS", "Observation"]

SERVICE_FIELDS = RUN_RECORD_FIELDS
"""Keys of one run record in ``POST /v1/runs`` (``fitting.events.RunRecord``)."""


@dataclass(frozen=True, kw_only=True)
class Observation(RunRecord):
    """Validation loss of a model after ``tokens`` training tokens, with its cost: the
    service's :class:`~flopwise.fitting.events.RunRecord` plus what has no column there."""

    tokens_per_second: float
    """Measured training throughput over all devices."""
    mfu: float | None
    """Model FLOPs utilisation (None on CPU)."""
    step: int
    """Optimizer steps so far."""
    lr: float
    """Learning rate at this step."""

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
        shared = {name: getattr(self, name) for name in RUN_RECORD_FIELDS}
        return RunRecord(**{**shared, "tags": tags}).to_dict()

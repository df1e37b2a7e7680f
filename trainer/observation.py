"""One evaluation point of one run: the record the service ingests (``POST /v1/runs``).

Constant learning rate lets one run be evaluated at many token counts, each point one
observation (Gemstones, docs/laws.md §8.1). The record's fields are exactly the service's
run schema; measurements the schema has no column for (tokens/s, MFU, LR, step, seed)
travel in ``tags`` as strings.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import Field, model_validator

from flopwise.protocol.events import RUN_RECORD_FIELDS, RunRecord

__all__ = ["SERVICE_FIELDS", "Observation"]

SERVICE_FIELDS = RUN_RECORD_FIELDS
"""Keys of one run record in ``POST /v1/runs`` (``protocol.events.RunRecord``)."""


class Observation(RunRecord):
    """Validation loss of a model after ``tokens`` training tokens, with its cost: the
    service's :class:`~flopwise.protocol.events.RunRecord` plus what has no column there."""

    tokens_per_second: float = Field(
        description="Measured training throughput over all devices, tokens/s."
    )
    mfu: float | None = Field(description="Model FLOPs utilisation, fraction (None on CPU).")
    step: int = Field(description="Optimizer steps so far.")
    lr: float = Field(description="Learning rate at this step.")

    @model_validator(mode="after")
    def _measured(self) -> Observation:
        for name in ("loss", "flops", "seconds_per_step", "tokens_per_second"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be finite and non-negative, got {value!r}")
        return self

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
        )
        tags.setdefault("flops_counter", "gemstones")  # an MoE run's is 6N_active
        if self.mfu is not None:
            tags["mfu"] = f"{self.mfu:.4f}"
        shared = {name: getattr(self, name) for name in RUN_RECORD_FIELDS}
        return RunRecord(**{**shared, "tags": tags}).to_dict()

"""What a refit leaves out, and why (issue 24): one poisoned run (params = tokens =
loss = 1e-300) once froze a dataset's law, every later refit failing, with no way to
remove it. A refit now fits only the runs that survive :func:`screen`:

* runs an operator excluded (``service.store.exclusions``), with their reasons;
* observations with non-physical values: N or D below 1, a loss outside (0.001, 100]
  nats per token, anything not finite;
* after a first fit, observations whose log-loss residual lies more than
  :data:`OUTLIER_SD` robust standard deviations (1.4826 x the median absolute
  deviation, Hampel's rule) and more than :data:`OUTLIER_FLOOR` from the law: a point
  the law of every other point cannot explain (:func:`outliers`).

The law is published with a caveat naming what it was fitted without, and the refit's
report lists it, so every version says what it left out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["OUTLIER_FLOOR", "OUTLIER_SD", "LeftOut", "caveat", "outliers", "screen"]

OUTLIER_SD = 10.0
"""Robust standard deviations of log-loss residual beyond which a point is an outlier
(the Gemstones runs' worst under the Chinchilla form sit at 7)."""
OUTLIER_FLOOR = 0.15
"""...and at least this far in log loss (16%): real runs' worst points stay well inside
(the Gemstones runs' worst is 6%); a diverged or mislabelled one does not."""
LOSS_RANGE = (1e-3, 100.0)
"""Plausible cross-entropy losses, nats per token."""


@dataclass(frozen=True)
class LeftOut:
    """Observations a refit did not fit, by run, and why."""

    run: str
    observations: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run, "observations": self.observations, "reason": self.reason}


def _physical(record: Mapping[str, Any]) -> bool:
    values = [record.get(k) for k in ("params", "tokens", "loss")]
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
        return False
    params, tokens, loss = (float(v) for v in values)  # type: ignore[arg-type]
    return params >= 1 and tokens >= 1 and LOSS_RANGE[0] < loss <= LOSS_RANGE[1]


def _grouped(records: list[dict[str, Any]], why: str) -> list[LeftOut]:
    counts: dict[str, int] = {}
    for record in records:
        counts[str(record["run"])] = counts.get(str(record["run"]), 0) + 1
    return [LeftOut(run, n, why) for run, n in counts.items()]


def screen(
    records: list[dict[str, Any]], excluded: Mapping[str, str]
) -> tuple[list[dict[str, Any]], list[LeftOut]]:
    """The records a refit may fit, and what it leaves out: excluded runs and
    observations with non-physical values."""
    kept, left = [], []
    by_reason: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        run = str(record["run"])
        if run in excluded:
            by_reason.setdefault(f"excluded: {excluded[run]}", []).append(record)
        elif not _physical(record):
            by_reason.setdefault("non-physical values (N or D below 1, or a loss outside "
                                 "0.001-100 nats)", []).append(record)  # fmt: skip
        else:
            kept.append(record)
    for why, group in by_reason.items():
        left.extend(_grouped(group, why))
    return kept, left


def outliers(log_residuals: np.ndarray) -> np.ndarray:
    """Mask of residuals (log loss, law minus data or the reverse) beyond
    :data:`OUTLIER_SD` robust standard deviations and :data:`OUTLIER_FLOOR`."""
    r = np.asarray(log_residuals, dtype=float)
    centre = np.median(r)
    spread = 1.4826 * np.median(np.abs(r - centre))
    return (np.abs(r - centre) > OUTLIER_SD * spread) & (np.abs(r - centre) > OUTLIER_FLOOR)


def caveat(dataset: str, left: list[LeftOut]) -> str | None:
    """What every answer of the law says about the runs it was fitted without."""
    if not left:
        return None
    parts = [f"{x.run} ({x.observations} obs., {x.reason})" for x in left[:8]]
    more = f" and {len(left) - 8} more" if len(left) > 8 else ""
    total = sum(x.observations for x in left)
    return f"fitted without {total} observation(s) of dataset {dataset}: " + "; ".join(parts) + more

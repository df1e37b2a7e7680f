"""Synthetic loss curves drawn from a known loss-curve law, for the fitting, service and
CLI tests of docs/laws.md §21 (four sizes, two lengths, a cosine and a wsd run each)."""

from __future__ import annotations

from typing import Any

import numpy as np

from flopwise.fitting.forms import law_form
from flopwise.fitting.forms.curve import curves_at
from flopwise.fitting.runs import Runs
from flopwise.fitting.schedules import Schedule, lr_at

MULTI_POWER = {
    "E": 1.8, "A_N": 60.0, "nu": 0.2, "A": 5.0, "a": 0.2, "alpha": 0.45,
    "B": 4.0, "b": 0.2, "C": 2e-7, "beta": 3.0, "gamma": 1.0,
}  # fmt: skip
TISSUE = {
    "E": 1.8, "A_N": 60.0, "nu": 0.2, "A": 5.0, "a": 0.2, "alpha": 0.45,
    "C": 1e-8, "c": 0.2, "tau": 3e8,
}  # fmt: skip
SIZES = (2e7, 6e7, 2e8, 6e8)


def peak_lr(params: float) -> float:
    """A ladder-like peak LR falling as N^(-1/3)."""
    return 3e-3 * (params / 1e8) ** (-1 / 3)


def schedule(params: float, total: float, kind: str) -> Schedule:
    """A cosine to 0.1 of the peak, or a wsd run cooling to 0 over its last 20%."""
    if kind == "cosine":
        return Schedule(
            "cosine", peak_lr(params), warmup_tokens=params, final_lr_fraction=0.1,
            total_tokens=total,
        )  # fmt: skip
    return Schedule(
        "wsd", peak_lr(params), warmup_tokens=params, decay_tokens=0.2 * total, total_tokens=total
    )


def curve_records(
    form: str = "multi-power",
    constants: dict[str, float] | None = None,
    sizes: tuple[float, ...] = SIZES,
    points: int = 12,
    noise: float = 0.0,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """One record per checkpoint (run, params, tokens, lr, loss, schedule as a dict)."""
    k = constants or (MULTI_POWER if form == "multi-power" else TISSUE)
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    for n in sizes:
        for multiple in (10, 40):
            for kind in ("cosine", "wsd"):
                s = schedule(n, multiple * n, kind)
                tokens = np.linspace(2 * n, multiple * n, points)
                loss = np.asarray(law_form(form).curve_loss(k, n, curves_at(s, tokens)))
                loss = loss * np.exp(rng.normal(0.0, noise, len(loss)))
                rows += [
                    {
                        "run": f"{n:.0e}-{multiple}x-{kind}",
                        "params": n,
                        "tokens": float(t),
                        "lr": float(lr),
                        "loss": float(v),
                        "schedule": s.to_dict(),
                    }
                    for t, v, lr in zip(tokens, loss, _lr(s, tokens), strict=True)
                ]
    return rows


def _lr(s: Schedule, tokens: np.ndarray) -> np.ndarray:
    return np.asarray(lr_at(s, tokens))


def curve_runs(**kwargs: Any) -> Runs:
    """:func:`curve_records` as ``Runs``."""
    return Runs.from_records(curve_records(**kwargs))

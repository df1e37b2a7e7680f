"""Synthetic runs from a known Chinchilla law with seeded noise (fast to fit)."""

from __future__ import annotations

from typing import Any

import numpy as np

from flopwise.fitting.catalogue import builtin
from flopwise.fitting.forms import chinchilla_loss
from flopwise.fitting.prediction import predict_loss

TRUTH = {"E": 1.8, "A": 400.0, "B": 2000.0, "alpha": 0.34, "beta": 0.28}
SIZES = (3e7, 6e7, 1.2e8, 2.5e8, 5e8)
TOKENS = (1e9, 2e9, 4e9, 8e9, 1.6e10)


def synthetic_runs(dataset: str, *, seed: int = 0, noise: float = 0.005) -> list[dict[str, Any]]:
    """25 observations: 5 model sizes, each evaluated at 5 token counts."""
    rng = np.random.default_rng(seed)
    out = []
    for n in SIZES:
        for d in TOKENS:
            loss = float(chinchilla_loss(n, d, **TRUTH) * np.exp(rng.normal(0.0, noise)))
            out.append(
                {
                    "dataset": dataset,
                    "run": f"model-{n:.0e}",
                    "params": n,
                    "tokens": d,
                    "loss": loss,
                }
            )
    return out


def repeated_runs(dataset: str) -> list[dict[str, Any]]:
    """Runs from ``muennighoff-2023`` with 0.3% noise: single-epoch runs at three token
    counts and one run repeating 5e8 unique tokens 2-16 times, for four sizes."""
    law, rng = builtin("muennighoff-2023"), np.random.default_rng(0)
    out: list[dict[str, Any]] = []
    for n in (5e7, 1e8, 2e8, 4e8):
        for d in (1e9, 2e9, 4e9):
            out.append({"run": f"{n:.0e}-{d:.0e}", "params": n, "tokens": d, "unique_tokens": d})
        for epochs in (2, 4, 8, 16):
            out.append(
                {"run": f"{n:.0e}-rep", "params": n, "tokens": 5e8 * epochs, "epochs": epochs}
            )
    for r in out:
        unique = r.get("unique_tokens", r["tokens"] / r.get("epochs", 1))
        mean = predict_loss(law, params=r["params"], tokens=r["tokens"], unique_tokens=unique)
        r.update(dataset=dataset, loss=float(mean * np.exp(rng.normal(0.0, 0.003))))
    return out

"""Synthetic runs from a known Chinchilla law with seeded noise (fast to fit)."""

from __future__ import annotations

from typing import Any

import numpy as np

from flopwise.fitting.forms import chinchilla_loss

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

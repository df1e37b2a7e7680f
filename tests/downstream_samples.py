"""Runs that carry metrics, generated from a known downstream chain with seeded noise
(docs/laws.md §20), for the tests of links, chains, answers and refits."""

from __future__ import annotations

from typing import Any

import numpy as np

from flopwise.fitting.forms import chinchilla_loss
from flopwise.fitting.links import gadre_accuracy, ladder_accuracy

LOSS = {"E": 1.82, "A": 482.0, "B": 2085.0, "alpha": 0.348, "beta": 0.366}
"""The main loss (nats per token)."""
TASK_LOSS = {"E": 0.5, "A": 60.0, "B": 300.0, "alpha": 0.25, "beta": 0.3}
"""Step 1: the task's bits per byte."""
SIGMOID = {"a": -0.7, "x0": 1.2, "k": 6.0, "b": 0.95}
"""Step 2: the task's accuracy from its bits per byte (Bhagia et al.'s form)."""
GADRE = {"epsilon": 0.8, "k": 3.0, "gamma": 1.0}
"""Another score from the main loss (Gadre et al.'s form)."""
SIZES = (1e8, 2e8, 4e8, 8e8, 1.6e9)
LENGTHS = {"short": 5.0, "long": 40.0}
"""Tokens per parameter at the end of each run."""
CHECKPOINTS = 20
"""Evaluations per run, evenly spaced in tokens (the ladder evaluates densely: step 1 reads
a run's last 5)."""


def metric_runs(
    dataset: str = "tasks", *, seed: int = 0, noise: float = 0.004
) -> list[dict[str, Any]]:
    """10 runs (5 sizes x 2 lengths), 20 checkpoints each: loss, ``task_bpb``,
    ``task_acc`` (through ``task_bpb``), ``pile_loss`` and ``score_acc`` (from the loss)."""
    rng = np.random.default_rng(seed)
    out = []
    for n in SIZES:
        for name, ratio in LENGTHS.items():
            for d in np.linspace(ratio * n / CHECKPOINTS, ratio * n, CHECKPOINTS):
                loss = float(chinchilla_loss(n, d, **LOSS) * np.exp(rng.normal(0, noise)))
                bpb = float(chinchilla_loss(n, d, **TASK_LOSS) * np.exp(rng.normal(0, noise)))
                acc = float(ladder_accuracy(bpb, **SIGMOID)) + rng.normal(0, noise)
                score = float(gadre_accuracy(loss, **GADRE)) + rng.normal(0, noise)
                out.append(
                    {
                        "dataset": dataset,
                        "run": f"{n:.0e}-{name}",
                        "params": n,
                        "tokens": float(d),
                        "loss": loss,
                        "metrics": {
                            "task_bpb": bpb,
                            "task_acc": float(acc),
                            "pile_loss": loss * 1.1,
                            "score_acc": float(score),
                        },
                    }
                )
    return out

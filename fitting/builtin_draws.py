"""Bootstrap draws shipped with built-in laws, so default answers carry intervals.

``epoch-2024-huber``: 1,000 bootstrap refits of the 240 Epoch points (whole points
resampled with replacement, Chinchilla's summed Huber objective, delta 1e-3, seed 0),
computed by :func:`epoch_draws` and stored in ``fitting/builtin/``.

``epoch-2024``: the same draws shifted onto Epoch's headline maximum-likelihood
estimate (log space for E, A, B; linear for alpha, beta) — the bootstrap's spread
around the refit, placed at the published estimate. Their 95% intervals match
Epoch's own 4,000-resample bootstrap (alpha 0.319-0.373 against 0.317-0.373).

Regenerate with ``python -m fitting.builtin_draws``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

__all__ = ["DRAWS_FILE", "epoch_draws", "load_epoch_draws", "shift_draws"]

DRAWS_FILE = Path(__file__).with_name("builtin") / "epoch-2024-huber-draws.json"
NAMES = ("E", "A", "B", "alpha", "beta")
LOG_SCALE = ("E", "A", "B")


def epoch_draws(
    n_draws: int = 1000, seed: int = 0, workers: int = 0
) -> tuple[dict[str, float], np.ndarray]:
    """Refit the Epoch data ``n_draws`` times on bootstrap resamples: (point fit, draws)."""
    from flopwise.fitting.datasets import load_dataset
    from flopwise.fitting.fit import fit

    report = fit(
        load_dataset("epoch-chinchilla").runs,
        form="chinchilla",
        bootstrap=n_draws,
        seed=seed,
        workers=workers,
    )
    if report.law is None or report.law.draws is None:
        raise RuntimeError(f"Epoch bootstrap failed: {report.message}")
    return dict(report.law.constants), np.asarray(report.law.draws)


def shift_draws(
    draws: np.ndarray, fitted: Mapping[str, float], target: Mapping[str, float]
) -> np.ndarray:
    """Move bootstrap draws from the refit's estimate to ``target`` (basic bootstrap shift)."""
    out = np.array(draws, dtype=float)
    for i, name in enumerate(NAMES):
        if name in LOG_SCALE:
            out[:, i] = np.exp(np.log(out[:, i]) - np.log(fitted[name]) + np.log(target[name]))
        else:
            out[:, i] = out[:, i] - fitted[name] + target[name]
    return out


def load_epoch_draws() -> tuple[dict[str, float], np.ndarray]:
    """The stored (point fit, draws) of ``epoch-2024-huber``."""
    data = json.loads(DRAWS_FILE.read_text())
    return data["fitted"], np.asarray(data["draws"], dtype=float)


def main() -> None:  # pragma: no cover - regenerates the shipped file
    fitted, draws = epoch_draws()
    payload = {
        "description": "bootstrap refits of the 240 Epoch points; see fitting/builtin_draws.py",
        "names": list(NAMES),
        "seed": 0,
        "fitted": fitted,
        "draws": [[float(f"{x:.9g}") for x in row] for row in draws],
    }
    DRAWS_FILE.write_text(json.dumps(payload) + "\n")


if __name__ == "__main__":  # pragma: no cover
    main()

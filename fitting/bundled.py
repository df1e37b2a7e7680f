"""What the built-in laws ship with besides their constants: bootstrap draws and
predictive-error estimates, read from ``fitting/builtin/`` (computed once by
:mod:`fitting.regenerate`, which the runtime never imports).

``epoch-2024-huber``: 1,000 bootstrap refits of the 240 Epoch points (whole points
resampled with replacement, Chinchilla's summed Huber objective, delta 1e-3, seed 0).
``epoch-2024``: the same draws shifted onto Epoch's headline maximum-likelihood estimate
(log space for E, A, B; linear for alpha, beta): the bootstrap's spread around the
refit, placed at the published estimate. Their 95% intervals match Epoch's own
4,000-resample bootstrap (alpha 0.319-0.373 against 0.317-0.373).

A built-in law has no fit of its own to measure run-to-run noise and extrapolation
growth on (``fitting.uncertainty``), so they are estimated once from the data the law
was fitted on, where the repository bundles it (:data:`SPREAD_SOURCES`). Other
built-in laws carry the documented default and say so in their answers' ``caveats``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from flopwise.fitting.laws import Law
from flopwise.fitting.uncertainty import PredictiveError

__all__ = [
    "CAVEATS",
    "DRAWS_FILE",
    "DRAW_NAMES",
    "SPREADS_FILE",
    "SPREAD_SOURCES",
    "annotate",
    "load_epoch_draws",
    "shift_draws",
]

BUILTIN_DIR = Path(__file__).with_name("builtin")
DRAWS_FILE = BUILTIN_DIR / "epoch-2024-huber-draws.json"
SPREADS_FILE = BUILTIN_DIR / "spreads.json"
DRAW_NAMES = ("E", "A", "B", "alpha", "beta")
LOG_SCALE = ("E", "A", "B")

SPREAD_SOURCES: dict[str, tuple[str, str, float]] = {
    "epoch-2024": ("epoch-chinchilla", "chinchilla", 1e-3),
    "epoch-2024-huber": ("epoch-chinchilla", "chinchilla", 1e-3),
    "gemstones-2025": ("gemstones-hot-100b", "width-depth", 1e-4),
    "gemstones-2025-params": ("gemstones-hot-100b", "chinchilla", 1e-3),
}
"""Built-in law -> (bundled dataset it was fitted on, form flopwise refits there, the
Huber delta its authors fitted with)."""

CAVEATS: dict[str, tuple[str, ...]] = {
    "muennighoff-2023": (
        "absolute losses run about 10% low on the authors' own released runs (they warn "
        "against reading absolute losses from this fit); the relative effects of "
        "repeating data (epochs, R_D*, R_N*) hold",
    ),
}


def shift_draws(
    draws: np.ndarray, fitted: Mapping[str, float], target: Mapping[str, float]
) -> np.ndarray:
    """Move bootstrap draws from the refit's estimate to ``target`` (basic bootstrap shift)."""
    out = np.array(draws, dtype=float)
    for i, name in enumerate(DRAW_NAMES):
        if name in LOG_SCALE:
            out[:, i] = np.exp(np.log(out[:, i]) - np.log(fitted[name]) + np.log(target[name]))
        else:
            out[:, i] = out[:, i] - fitted[name] + target[name]
    return out


def load_epoch_draws() -> tuple[dict[str, float], np.ndarray]:
    """The stored (point fit, draws) of ``epoch-2024-huber``."""
    data = json.loads(DRAWS_FILE.read_text())
    return data["fitted"], np.asarray(data["draws"], dtype=float)


def _stored_spreads() -> dict[str, PredictiveError]:
    if not SPREADS_FILE.exists():
        return {}
    data = json.loads(SPREADS_FILE.read_text())
    return {k: PredictiveError.from_dict(v) for k, v in data["spreads"].items()}


def annotate(laws: tuple[Law, ...]) -> tuple[Law, ...]:
    """The built-in laws with their shipped draws, spreads and caveats attached."""
    spreads = _stored_spreads()
    fitted, draws = load_epoch_draws()
    out = []
    for law in laws:
        if law.id in ("epoch-2024", "epoch-2024-huber"):
            law = law.evolve(draws=shift_draws(draws, fitted, law.constants))
        out.append(law.evolve(spread=spreads.get(law.id), caveats=CAVEATS.get(law.id, law.caveats)))
    return tuple(out)

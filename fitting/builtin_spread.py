"""Predictive-error estimates and caveats shipped with built-in laws.

A built-in law has no fit of its own to measure run-to-run noise and extrapolation
growth on (``fitting.uncertainty``), so they are estimated once from the data the law
was fitted on, where the repository bundles it: noise from the published law's own
residuals on that data, growth from the leave-largest-out refits of flopwise's fit
of the same form to it. Stored in ``fitting/builtin/spreads.json``; regenerate with
``python -m flopwise.fitting.builtin_spread``. Other built-in laws carry the
documented default and say so in their answers' ``caveats``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from flopwise.fitting.forms import law_form
from flopwise.fitting.laws import Law
from flopwise.fitting.uncertainty import PredictiveError, noise_dof, noise_sd

__all__ = ["CAVEATS", "SOURCES", "SPREADS_FILE", "annotate", "estimate_spread_of"]

SPREADS_FILE = Path(__file__).with_name("builtin") / "spreads.json"
SOURCES: dict[str, tuple[str, str, float]] = {
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


def estimate_spread_of(law: Law) -> PredictiveError:
    """Noise of ``law`` on its bundled data and growth from refits of that data."""
    from flopwise.fitting.datasets import load_dataset
    from flopwise.fitting.fit import fit
    from flopwise.fitting.predict import predict_loss

    name, form, delta = SOURCES[law.id]
    data = load_dataset(name)
    runs = data.runs
    predicted = predict_loss(
        law, params=runs.params, tokens=runs.tokens, width=runs.width, depth=runs.depth
    )
    residuals = np.log(runs.loss) - np.log(np.asarray(predicted, dtype=float))
    report = fit(runs, form=form, workers=1, delta=delta)
    if report.law is None or report.law.spread is None:
        raise RuntimeError(f"{law.id}: refit of {name} failed: {report.message}")
    return replace(
        report.law.spread,
        noise_sd=noise_sd(residuals, len(law_form(law).constants)),
        noise_dof=noise_dof(len(residuals), len(law_form(law).constants)),
        source=f"bundled ({name})",
    )


def _stored() -> dict[str, PredictiveError]:
    if not SPREADS_FILE.exists():
        return {}
    data = json.loads(SPREADS_FILE.read_text())
    return {k: PredictiveError.from_dict(v) for k, v in data["spreads"].items()}


def annotate(laws: tuple[Law, ...]) -> tuple[Law, ...]:
    """Attach stored spreads and caveats to the built-in laws."""
    spreads = _stored()
    return tuple(
        law.evolve(spread=spreads.get(law.id), caveats=CAVEATS.get(law.id, law.caveats))
        for law in laws
    )


def main() -> None:  # pragma: no cover - regenerates the shipped file
    from flopwise.fitting.catalogue import BUILTIN_LAWS

    spreads = {k: estimate_spread_of(BUILTIN_LAWS[k]).to_dict() for k in SOURCES}
    payload = {"description": "see fitting/builtin_spread.py", "spreads": spreads}
    SPREADS_FILE.write_text(json.dumps(payload, indent=1) + "\n")


if __name__ == "__main__":  # pragma: no cover
    main()

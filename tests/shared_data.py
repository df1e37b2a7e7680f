"""Where the repository's own test data lives (no test reads anything outside it)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "fitting" / "datasets"
"""Runs shipped with the package (see ``fitting/datasets/PROVENANCE.md``)."""
ASSETS = REPO / "tests" / "assets"
"""Test-only files (see ``tests/assets/README.md``)."""


def gemstones_wandb_files() -> list[Path]:
    """Every Gemstones ``wandb_df_for_fitting_*.jsonl`` file the repository holds."""
    shipped = sorted(BUNDLED.glob("gemstones_wandb_df_for_fitting_*.jsonl"))
    extra = sorted((ASSETS / "gemstones_wandb_dfs").glob("*.jsonl"))
    return shipped + extra

"""The Gemstones ``hot`` runs (McLeish et al. 2025; MIT) as ``POST /v1/runs`` items."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.shared_data import BUNDLED

HOT = "gemstones_wandb_df_for_fitting_hot.jsonl"


def gemstones_hot_path() -> Path:
    return BUNDLED / HOT


def gemstones_hot(dataset: str) -> list[dict[str, Any]]:
    """220 observations: params (total, vocab 50304), tokens, loss, width, depth, timing."""
    out = []
    for line in gemstones_hot_path().read_text().splitlines():
        row = json.loads(line)
        out.append(
            {
                "dataset": dataset,
                "run": row["run_name"],
                "params": row["params_active_precise"],
                "tokens": row["tokens"],
                "loss": row["final_loss"],
                "width": row["width"],
                "depth": row["depth"],
                "seconds_per_step": row["seconds_per_step"],
                "n_gpus": row["num_nodes"] * 8,
                "gpu": "mi250x",
                "tags": {"source": "gemstones", "subset": "hot"},
            }
        )
    return out

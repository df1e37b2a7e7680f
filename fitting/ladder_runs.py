"""The OLMo model ladder's runs (Bhagia et al. 2024, arXiv:2412.04403), bundled as
``fitting/datasets/olmo_ladder_runs.csv`` (allenai/OLMo-ladder @ 67a3f440, Apache-2.0;
``PROVENANCE.md`` says how it was converted).

Five sizes (190M to 3B) trained to 0.5, 1, 2, 5 and 10 times 20 tokens per parameter
(1xC twice), every evaluation: the C4 loss is the main loss; the 10 other held-out
losses (``<set>_loss``, nats per token) and, per task, the bits per byte of the correct
answer (``<task>_bpb``) and the ranked-classification accuracy (``<task>_acc``) are
metrics. ``mmlu_bpb`` and ``mmlu_acc`` average the four MMLU groups with the authors'
weights. N is the authors' count (every parameter but one of the two untied embedding
matrices, docs/laws.md §18.4); D is the tokens trained at the evaluation.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from flopwise.fitting.runs import Runs

__all__ = ["LADDER_CHANCE", "LADDER_PARAMS", "LADDER_TASKS", "MMLU_WEIGHTS", "ladder_runs"]

LADDER_PARAMS = {
    "190M": 190_354_176,
    "370M": 371_262_464,
    "760M": 758_220_288,
    "1B": 1_279_395_840,
    "3B": 3_169_537_280,
}
"""N of each ladder size as the authors count it (``src/scripts/paper/configs/final.json``)."""

MMLU_WEIGHTS = {
    "mmlu_stem": 0.215,
    "mmlu_humanities": 0.335,
    "mmlu_social_sciences": 0.219,
    "mmlu_other": 0.231,
}
"""Weights of the MMLU groups in the authors' MMLU average (``WEIGHT_BY_KEY``,
``src/scaling/utils.py``)."""

LADDER_TASKS = (
    "mmlu",
    "hellaswag",
    "arc_challenge",
    "arc_easy",
    "piqa",
    "csqa",
    "socialiqa",
    "openbookqa",
    "boolq",
    "winogrande",
)
"""The paper's eight tasks (its ``v2_main`` set: MMLU's average first) and the two other
tasks the ladder evaluated; each has ``<task>_bpb`` and ``<task>_acc``."""

LADDER_CHANCE = {"piqa": 0.5, "socialiqa": 1 / 3, "csqa": 0.2, "boolq": 0.5, "winogrande": 0.5}
"""Chance accuracy where it is not 1 in 4 (the authors' ``v2_minimums_rc``): where the
sigmoid's first start puts its floor."""


def ladder_runs(path: Path) -> Runs:
    """The bundled ladder runs: loss is the C4 loss, every other column a metric."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    names = [k for k in rows[0] if k not in ("run", "step", "tokens", "lr", "c4_en_loss")]
    metrics = {k: np.array([float(r[k]) for r in rows]) for k in names}
    total = sum(MMLU_WEIGHTS.values())
    for suffix in ("bpb", "acc"):
        groups = np.stack([w * metrics[f"{g}_{suffix}"] for g, w in MMLU_WEIGHTS.items()])
        metrics[f"mmlu_{suffix}"] = groups.sum(axis=0) / total
    run = np.array([r["run"] for r in rows], dtype=object)
    return Runs(
        params=np.array([float(LADDER_PARAMS[str(r).split("-")[0]]) for r in run]),
        tokens=np.array([float(r["tokens"]) for r in rows]),
        loss=np.array([float(r["c4_en_loss"]) for r in rows]),
        run=run,
        metrics=metrics,
    )

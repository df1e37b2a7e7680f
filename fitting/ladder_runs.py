"""The OLMo model ladder's runs (Bhagia et al. 2024, arXiv:2412.04403), bundled as
``fitting/datasets/olmo_ladder_runs.csv`` (allenai/OLMo-ladder @ 67a3f440, Apache-2.0;
``PROVENANCE.md`` says how it was converted).

Five sizes (190M to 3B) trained to 0.5, 1, 2, 5 and 10 times 20 tokens per parameter
(1xC twice), every evaluation: the C4 loss is the main loss; the 10 other held-out
losses (``<set>_loss``, nats per token) and, per task, the bits per byte of the correct
answer (``<task>_bpb``) and the ranked-classification accuracy (``<task>_acc``) are
metrics. ``mmlu_bpb`` and ``mmlu_acc`` average the four MMLU groups with the authors'
weights. N is the authors' count (every parameter but one of the two untied embedding
matrices, docs/laws.md §18.4); D is the tokens trained at the evaluation. Each run also
carries the LR it logged at every evaluation and its cosine schedule (:func:`ladder_schedule`,
docs/laws.md §21.3), what the loss-curve laws read.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import numpy as np

from flopwise.fitting.runs import Runs
from flopwise.fitting.schedules import Schedule

__all__ = [
    "LADDER_BATCH_TOKENS",
    "LADDER_CHANCE",
    "LADDER_FLOOR",
    "LADDER_PARAMS",
    "LADDER_PEAK_LR",
    "LADDER_TASKS",
    "MMLU_WEIGHTS",
    "ladder_runs",
    "ladder_schedule",
]

LADDER_PARAMS = {
    "190M": 190_354_176,
    "370M": 371_262_464,
    "760M": 758_220_288,
    "1B": 1_279_395_840,
    "3B": 3_169_537_280,
}
"""N of each ladder size as the authors count it (``src/scripts/paper/configs/final.json``)."""

LADDER_PEAK_LR = {
    "190M": 0.000972728518721015,
    "370M": 0.0007785480791584576,
    "760M": 0.0006136404571811406,
    "1B": 0.0005154392348953896,
    "3B": 0.000380931742816925,
}
"""Each size's logged ``learning_rate_peak``: the OLMo rule 0.0047 / 4 (N / 108M)^(-1/3)
at sequences of 4,096 (docs/laws.md §18.4, ``fitting.hyperparams``)."""
LADDER_BATCH_TOKENS = {
    "190M": 524_288,
    "370M": 786_432,
    "760M": 1_310_720,
    "1B": 1_572_864,
    "3B": 3_145_728,
}
"""Each size's logged ``batch_size_in_tokens`` (docs/laws.md §18.4)."""
LADDER_FLOOR = 0.1
"""The ladder's cosine ends at 0.1 of the peak LR (docs/laws.md §21.3)."""

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


def ladder_schedule(size: str, multiple: float) -> Schedule:
    """The schedule of a ladder run of ``multiple`` x 20 N tokens: N tokens of linear
    warmup, then a cosine to 0.1 of the peak over 20 k N tokens, both rounded up to whole
    batches (it reproduces every logged LR after warmup; docs/laws.md §21.3)."""
    n, batch = LADDER_PARAMS[size], LADDER_BATCH_TOKENS[size]
    return Schedule(
        "cosine",
        LADDER_PEAK_LR[size],
        warmup_tokens=float(math.ceil(n / batch) * batch),
        final_lr_fraction=LADDER_FLOOR,
        total_tokens=float(math.ceil(multiple * 20 * n / batch) * batch),
    )


def _schedule_of(run: str) -> Schedule:
    found = re.fullmatch(r"([0-9.]+[MB])-([0-9.]+)xC(-rerun)?", run)
    if found is None:
        raise ValueError(f"{run}: not an OLMo ladder run name (<size>-<k>xC)")
    return ladder_schedule(found.group(1), float(found.group(2)))


def ladder_runs(path: Path) -> Runs:
    """The bundled ladder runs: loss is the C4 loss, every other column a metric; each
    row's logged LR and its run's schedule."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    names = [k for k in rows[0] if k not in ("run", "step", "tokens", "lr", "c4_en_loss")]
    metrics = {k: np.array([float(r[k]) for r in rows]) for k in names}
    total = sum(MMLU_WEIGHTS.values())
    for suffix in ("bpb", "acc"):
        groups = np.stack([w * metrics[f"{g}_{suffix}"] for g, w in MMLU_WEIGHTS.items()])
        metrics[f"mmlu_{suffix}"] = groups.sum(axis=0) / total
    run = np.array([r["run"] for r in rows], dtype=object)
    schedules = {name: _schedule_of(name) for name in dict.fromkeys(run)}
    schedule = np.empty(len(rows), dtype=object)
    schedule[:] = [schedules[name] for name in run]
    return Runs(
        params=np.array([float(LADDER_PARAMS[str(r).split("-")[0]]) for r in run]),
        tokens=np.array([float(r["tokens"]) for r in rows]),
        loss=np.array([float(r["c4_en_loss"]) for r in rows]),
        run=run,
        metrics=metrics,
        lr=np.array([float(r["lr"]) for r in rows]),
        schedule=schedule,
    )

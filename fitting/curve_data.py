"""Bundled loss curves with their learning-rate schedules (``fitting/datasets/``,
``PROVENANCE.md``): every checkpoint of the OLMo model ladder, and the Gemstones
cooldown ablation as warmup-stable-decay branches of constant-LR runs. ``datasets``
serves them by name (``olmo-ladder``, ``gemstones-cooldown``).
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from flopwise.fitting.runs import Runs
from flopwise.fitting.schedules import GEMSTONES_WARMUP_TOKENS, Schedule, gemstones_lr

__all__ = ["LADDER_FILE", "gemstones_cooldown_runs", "ladder_runs", "ladder_schedule"]

LADDER_FILE = "olmo_ladder_c4.csv"
LADDER_FLOOR = 0.1
"""The ladder's cosine ends at 0.1 of the peak LR (docs/laws.md §20.3)."""


def ladder_schedule(
    params: float, peak_lr: float, batch_tokens: float, multiple: float
) -> Schedule:
    """The schedule of an OLMo ladder run of ``multiple`` x 20 N tokens: N tokens of
    linear warmup, then a cosine to 0.1 of the peak over 20 k N tokens, both rounded up
    to whole batches (it reproduces every logged LR; docs/laws.md §20.3)."""
    warmup = math.ceil(params / batch_tokens) * batch_tokens
    total = math.ceil(multiple * 20 * params / batch_tokens) * batch_tokens
    return Schedule(
        "cosine", peak_lr, warmup_tokens=warmup, final_lr_fraction=LADDER_FLOOR, total_tokens=total
    )


def _multiple(run: str) -> float:
    found = re.search(r"-([0-9.]+)xC", run)
    if found is None:
        raise ValueError(f"{run}: not an OLMo ladder run name (<size>-<k>xC)")
    return float(found.group(1))


def ladder_runs(path: Path) -> Runs:
    """Every checkpoint of the 30 ladder runs: N, tokens, the logged LR, the C4 loss, and
    each run's schedule."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    schedules: dict[str, Schedule] = {}
    for r in rows:
        if r["run"] not in schedules:
            schedules[r["run"]] = ladder_schedule(
                float(r["params"]),
                float(r["peak_lr"]),
                float(r["batch_tokens"]),
                _multiple(r["run"]),
            )
    schedule = np.empty(len(rows), dtype=object)
    schedule[:] = [schedules[r["run"]] for r in rows]
    return Runs(
        params=np.array([float(r["params"]) for r in rows]),
        tokens=np.array([float(r["tokens"]) for r in rows]),
        loss=np.array([float(r["loss"]) for r in rows]),
        run=np.array([r["run"] for r in rows], dtype=object),
        lr=np.array([float(r["lr"]) for r in rows]),
        schedule=schedule,
    )


def gemstones_cooldown_runs(
    hot: Iterable[Mapping[str, Any]],
    begin: Iterable[Mapping[str, Any]],
    end: Iterable[Mapping[str, Any]],
) -> Runs:
    """Gemstones' constant-LR runs (``hot``, up to the last cooldown's end) and their
    cooldown ablation: from a checkpoint (``begin``) the LR falls linearly to 0 over
    about 10% more tokens (``end``; McLeish et al. 2025, docs/laws.md §8.1). Each
    cooldown is a run of its own with a wsd schedule; the peak is Gemstones' LR rule."""
    pairs = list(zip(begin, end, strict=True))
    last = {e["run_name"]: float(e["tokens"]) for _, e in pairs}
    rows: list[tuple[Mapping[str, Any], str, Schedule]] = []
    for h in hot:
        name = h["run_name"]
        if name in last and 0 < float(h["tokens"]) <= last[name]:
            peak = gemstones_lr(int(h["width"]), int(h["depth"]))
            rows.append((h, name, Schedule("constant", peak, GEMSTONES_WARMUP_TOKENS)))
    for b, e in pairs:
        if b["run_name"] != e["run_name"]:
            raise ValueError(f"cooldown rows disagree: {b['run_name']} and {e['run_name']}")
        start, stop = float(b["tokens"]), float(e["tokens"])
        schedule = Schedule(
            "wsd",
            gemstones_lr(int(e["width"]), int(e["depth"])),
            GEMSTONES_WARMUP_TOKENS,
            decay_tokens=stop - start,
            total_tokens=stop,
        )
        rows.append((e, f"{e['run_name']}-cool-{start / 1e9:.0f}B", schedule))
    named = np.empty(len(rows), dtype=object)
    named[:] = [s for _, _, s in rows]
    return Runs(
        params=np.array([float(r["params_active_precise"]) for r, _, _ in rows]),
        tokens=np.array([float(r["tokens"]) for r, _, _ in rows]),
        loss=np.array([float(r["final_loss"]) for r, _, _ in rows]),
        run=np.array([name for _, name, _ in rows], dtype=object),
        width=np.array([int(r["width"]) for r, _, _ in rows]),
        depth=np.array([int(r["depth"]) for r, _, _ in rows]),
        schedule=named,
    )

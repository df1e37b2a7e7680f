"""The Gemstones cooldown ablation as loss curves (``fitting/datasets/``,
``PROVENANCE.md``): warmup-stable-decay branches of constant-LR runs, each with its
schedule. ``datasets`` serves them as ``gemstones-cooldown`` (the OLMo ladder's curves
and schedules are ``fitting.ladder_runs``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from flopwise.fitting.runs import Runs
from flopwise.fitting.schedules import GEMSTONES_WARMUP_TOKENS, Schedule, gemstones_lr

__all__ = ["gemstones_cooldown_runs"]


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

"""The shapes a sweep trains: per size and aspect ratio, the family's feasible
(width, depth) nearest a target parameter count (``trainer.plan``), each at every
granularity of an MoE sweep (``trainer.moe_sweep``)."""

from __future__ import annotations

import numpy as np

from flopwise.trainer.families import Family, family

__all__ = ["feasible_grid", "pick_family", "pick_shapes", "shape_models"]


def pick_family(name: str, vocab_size: int, top_params: float) -> Family:
    """The family ``name``, or for auto the one whose scale fits the largest model."""
    if name == "auto":
        name = "tiny" if top_params < 3e6 else "small" if top_params < 3e8 else "gemstones"
    return family(name).with_vocab(vocab_size)


def feasible_grid(fam: Family) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every feasible (width, depth) of the family, with its total parameters."""
    step = fam.arch.width_step
    widths = np.arange(step, fam.max_width + 1, step, dtype=np.int64)
    grid_w, grid_d = np.meshgrid(widths, np.arange(1, fam.max_depth + 1, dtype=np.int64))
    w, d = grid_w.ravel(), grid_d.ravel()
    total, _, _ = fam.arch.param_counts(w, d)
    return w, d, np.asarray(total, dtype=float)


def pick_shapes(
    fam: Family, target: float, aspects: tuple[str, ...], spread: float, used: set[tuple[int, int]]
) -> list[tuple[str, int, int]]:
    """Per aspect, the unused shape nearest ``target`` params and the aspect's width/depth.

    The standard shape is taken first; wide and deep shapes must then be at least
    sqrt(spread) wider or deeper (in width/depth) than it, so that on a coarse grid of
    tiny widths the three shapes still differ in kind, not only by a layer.
    """
    w, d, p = feasible_grid(fam)
    ratio = {"standard": 1.0, "wide": spread, "deep": 1.0 / spread}
    centre = fam.standard_aspect
    out = []
    for aspect in sorted(aspects, key=lambda a: a != "standard"):
        want = fam.standard_aspect * ratio[aspect]
        cost = np.abs(np.log(p / target)) + 0.5 * np.abs(np.log(w / d / want))
        if aspect == "wide":
            cost = np.where(w / d >= centre * np.sqrt(spread), cost, cost + 100.0)
        elif aspect == "deep":
            cost = np.where(w / d <= centre / np.sqrt(spread), cost, cost + 100.0)
        for i in np.argsort(cost, kind="stable"):
            if (int(w[i]), int(d[i])) not in used:
                used.add((int(w[i]), int(d[i])))
                out.append((aspect, int(w[i]), int(d[i])))
                if aspect == "standard":
                    centre = float(w[i] / d[i])
                break
    return sorted(out, key=lambda shape: aspects.index(shape[0]))


def shape_models(
    fam: Family,
    target: float,
    aspects: tuple[str, ...],
    spread: float,
    used: set[tuple[int, int]],
    moe: tuple[int, ...],
) -> list[tuple[str, int, int, int]]:
    """Every (aspect, width, depth, granularity) of a size (granularity 0: dense)."""
    shapes = pick_shapes(fam, target, aspects, spread, used)
    return [(aspect, w, d, g) for aspect, w, d in shapes for g in moe]

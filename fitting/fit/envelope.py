"""Approach 1 (Hoffmann et al. 2022, §3.1): the envelope of training curves.

For every compute value, the lowest loss any run reached; the runs on that
envelope are compute-optimal, and power laws N*(C), D*(C) are fitted through them.
Two envelopes:

* ``hull`` — Gemstones (McLeish et al. 2025, ``plotters/approach_1.py``
  ``get_resource_hull``): the lower convex hull of (log C, log L) over every
  checkpoint, found by Qhull with a vantage point at (2 max C, 2 max L) so only the
  lower edge remains, then kept where loss strictly decreases with compute.
* ``binned`` — Chinchilla's minimum over training curves: the lowest-loss
  observation in each of ``n_bins`` log-spaced compute bins.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import ConvexHull

__all__ = ["DEFAULT_BINS", "binned_minimum", "lower_hull"]

DEFAULT_BINS = 100


def lower_hull(flops: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """Indices of the observations on the lower convex hull of ``(log C, log L)``,
    ordered by compute, loss strictly decreasing (Gemstones' ``get_resource_hull``)."""
    flops, loss = np.asarray(flops, dtype=float), np.asarray(loss, dtype=float)
    vantage = [2.0 * flops.max(), 2.0 * loss.max()]
    points = np.log(np.vstack([vantage, np.stack([flops, loss], axis=1)]))
    vertices = ConvexHull(points).vertices
    index = vertices[vertices != 0] - 1
    index = index[np.argsort(flops[index], kind="stable")]
    # keep the first point and every point whose loss is below its predecessor's
    # on the hull (the authors compare with the previous hull vertex, kept or not)
    drops = np.diff(loss[index]) < 0
    return index[np.concatenate([[True], drops])]


def binned_minimum(flops: np.ndarray, loss: np.ndarray, n_bins: int = DEFAULT_BINS) -> np.ndarray:
    """Index of the lowest-loss observation in each non-empty log-spaced compute bin."""
    log_c = np.log(np.asarray(flops, dtype=float))
    edges = np.linspace(log_c.min(), log_c.max(), n_bins + 1)
    which = np.clip(np.searchsorted(edges, log_c, side="right") - 1, 0, n_bins - 1)
    order = np.lexsort((loss, which))
    first = np.concatenate([[True], np.diff(which[order]) != 0])
    return order[first]

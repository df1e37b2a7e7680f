"""Pictures of a law against the data it was fitted on, rendered headless (Agg).

Left: loss against compute, the law's compute-optimal loss as a line, the runs as
points coloured by model size. Right: N* against compute, with the runs' sizes.
Built-in laws have no stored runs: they are drawn over the range they were fitted on.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from cachetools import LRUCache, cached

from flopwise.fitting.allocation import frontier
from flopwise.fitting.fit.common import run_flops
from flopwise.fitting.laws import Law, NDefinition
from flopwise.fitting.runs import Runs

__all__ = ["PlotCache", "render_png"]

_LOCK = threading.Lock()  # matplotlib's global state (fonts, rcParams) is not thread-safe


def _range(law: Law, compute: np.ndarray | None) -> tuple[float, float]:
    if compute is not None and compute.size:
        lo, hi = float(compute.min()), float(compute.max())
    elif law.domain.flops is not None:
        lo, hi = law.domain.flops
    else:
        lo, hi = 1e18, 1e24
    return lo / 3.0, hi * 30.0


def _compute(law: Law, records: Sequence[dict[str, Any]]) -> np.ndarray:
    """Each run's compute as the law counts C (its ``flops`` when every run gives one,
    else Gemstones' counter from width and depth for such laws, else 6ND), so the runs
    sit on the same axis as the law's curve."""
    return run_flops(Runs.from_records(records), law.c_definition, law.family)


def render_png(law: Law, records: Sequence[dict[str, Any]] = ()) -> bytes:
    """A PNG of ``law`` (and ``records``, the runs it was fitted on)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    compute = _compute(law, records) if records else None
    lo, hi = _range(law, compute)
    budgets = np.logspace(math.log10(lo), math.log10(hi), 60)
    try:
        path = frontier(law, budgets)
    except (ValueError, ArithmeticError):  # a law that cannot answer here: draw the data only
        path = None
    with _LOCK:
        fig = Figure(figsize=(10, 4.2), dpi=100)
        FigureCanvasAgg(fig)
        left, right = fig.subplots(1, 2)
        if compute is not None:
            params = np.asarray([r["params"] for r in records], dtype=float)
            loss = np.asarray([r["loss"] for r in records], dtype=float)
            points = left.scatter(compute, loss, c=np.log10(params), s=9, cmap="viridis", alpha=0.8)
            fig.colorbar(points, ax=left, label="log10 params")
            right.scatter(compute, params, s=6, color="0.6", label="runs")
        if path is not None and path.loss is not None:
            left.plot(path.flops, path.loss, color="crimson", label="compute-optimal loss")
            left.legend(loc="upper right", fontsize=8)
        else:
            left.text(0.5, 0.5, f"{law.form} gives no loss", transform=left.transAxes, ha="center")
        if path is not None:
            scale = law.n_definition is NDefinition.MODEL_SCALE  # DeepSeek's M, not params
            n_label = "M* (FLOPs/token)" if scale else "N* (params)"
            right.plot(path.flops, path.params, color="crimson", label=n_label)
            right.plot(path.flops, path.tokens, color="navy", ls="--", label="D* (tokens)")
            right.legend(loc="upper left", fontsize=8)
        left.set(xscale="log", xlabel="compute (FLOPs)", ylabel="loss", title=f"{law.ref}: loss")
        right.set(
            xscale="log", yscale="log", xlabel="compute (FLOPs)", title="optimum at each budget"
        )
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png")
        fig.clear()  # breaks the figure's cycles: its artists go now, not at a later GC
    return out.getvalue()


def _plot_key(law: Law, records: Sequence[dict[str, Any]]) -> tuple[str, int, int]:
    return (law.id, law.version, len(records))


class PlotCache:
    """The last ``size`` pictures by (law id, version, number of runs), for any thread:
    the lock guards the cache, not the drawing (``render_png`` takes its own)."""

    def __init__(self, size: int = 32) -> None:
        self.cache: LRUCache[tuple[str, int, int], bytes] = LRUCache(maxsize=size)
        self.get = cached(self.cache, key=_plot_key, lock=threading.Lock())(render_png)

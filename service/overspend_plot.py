"""Overspend across widths and depths at one target loss, as a PNG (Gemstones Fig. 7).

Left: FLOPs a shape needs to reach the loss over the fewest any shape needs; right:
the same in GPU-hours under the throughput model. Shapes that never reach the loss
are left blank; the FLOP- and time-optimal shapes are marked.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.laws import Law
from flopwise.fitting.throughput.model import ThroughputModel
from flopwise.fitting.throughput.overspend import overspend_map
from flopwise.service.errors import FieldError
from flopwise.service.plot import _LOCK

__all__ = ["MAX_CELLS", "PlotQuery", "render_overspend"]

MAX_CELLS = 1 << 16
"""Shapes one picture may draw (widths x depths): 65,536, e.g. 256 widths by 255 depths.
A render's memory grows with them (tens of MB at the most); beyond, a 422."""


@dataclass(frozen=True)
class PlotQuery:
    """What ``GET /v1/overspend/plot.png`` asks for."""

    law: str
    throughput: str
    target_loss: float
    n_gpus: int
    max_width: int
    max_depth: int


def _axes(law: Law, query: PlotQuery) -> tuple[np.ndarray, np.ndarray]:
    step = law.family.width_step
    widths = np.arange(step, max(query.max_width, step) + 1, step)
    depths = np.arange(2, query.max_depth + 1)
    if widths.size * depths.size > MAX_CELLS:
        raise FieldError(
            ("query", "max_width"),
            f"max_width: {widths.size} widths (multiples of {step}) x {depths.size} depths "
            f"is more than {MAX_CELLS} shapes to draw; lower max_width or max_depth",
        )
    return widths, depths


def render_overspend(law: Law, model: ThroughputModel, query: PlotQuery) -> bytes:
    """The two overspend maps of ``law`` under ``model`` (PNG bytes). The figure is
    cleared once saved, so nothing of it outlives the call."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure

    widths, depths = _axes(law, query)
    target_loss, n_gpus = query.target_loss, query.n_gpus
    try:
        flops_x, hours_x = overspend_map(
            law, model, widths, depths, target_loss=target_loss, n_gpus=n_gpus
        )
    except ArgumentError as exc:
        raise FieldError(("query", exc.name), str(exc)) from None
    finite = np.concatenate([flops_x[np.isfinite(flops_x)], hours_x[np.isfinite(hours_x)]])
    if finite.size == 0:
        raise FieldError(("query", "target_loss"), "target_loss: no plotted shape reaches it")
    norm = LogNorm(vmin=1.0, vmax=max(float(np.percentile(finite, 95)), 1.5))
    with _LOCK:
        fig = Figure(figsize=(11, 4.4), dpi=100)
        FigureCanvasAgg(fig)
        axes = fig.subplots(1, 2, sharey=True)
        for ax, values, label in zip(axes, (flops_x, hours_x), ("FLOPs", "GPU-hours"), strict=True):
            shown = np.ma.masked_invalid(values)
            mesh = ax.pcolormesh(
                widths, depths, shown, norm=norm, cmap="magma_r", shading="nearest"
            )
            best = np.unravel_index(
                np.nanargmin(np.where(np.isfinite(values), values, np.nan)), values.shape
            )
            ax.plot(widths[best[1]], depths[best[0]], "c*", ms=12, label=f"fewest {label}")
            ax.set(xlabel="width", title=f"{label} overspend to reach loss {target_loss:g}")
            ax.legend(loc="upper right", fontsize=8)
        axes[0].set_ylabel("depth")
        fig.colorbar(mesh, ax=axes, label="x the optimum")
        fig.suptitle(f"{law.ref}, {model.ref} on {n_gpus} GPUs", fontsize=9)
        out = io.BytesIO()
        fig.savefig(out, format="png")
        fig.clear()  # breaks the figure's cycles: its artists go now, not at a later GC
    return out.getvalue()

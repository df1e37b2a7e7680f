"""Time-optimal allocation latency, and the Gemstones figures of issue 11.

Latency: one time-optimal query (``fitting.time_optimal.allocate_hours``: one argmin
over the timed grid, plus the FLOP-optimal plan for the same hours) against a
baseline timed in the same process: the brute force, which predicts the step time
and the loss of every feasible (width, depth) shape for the hours and takes the
best. Target (issue 11): < 2 ms per query, caches warm. The first query for a new
(law, model, constraints) counts the shapes; a new GPU count or batch then only retimes
them (issue 24); both figures are printed too.

Figures: leave-one-model-out step-time errors on the 22 Gemstones shapes; time-optimal
vs FLOP-optimal shapes at several GPU-hour budgets; overspend of skinny and wide shapes.

Run: ``python bench/bench_time_optimal.py`` (prints figures; not a test).
"""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Callable

import numpy as np

from flopwise.fitting.catalogue import builtin
from flopwise.fitting.counting import ArchFamily
from flopwise.fitting.shape import ShapeConstraints
from flopwise.fitting.throughput.catalogue import builtin_throughput
from flopwise.fitting.throughput.fit import gcd_peak, gemstones_step_times, leave_one_shape_out
from flopwise.fitting.throughput.grid import clear_grids, shape_terms
from flopwise.fitting.throughput.model import step_seconds
from flopwise.fitting.throughput.overspend import overspend
from flopwise.fitting.throughput.time_optimal import allocate_hours

LAW = builtin("gemstones-2025")
MODEL = builtin_throughput("gemstones-mi250x")
N_GPUS = 256


def _median_ms(fn: Callable[[float], object], budgets: np.ndarray) -> float:
    fn(float(budgets[0]))  # warm caches once, as a running service would
    times = []
    for hours in budgets:
        start = time.perf_counter()
        fn(float(hours))
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def brute_force(hours: float) -> tuple[int, int]:
    """Every shape's step time and loss for the hours, from scratch; the best shape."""
    c = ShapeConstraints()
    family = c.family(LAW.family)
    w, d = (g.ravel() for g in np.meshgrid(c.widths(family), np.arange(1, c.max_depth + 1)))
    batch = MODEL.batch_tokens
    step = step_seconds(MODEL, family, w, d, tokens_per_gpu=batch / N_GPUS, n_gpus=N_GPUS)
    tokens = hours * 3600.0 / N_GPUS / step * batch
    loss = shape_terms(LAW, family, w, d) + LAW.constants["B"] * tokens ** -LAW.constants["beta"]
    i = int(np.argmin(loss))
    return int(w[i]), int(d[i])


def latency() -> None:
    rng = np.random.default_rng(0)
    budgets = 10 ** rng.uniform(2, 6, 300)
    for hours in budgets[:20]:
        fast = allocate_hours(LAW, MODEL, float(hours), n_gpus=N_GPUS).time_optimal.shape
        assert (fast.width, fast.depth) == brute_force(float(hours))
    clear_grids()
    start = time.perf_counter()
    allocate_hours(LAW, MODEL, 1e4, n_gpus=N_GPUS + 1)
    cold = (time.perf_counter() - start) * 1e3
    retimed = []
    for extra in range(2, 12):  # new GPU counts: the shapes are counted, only retimed
        start = time.perf_counter()
        allocate_hours(LAW, MODEL, 1e4, n_gpus=N_GPUS + extra)
        retimed.append((time.perf_counter() - start) * 1e3)
    ours = _median_ms(lambda h: allocate_hours(LAW, MODEL, h, n_gpus=N_GPUS), budgets)
    base = _median_ms(brute_force, budgets[:40])
    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}"
    )
    print(f"time-optimal query (both plans), median of {budgets.size}: {ours:.3f} ms")
    print(f"brute force over every shape, median of 40: {base:.1f} ms; ratio {base / ours:.0f}x")
    print(f"cold first query (counts the shapes, times them): {cold:.0f} ms")
    retime = statistics.median(retimed)
    print(f"a new GPU count once the shapes are counted, median of 10: {retime:.1f} ms")
    largest()


def largest() -> None:
    """The largest grid a request may ask for: 8,192 widths x 128 depths."""
    c = ShapeConstraints(head_dim=8, kv_group=1, max_depth=128)
    times = []
    for extra in range(6):  # the first counts the shapes; the others only retime them
        start = time.perf_counter()
        allocate_hours(LAW, MODEL, 1e4, n_gpus=N_GPUS + extra, constraints=c)
        times.append((time.perf_counter() - start) * 1e3)
    print(
        f"1,048,576 shapes: first query {times[0]:.0f} ms, a new GPU count "
        f"{statistics.median(times[1:]):.0f} ms (median of 5)"
    )


def accuracy() -> None:
    widths, depths, errors = leave_one_shape_out(
        gemstones_step_times(), family=ArchFamily(), peak_flops=gcd_peak()
    )
    print("leave-one-model-out step-time error per shape:")
    for w, d, e in zip(widths, depths, errors, strict=True):
        print(f"  {int(w)} x {int(d)}: {e:.1%}")
    print(f"median {np.median(errors):.1%}, max {np.max(errors):.1%}")


def reproduction() -> None:
    c = ShapeConstraints(max_width=8192, max_depth=160)
    print(f"time- vs FLOP-optimal on {N_GPUS} GCDs (gemstones-2025, gemstones-mi250x):")
    for hours in (1e3, 1e4, 1e5):
        a = allocate_hours(LAW, MODEL, hours, n_gpus=N_GPUS, constraints=c)
        t, f = a.time_optimal, a.flop_optimal
        print(
            f"  {hours:.0e} GPU-h: time {t.shape.width}x{t.shape.depth} loss {t.loss:.4f} "
            f"{t.flops:.3g} FLOPs | FLOP {f.shape.width}x{f.shape.depth} loss {f.loss:.4f} "
            f"{f.flops:.3g} FLOPs"
        )
    print("overspend to reach loss 3.2 on 128 GCDs (FLOPs x, GPU-hours x):")
    for w, d in ((256, 80), (256, 64), (512, 32), (1024, 28), (2048, 16), (3072, 12)):
        o = overspend(LAW, MODEL, w, d, n_gpus=128, target_loss=3.2, constraints=c)
        print(f"  {w} x {d}: {o.flops_overspend:.2f}, {o.gpu_hours_overspend:.2f}")


if __name__ == "__main__":
    latency()
    accuracy()
    reproduction()

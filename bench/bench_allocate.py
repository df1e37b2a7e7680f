"""Allocation latency: one budget with shape search, and a frontier of 1,000 budgets.

Targets (issue 2): one allocation under 1 ms median, a 1,000-budget frontier under
50 ms. The baseline, timed in the same process, is the straightforward way one budget
at a time: for a Chinchilla-form law the closed-form N* (Hoffmann et al. Eq. 4, what
kyo-takano/chinchilla computes) then an exhaustive scan of every feasible (width,
depth) shape for the nearest count; for the width-depth law the Gemstones authors'
brute force (the predicted loss of every shape at the budget). The frontier baseline
is that loop over the same 1,000 budgets, timed (not extrapolated).

Run: ``python bench/bench_allocate.py`` (prints figures; not a test).
"""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Callable

import numpy as np

from flopwise.fitting.allocation import allocate, frontier
from flopwise.fitting.catalogue import builtin
from flopwise.fitting.forms import chinchilla_optimal, draw_constants, law_form
from flopwise.fitting.laws import Law, NDefinition
from flopwise.fitting.prediction import predict_loss
from flopwise.fitting.shape import (
    ShapeConstraints,
    law_flops_per_token,
    law_params,
    shapes_for_params,
)


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm caches (shape tables, hulls) once, as a running service would
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def _grid(law: Law) -> tuple[np.ndarray, np.ndarray]:
    c = ShapeConstraints()
    w, d = np.meshgrid(c.widths(law.family), np.arange(c.min_depth, c.max_depth + 1))
    return w.ravel(), d.ravel()


def baseline_allocate(
    law: Law, flops: float, grid: tuple[np.ndarray, np.ndarray]
) -> tuple[int, int]:
    """Closed-form N* (Eq. 4), then scan every shape for the nearest count."""
    k = law.constants
    n_star = float(
        chinchilla_optimal(flops, A=k["A"], B=k["B"], alpha=k["alpha"], beta=k["beta"])[0]
    )
    w, d = grid
    p = law_params(NDefinition.TOTAL, law.family, w, d)
    cost = np.abs(np.log(p / n_star)) + 0.05 * np.abs(np.log(w / d / 128.0))
    i = int(np.argmin(cost))
    return int(w[i]), int(d[i])


def baseline_width_depth(
    law: Law, flops: float, grid: tuple[np.ndarray, np.ndarray]
) -> tuple[int, int]:
    """The authors' brute force: predicted loss of every shape at the budget, take the minimum."""
    w, d = grid
    f = law_flops_per_token(law, law.family, w, d)
    losses = predict_loss(law, width=w, depth=d, tokens=flops / f)
    i = int(np.argmin(losses))
    return int(w[i]), int(d[i])


def breakdown(law: Law, budgets: np.ndarray) -> dict[str, float]:
    """Median microseconds of one ``allocate`` and of its two largest parts, each timed
    on its own over the same budgets: the exact shape search for N* and the bootstrap
    bands (loss, N*, D* from every draw) at the answer."""
    constraints = ShapeConstraints()
    family = constraints.family(law.family)
    answers = [allocate(law, float(c)) for c in budgets]
    draws = draw_constants(law)
    assert draws is not None, f"{law.id} carries no draws"
    form = law_form(law)
    it = iter(range(10**7))

    def nth() -> int:
        return next(it) % len(budgets)

    def whole() -> object:
        return allocate(law, float(budgets[nth()]))

    def shape() -> object:
        a = answers[nth()]
        return shapes_for_params(law.n_definition, family, np.array([a.params]), constraints)

    def bands() -> object:
        i = nth()
        a = answers[i]
        return form.draw_bands(
            law, draws, flops=float(budgets[i]), n=a.params, d=a.tokens, shape=a.shape,
            unique_tokens=None, level=0.9,
        )  # fmt: skip

    return {name: 1e3 * _median_ms(fn, 3000) for name, fn in
            (("allocate", whole), ("shape search", shape), ("bootstrap bands", bands))}  # fmt: skip


def table_builds(law: Law) -> dict[str, float]:
    """Milliseconds to build the aspect-policy shape table once (what the first answer
    under new constraints pays): the default grid, and the largest the bounds allow."""
    cases = {
        "default grid": ShapeConstraints(aspect_ratio=127.0),  # a key no answer has used
        "largest grid": ShapeConstraints(max_width=1 << 18, max_depth=2048, head_dim=512),
    }
    out = {}
    for name, constraints in cases.items():
        family = constraints.family(law.family)
        n = constraints.widths(family).size * (constraints.max_depth - constraints.min_depth + 1)
        start = time.perf_counter()
        shapes_for_params(law.n_definition, family, np.array([1e9]), constraints)
        out[f"{name} ({n:,} shapes)"] = (time.perf_counter() - start) * 1e3
    return out


def main() -> None:
    rng = np.random.default_rng(0)
    budgets = 10.0 ** rng.uniform(19, 25, size=64)
    frontier_budgets = np.logspace(18, 26, 1000)
    print(
        f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}"
    )
    print(
        f"{'law':<16} {'allocate ms':>12} {'baseline ms':>12} {'ratio':>7} {'frontier(1000) ms':>18} "
        f"{'baseline ms':>17} {'ratio':>7}"
    )
    for law_id, baseline in (
        ("epoch-2024", baseline_allocate),
        ("gemstones-2025", baseline_width_depth),
    ):
        law = builtin(law_id)
        grid = _grid(law)
        it = iter(np.tile(budgets, 1000))
        one = _median_ms(lambda law=law, it=it: allocate(law, float(next(it))), 2000)
        it2 = iter(np.tile(budgets, 100))
        base = _median_ms(
            lambda law=law, it2=it2, grid=grid, baseline=baseline: baseline(
                law, float(next(it2)), grid
            ),
            60,
        )
        for c in budgets[:8]:  # the fast path must agree with the brute force
            fast = allocate(law, float(c)).shape
            assert fast is not None and (fast.width, fast.depth) == baseline(law, float(c), grid), (
                law_id,
                c,
            )
        path = _median_ms(lambda law=law: frontier(law, frontier_budgets), 30)
        loop = _median_ms(
            lambda law=law, grid=grid, baseline=baseline: [
                baseline(law, float(c), grid) for c in frontier_budgets
            ],
            3,
        )
        print(
            f"{law_id:<16} {one:>12.3f} {base:>12.3f} {base / one:>7.1f} {path:>18.2f} "
            f"{loop:>17.0f} {loop / path:>7.0f}"
        )
    print("targets: allocate < 1 ms median; frontier of 1,000 budgets < 50 ms")
    parts = breakdown(builtin("epoch-2024"), budgets)
    print(
        "epoch-2024, one allocate and its parts (median us): "
        + ", ".join(f"{name} {us:.0f}" for name, us in parts.items())
    )
    builds = table_builds(builtin("epoch-2024"))
    print(
        "shape table built once per constraints (ms): "
        + ", ".join(f"{name} {ms:.0f}" for name, ms in builds.items())
    )


if __name__ == "__main__":
    main()

"""The law plot puts runs at compute as the law counts it, the same axis as its curve;
the last pictures are cached for every thread."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from flopwise.fitting import builtin
from flopwise.fitting.fit.common import gemstones_flops
from flopwise.fitting.laws import Law
from flopwise.service.plot import PlotCache, _compute, render_png


def test_runs_sit_at_the_laws_own_compute() -> None:
    records = [
        {"params": 1.2e8, "tokens": 1e10, "loss": 3.1, "width": 768, "depth": 12},
        {"params": 4.0e8, "tokens": 2e10, "loss": 2.8, "width": 1024, "depth": 24},
    ]
    gemstones = builtin("gemstones-2025")
    want = gemstones_flops(
        np.array([768, 1024]), np.array([12, 24]), np.array([1e10, 2e10]), gemstones.family
    )
    assert _compute(gemstones, records) == pytest.approx(want, rel=1e-12)
    assert not np.allclose(want, [6 * 1.2e8 * 1e10, 6 * 4.0e8 * 2e10], rtol=1e-3)
    epoch = builtin("epoch-2024")
    assert _compute(epoch, records) == pytest.approx([6 * 1.2e8 * 1e10, 6 * 4.0e8 * 2e10])
    assert render_png(gemstones, records)[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_plot_cache_keeps_the_latest_pictures_for_any_thread() -> None:
    cache = PlotCache(size=2)
    epoch, kaplan, gemstones = (builtin(i) for i in ("epoch-2024", "kaplan-2020", "gemstones-2025"))
    first = cache.get(epoch, [])
    assert cache.get(epoch, []) is first  # kept, not drawn again
    cache.get(kaplan, [])
    cache.get(epoch, [])  # epoch is now the most recently used
    cache.get(gemstones, [])
    assert set(cache.cache) == {("epoch-2024", 1, 0), ("gemstones-2025", 1, 0)}
    start = threading.Barrier(8)
    pictures: list[bytes] = []

    def ask(law: Law) -> None:
        start.wait(timeout=60)
        for _ in range(200):
            pictures.append(cache.get(law, []))

    threads = [threading.Thread(target=ask, args=(law,)) for law in [epoch, gemstones] * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(pictures) == 1600 and len(set(pictures)) == 2 and first in pictures
    assert len(cache.cache) == 2

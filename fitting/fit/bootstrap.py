"""Bootstrap uncertainty: resample whole runs, refit, keep every draw.

Observations of one run (checkpoints of one training curve) are not independent,
so a draw resamples run ids with replacement and weights each observation by how
often its run was drawn (Besiroglu et al. 2024 resample points; here a point of
the Epoch data is its own run, so the two agree). Draws are split into chunks
solved in parallel (``concurrent.futures`` processes), each chunk a single batched
solve. Progress is reported through a callback ``progress(done, total)`` after each
chunk; ``fitting`` imports only numpy and scipy, so the tqdm bar lives with the
caller (``flopwise fit --progress`` draws one from this callback).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from typing import Any

import numpy as np

__all__ = ["Progress", "map_chunks", "resample_counts"]

Progress = Callable[[int, int], None]
"""``progress(done, total)``: called in the calling process after each finished chunk."""


def resample_counts(run_ids: np.ndarray, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_draws, n_obs)`` weights: each draw picks runs with replacement, and an
    observation counts as many times as its run was picked."""
    runs, inverse = np.unique(np.asarray(run_ids).astype(str), return_inverse=True)
    picks = rng.integers(0, len(runs), size=(n_draws, len(runs)))
    counts = np.zeros((n_draws, len(runs)))
    np.add.at(counts, (np.arange(n_draws)[:, None], picks), 1.0)
    return counts[:, inverse]


def _workers(requested: int) -> int:
    return requested if requested > 0 else max(1, os.cpu_count() or 1)


def map_chunks(
    task: Callable[..., Any],
    chunks: Sequence[tuple[Any, ...]],
    *,
    workers: int = 0,
    progress: Progress | None = None,
) -> list[Any]:
    """Run ``task(*chunk)`` for every chunk, in worker processes when there is more
    than one worker and chunk; results come back in chunk order."""
    n = _workers(workers)
    results: list[Any] = [None] * len(chunks)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, len(chunks))

    if n == 1 or len(chunks) == 1:
        for i, chunk in enumerate(chunks):
            results[i] = task(*chunk)
            tick()
        return results
    pool: Executor
    with ProcessPoolExecutor(max_workers=min(n, len(chunks))) as pool:
        futures = {pool.submit(task, *chunk): i for i, chunk in enumerate(chunks)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            tick()
    return results

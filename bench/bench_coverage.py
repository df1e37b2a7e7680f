"""Calibration of predictive intervals on the bundled suites, and batch prediction.

    python bench/bench_coverage.py          # about 2 minutes on 2 cores

For every case of ``fitting.coverage.CASES`` (and the harsher half/half split): fit
the smaller model sizes, predict the larger, and print one Markdown row per level
(dataset, form, split, level, coverage, median half-width, median error) for
``bench/RESULTS.md``. Then times ``flopwise predict`` once per point against one
``flopwise predict --runs FILE`` over the same points, in the same run.
"""

from __future__ import annotations

import csv
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flopwise.fitting.coverage import CASES, Case, coverage, run_case, size_split
from flopwise.fitting.datasets import load_dataset
from flopwise.fitting.fit import fit
from flopwise.fitting.laws import Law
from flopwise.fitting.prediction import predict
from flopwise.fitting.runs import Runs

LEVELS = (0.8, 0.9, 0.95)
SINGLE_CALLS = 8


def coverage_rows(cases: tuple[Case, ...]) -> None:
    print("| dataset | form | fitted / predicted | level | coverage | median half-width |")
    print("|---|---|---|---|---|---|")
    notes = []
    for case in cases:
        start = time.perf_counter()
        first, law = run_case(case, LEVELS[0])
        _, test = size_split(load_dataset(case.dataset).runs, case.train_share)
        split = f"smallest {case.train_share:.0%} of sizes / rest ({first.n_points} points)"
        for level in LEVELS:
            result = first if level == LEVELS[0] else coverage(law, test, level)
            print(
                f"| {case.dataset} | {case.form} | {split} | {level} | "
                f"{result.fraction:.1%} | {result.median_half_width:.2%} |"
            )
        print(f"<!-- {case.dataset} {case.train_share}: {time.perf_counter() - start:.1f} s -->")
        notes.append(f"{case.dataset} {case.train_share:.0%}: {low_ratio_errors(law, test)}")
    print("\n" + "\n".join(notes))


LOW_RATIO = 3.0
"""Tokens per parameter below which held-out points are summarised apart."""


def low_ratio_errors(law: Law, test: Runs) -> str:
    """How far the measured losses of held-out points under :data:`LOW_RATIO` tokens per
    parameter sit from the law's prediction (measured / predicted - 1)."""
    low = np.flatnonzero(test.tokens / test.params < LOW_RATIO)
    if low.size == 0:
        return f"no held-out point under {LOW_RATIO:g} tokens per parameter"
    width = [None if test.width is None else int(test.width[i]) for i in low]
    depth = [None if test.depth is None else int(test.depth[i]) for i in low]
    ratio = [
        float(test.loss[i]) / predict(law, params=float(test.params[i]),
                                      tokens=float(test.tokens[i]), width=w, depth=d).loss - 1
        for i, w, d in zip(low, width, depth, strict=True)
    ]  # fmt: skip
    return (
        f"{low.size} held-out points under {LOW_RATIO:g} tokens per parameter, measured / "
        f"predicted - 1 from {min(ratio):+.0%} to {max(ratio):+.0%}"
    )


def batch_timing() -> None:
    runs = load_dataset("epoch-chinchilla").runs
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "points.csv"
        with open(path, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["params", "tokens", "loss"])
            writer.writerows(zip(runs.params, runs.tokens, runs.loss, strict=True))
        cli = [sys.executable, "-m", "flopwise.service", "predict", "--json"]
        start = time.perf_counter()
        for n, d in zip(runs.params[:SINGLE_CALLS], runs.tokens[:SINGLE_CALLS], strict=True):
            subprocess.run(
                [*cli, "--params", str(n), "--tokens", str(d)], check=True, capture_output=True
            )
        single = (time.perf_counter() - start) / SINGLE_CALLS
        start = time.perf_counter()
        subprocess.run([*cli, "--runs", str(path)], check=True, capture_output=True)
        batch = time.perf_counter() - start
    n = len(runs)
    print(
        f"\nbatch predict: {n} points in one process {batch:.2f} s; one process per point "
        f"{single:.2f} s each ({SINGLE_CALLS} timed), {n} points ~{single * n:.0f} s: "
        f"{single * n / batch:.0f}x"
    )


def spread_cost() -> None:
    """What the leave-largest-out refits add to a fit: the same fit with the refits
    (``extrapolation=True``, the default) and without, interleaved three times."""
    for name, form, delta in (
        ("epoch-chinchilla", "chinchilla", 1e-3),
        ("gemstones-hot", "width-depth", 1e-4),
    ):
        runs = load_dataset(name).runs
        times = {True: [], False: []}
        for _ in range(3):
            for refits in (False, True):
                start = time.perf_counter()
                fit(runs, form=form, delta=delta, workers=1, extrapolation=refits)
                times[refits].append(time.perf_counter() - start)
        without, with_ = min(times[False]), min(times[True])
        print(
            f"{name} ({form}): fit {without:.2f} s without refits, {with_:.2f} s with "
            f"(x{with_ / without:.2f}; best of 3 each)"
        )


def main() -> None:
    print(
        f"machine: {os.cpu_count()} CPU(s), {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}\n"
    )
    halves = tuple(replace(c, train_share=0.5) for c in CASES)
    coverage_rows(CASES + halves)
    batch_timing()
    print()
    spread_cost()


if __name__ == "__main__":
    main()

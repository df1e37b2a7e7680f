"""Downstream chains on the bundled OLMo ladder (Bhagia et al. 2024, docs/laws.md §20).

    python bench/bench_downstream.py          # about 3 minutes on 2 cores

1. Step 1 as the authors fit it (190M-1B, 1-10xC, each run's last 5 checkpoints): the
   mean absolute relative error of the task-loss law on its own runs, against the
   authors' published fitting errors (``src/scripts/paper/figures/step1_main.csv``).
2. The chain fitted on every run below 3B (both steps, 100 bootstrap draws over runs),
   predicting the final accuracy of each 3B run (0.5xC to 10xC): error in accuracy points
   and how many of the 90% intervals hold the measured value.

Prints Markdown for ``bench/RESULTS.md`` with the machine and the date. Figures, not
timings.
"""

from __future__ import annotations

import datetime
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flopwise.fitting.datasets import load_dataset
from flopwise.fitting.downstream_coverage import held_out
from flopwise.fitting.fit import fit
from flopwise.fitting.fit.downstream import final_rows
from flopwise.fitting.ladder_runs import LADDER_CHANCE, LADDER_TASKS
from flopwise.fitting.prediction import predict_loss
from flopwise.fitting.runs import Runs

PAPER_FIT_ERROR = {
    "mmlu": 0.00459955846280895,
    "hellaswag": 0.002564809550553303,
    "arc_challenge": 0.004845000187424237,
    "arc_easy": 0.011775123423672772,
    "piqa": 0.003104357884309965,
    "csqa": 0.010454759586642956,
    "socialiqa": 0.005396831679934047,
    "openbookqa": 0.00594152057987821,
}
"""The authors' step-1 fitting errors (allenai/OLMo-ladder @ 4d993445,
``src/scripts/paper/figures/step1_main.csv``, column ``Fit Error``)."""
LEVEL = 0.9
BOOTSTRAP = 100


def paper_runs(runs: Runs) -> Runs:
    """The runs the paper fits: 190M to 1B, 1xC to 10xC (``configs/final.json``)."""
    keep = [
        not str(r).startswith("3B") and str(r).split("-", 1)[1] in ("1xC", "2xC", "5xC", "10xC")
        for r in runs.run
    ]
    return runs.subset(np.array(keep))


def step1_table(runs: Runs) -> None:
    print("| task | runs | fitting error (flopwise) | fitting error (paper) | ratio |")
    print("|---|---|---|---|---|")
    sub = paper_runs(runs)
    for task, paper in PAPER_FIT_ERROR.items():
        last = final_rows(sub, sub.metric(f"{task}_bpb"))
        law = fit(last, form="chinchilla", law_id=task, extrapolation=False).law
        assert law is not None
        predicted = predict_loss(law, params=last.params, tokens=last.tokens)
        ours = float(np.mean(np.abs(predicted / last.loss - 1.0)))
        print(f"| {task} | {len(last)} | {ours:.5f} | {paper:.5f} | {ours / paper:.3f} |")


def holdout_table(runs: Runs) -> None:
    test = runs.params > 3e9
    print(
        "| task | 3B runs | mean abs error | max abs error | mean error | 90% coverage "
        "| mean interval width | chance level |"
    )
    print("|---|---|---|---|---|---|---|---|")
    inside = total = 0
    errors: list[float] = []
    for task in LADDER_TASKS:
        start = time.perf_counter()
        chance = LADDER_CHANCE.get(task, 0.25)
        report, rows = held_out(runs, test, metric=f"{task}_acc", via=f"{task}_bpb",
                                bootstrap=BOOTSTRAP, level=LEVEL, floor=chance)  # fmt: skip
        if not rows:
            print(f"| {task} | chain failed: {report.message} | | | | | | |")
            continue
        err = np.array([r.predicted - r.actual for r in rows])
        width = np.mean([r.interval[1] - r.interval[0] for r in rows if r.interval])
        hits = sum(r.inside for r in rows)
        inside, total = inside + hits, total + len(rows)
        errors += list(np.abs(err))
        print(
            f"| {task} | {len(rows)} | {100 * np.mean(np.abs(err)):.1f} | "
            f"{100 * np.max(np.abs(err)):.1f} | {100 * np.mean(err):+.1f} | {hits}/{len(rows)} | "
            f"{100 * width:.1f} | {chance:.2f} |"
        )
        print(f"<!-- {task}: {time.perf_counter() - start:.1f} s -->")
    print(
        f"\nall tasks: {inside}/{total} measured 3B accuracies inside their {LEVEL:.0%} "
        f"intervals ({inside / total:.0%}); mean absolute error {100 * np.mean(errors):.1f} "
        f"points, median {100 * np.median(errors):.1f}, worst {100 * np.max(errors):.1f}"
    )


def main() -> None:
    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    print(f"## Downstream accuracy on the OLMo ladder (bench/bench_downstream.py, {now})\n")
    print(
        f"machine: {os.cpu_count()} CPU(s), {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, numpy {np.__version__}, {platform.platform()}\n"
    )
    runs = load_dataset("olmo-ladder").runs
    print("Step 1 (task bits per byte from N and D) against the authors' fitting errors:\n")
    step1_table(runs)
    print(
        "\nThe chain fitted on the 24 runs below 3B, predicting each 3B run's final accuracy "
        "(errors in accuracy points; the interval is where a new run's accuracy will fall):\n"
    )
    holdout_table(runs)


if __name__ == "__main__":
    main()

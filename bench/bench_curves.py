"""Loss-curve laws on the OLMo ladder (issue 23, docs/laws.md §21.7): predict the final C4
loss of the five 3B runs from the 190M-1B runs plus the first half of each 3B run.

Each curve form (``multi-power``, ``tissue``) is fitted on every checkpoint of the 190M,
370M, 760M and 1B runs and on the 3B checkpoints up to half of each run's tokens
(checkpoints before 2 N tokens left out in both), then asked, through
``fitting.forecast``, for each 3B run's loss at its end under its cosine schedule, with the
first half as the run's logged checkpoints. The naive baseline scales each 3B run's loss at
its last checkpoint at or before half its tokens by the same-length 1B run's ratio of final
to half-point loss. The same test one rung down (1B from 190M-760M plus the 1B halves) is
printed too. Prints a markdown section for bench/RESULTS.md with the machine and the date.

Run: ``python bench/bench_curves.py``.
"""

from __future__ import annotations

import datetime
import os
import platform
import time
from dataclasses import dataclass

import numpy as np

from flopwise.fitting.datasets import load_dataset
from flopwise.fitting.fit import fit
from flopwise.fitting.forecast import forecast
from flopwise.fitting.runs import Runs

FORMS = ("multi-power", "tissue")
LENGTHS = ("0.5", "1", "2", "5", "10")
EARLY = 2.0
"""Checkpoints before this many tokens per parameter are left out of every fit."""


@dataclass(frozen=True)
class Split:
    """Which checkpoints a fit sees, which runs it predicts, and the baseline's rung."""

    target: str
    reference: str
    train: np.ndarray


def _size(runs: Runs) -> np.ndarray:
    return np.array([str(r).split("-")[0] for r in runs.run])


def _rows(runs: Runs, name: str) -> np.ndarray:
    return np.flatnonzero(runs.run == name)


def _half_point(runs: Runs, name: str) -> int:
    rows = _rows(runs, name)
    half = runs.tokens[rows] <= runs.tokens[rows].max() / 2
    return int(rows[half][np.argmax(runs.tokens[rows][half])])


def split(runs: Runs, target: str, below: tuple[str, ...], reference: str) -> Split:
    size = _size(runs)
    early = runs.tokens < EARLY * runs.params
    train = np.isin(size, below)
    for k in LENGTHS:
        rows = _rows(runs, f"{target}-{k}xC")
        train[rows] = runs.tokens[rows] <= runs.tokens[rows].max() / 2
    return Split(target, reference, train & ~early)


def baseline(runs: Runs, s: Split) -> list[float]:
    """Relative errors of the ratio baseline, one per length."""
    errors = []
    for k in LENGTHS:
        name, ref = f"{s.target}-{k}xC", f"{s.reference}-{k}xC"
        ratio = runs.loss[_rows(runs, ref)][-1] / runs.loss[_half_point(runs, ref)]
        predicted = runs.loss[_half_point(runs, name)] * ratio
        errors.append(predicted / runs.loss[_rows(runs, name)][-1] - 1.0)
    return errors


def law_errors(runs: Runs, s: Split, form: str) -> tuple[list[dict[str, float]], float, str]:
    """Per length: the law's and the offset-adjusted relative errors, the interval, and
    whether the first half tracked the law; the fit's seconds and message."""
    start = time.perf_counter()
    report = fit(runs.subset(s.train), form=form, method="approach3", law_id=f"ladder-{form}",
                 extrapolation=False)  # fmt: skip
    seconds = time.perf_counter() - start
    if report.law is None:
        return [], seconds, report.message
    rows = []
    for k in LENGTHS:
        run = _rows(runs, f"{s.target}-{k}xC")
        seen = run[s.train[run]]
        last = run[np.argmax(runs.tokens[run])]
        answer = forecast(
            report.law, params=float(runs.params[last]), schedule=runs.schedule[last],
            tokens=runs.tokens[seen], loss=runs.loss[seen], total_tokens=runs.tokens[last],
        )  # fmt: skip
        actual = float(runs.loss[last])
        band = answer.loss_interval or (float("nan"), float("nan"))
        rows.append({
            "law": answer.loss / actual - 1.0,
            "adjusted": (answer.adjusted_loss or float("nan")) / actual - 1.0,
            "inside": float(band[0] <= actual <= band[1]),
            "half_width": (band[1] - band[0]) / 2 / answer.loss,
            "tracking": float(bool(answer.tracking)),
        })  # fmt: skip
    return rows, seconds, report.message


def _pct(values: list[float]) -> str:
    a = np.abs(np.asarray(values))
    return f"{100 * a.mean():.3f}% / {100 * a.max():.3f}%"


def section(runs: Runs, s: Split, title: str) -> list[str]:
    base = baseline(runs, s)
    lines = [
        f"### {title}",
        "",
        f"{int(s.train.sum()):,} checkpoints fitted; errors of the final loss of the five "
        f"{s.target} runs (0.5x, 1x, 2x, 5x, 10x), mean / max |error|:",
        "",
        "| predictor | mean / max abs error | per run (signed, %) | fit |",
        "|---|---|---|---|",
        f"| naive ratio ({s.reference} final / half-point) | {_pct(base)} | "
        f"{', '.join(f'{100 * e:+.3f}' for e in base)} | |",
    ]
    for form in FORMS:
        rows, seconds, message = law_errors(runs, s, form)
        if not rows:
            lines.append(f"| {form} | fit failed: {message} | | {seconds:.0f} s |")
            continue
        law = [r["law"] for r in rows]
        adjusted = [r["adjusted"] for r in rows]
        inside = sum(r["inside"] for r in rows)
        width = np.mean([r["half_width"] for r in rows])
        tracking = sum(r["tracking"] for r in rows)
        lines += [
            f"| {form} law | {_pct(law)} | {', '.join(f'{100 * e:+.3f}' for e in law)} | "
            f"{seconds:.0f} s; {inside:.0f}/5 inside the 90% interval (+/-{100 * width:.2f}%); "
            f"{tracking:.0f}/5 halves tracking |",
            f"| {form} + the run's offset | {_pct(adjusted)} | "
            f"{', '.join(f'{100 * e:+.3f}' for e in adjusted)} | |",
        ]
    return [*lines, ""]


def main() -> None:
    runs = load_dataset("olmo-ladder").runs
    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    lines = [
        f"## Loss curves: forecasting the OLMo 3B runs (bench/bench_curves.py, {now})",
        "",
        f"machine: {os.cpu_count()} CPU(s), {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, numpy {np.__version__}, {platform.platform()}",
        "",
        "data: allenai/OLMo-ladder @ 67a3f440 (Apache-2.0), bundled as "
        "fitting/datasets/olmo_ladder_runs.csv (`olmo-ladder`); C4 validation loss; cosine "
        "schedules rebuilt from the ladder's rule (docs/laws.md §21.3). Checkpoints before "
        f"{EARLY:g} N tokens left out. Summed Huber (delta 1e-3) on log loss, no bootstrap.",
        "",
    ]
    lines += section(
        runs,
        split(runs, "3B", ("190M", "370M", "760M", "1B"), "1B"),
        "Held out: 3B, fitted on 190M-1B and the 3B first halves",
    )
    lines += section(
        runs,
        split(runs, "1B", ("190M", "370M", "760M"), "760M"),
        "One rung down: 1B, fitted on 190M-760M and the 1B first halves",
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()

"""Critical-batch fits on Zhang et al. 2024's steps-to-target table (issue 21).

Per model size: S_min and B_noise of McCandlish et al. 2018's S = S_min (1 + B_noise / B),
least squares on log steps with 90% bands from 2,000 residual-bootstrap refits; then
B_noise (tokens) as a power law in data size (E_min = S_min B_noise tokens) and in model
size across the five sizes, bands from the per-size draws. Prints a markdown section for
bench/RESULTS.md with the machine and the date. Figures, not timings.

Run: ``python bench/bench_critical_batch.py``.
"""

from __future__ import annotations

import datetime
import os
import platform

import numpy as np

from flopwise.fitting.fit.critical_batch import (
    ZHANG_SOURCE,
    CriticalBatchFit,
    PowerLawFit,
    fit_zhang,
)

BOOTSTRAP = 2000


def _band(pair: tuple[float, float] | None, fmt: str = "{:.4g}") -> str:
    return "" if pair is None else f" [{fmt.format(pair[0])}, {fmt.format(pair[1])}]"


def _law_line(law: PowerLawFit, x: str) -> str:
    return (
        f"- B_noise = **{law.k:.4g}** x {x}^**{law.a:.4f}** tokens: k{_band(law.k_interval)}, "
        f"a{_band(law.a_interval, '{:.4f}')}, R^2 {law.r2:.4f}, {law.groups} sizes, "
        f"{x} from {law.domain[0]:.3g} to {law.domain[1]:.3g}"
    )


def report(result: CriticalBatchFit) -> str:
    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    lines = [
        f"## Critical batch size (bench/bench_critical_batch.py, {now})",
        "",
        f"machine: {os.cpu_count()} CPU(s), {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, numpy {np.__version__}, {platform.platform()}",
        "",
        f"data: {ZHANG_SOURCE}; bundled as fitting/datasets/zhang2024_steps_to_target.csv.",
        f"Fit: ln S = ln S_min + ln(1 + B_noise/B) per size (Levenberg-Marquardt), "
        f"{int(result.level * 100)}% bands from {BOOTSTRAP:,} residual-bootstrap refits "
        "(log residuals resampled).",
        "",
        "| model | S_min (steps) | B_noise (sequences of 512) | B_noise (tokens) | "
        "E_min (tokens) | E_min / N | rms log S |",
        "|---|---|---|---|---|---|---|",
    ]
    for g in result.groups:
        ratio = "" if g.params is None else f"{g.e_min_tokens / g.params:.1f}"
        lines.append(
            f"| {g.group} | {g.s_min:.0f}{_band(g.s_min_interval, '{:.0f}')} | "
            f"{g.b_noise:.0f}{_band(g.b_noise_interval, '{:.0f}')} | {g.b_noise_tokens:.3g} | "
            f"{g.e_min_tokens:.3g} | {ratio} | {g.rms_log_steps:.3f} |"
        )
    lines.append("")
    lines.append("Across sizes (least squares in log-log; bands refit draw by draw):")
    lines.append("")
    if result.data_law is not None:
        lines.append(_law_line(result.data_law, "E_min"))
    if result.params_law is not None:
        lines.append(_law_line(result.params_law, "N"))
    lines.extend(f"- note: {w}" for w in result.warnings)
    return "\n".join(lines)


def main() -> None:
    result = fit_zhang(bootstrap=BOOTSTRAP, seed=0)
    print(report(result))


if __name__ == "__main__":
    main()

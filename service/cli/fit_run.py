"""What ``flopwise fit`` does once its options are read: load the runs, run the fit
engine, print, plot and save the result. Kept apart from the command's options
(``fit_cmd``) so ``flopwise fit --help`` does not load the engine and scipy."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import click
import numpy as np
from tqdm import tqdm

from flopwise.fitting.allocation import frontier
from flopwise.fitting.datasets import load_dataset, read_column, read_runs
from flopwise.fitting.fit import FitReport, fit
from flopwise.fitting.fit.common import run_flops
from flopwise.fitting.forms import law_form
from flopwise.fitting.laws import to_dict
from flopwise.fitting.runs import Runs
from flopwise.service.cli.app import fail

__all__ = ["default_law_id", "report_dict", "run_fit"]


def _load(opts: dict[str, Any]) -> tuple[Runs, dict[str, Any]]:
    """Runs (from ``--min-tokens-per-param`` on) and the fit options their source implies."""
    runs, implied = _source(opts)
    least = opts.get("min_tokens_per_param") or 0.0
    if least > 0:
        keep = runs.tokens >= least * runs.params
        if not keep.any():
            raise fail(f"--min-tokens-per-param: no checkpoint has {least:g} tokens per parameter")
        runs = runs.subset(keep)
        if "unique_tokens" in implied:
            implied["unique_tokens"] = implied["unique_tokens"][keep]
    return runs, implied


def _source(opts: dict[str, Any]) -> tuple[Runs, dict[str, Any]]:
    """Runs and the fit options their source implies (N/C definitions, family)."""
    if (opts["file"] is None) == (opts["dataset"] is None):
        raise fail("give exactly one of FILE or --dataset")
    if opts["dataset"] is not None:
        ds = load_dataset(opts["dataset"])
        implied: dict[str, Any] = {
            "n_definition": ds.n_definition,
            "c_definition": ds.c_definition,
            "dataset": ds.corpus,
            "tokenizer": ds.tokenizer,
        }
        if ds.family is not None:
            implied["family"] = ds.family
        return ds.runs, implied
    runs = read_runs(
        opts["file"],
        params=opts["params_col"],
        tokens=opts["tokens_col"] or None,
        loss=opts["loss_col"],
        run=opts["run_col"],
        width=opts["width_col"],
        depth=opts["depth_col"],
        flops=opts["flops_col"],
        lr=opts.get("lr_col"),
    )
    implied = {}
    if opts["unique_tokens_col"]:
        implied["unique_tokens"] = read_column(opts["file"], opts["unique_tokens_col"])
    return runs, implied


class _Bar:
    """A tqdm bar fed by the engine's ``progress(done, total)`` callback."""

    def __init__(self) -> None:
        self.bar: tqdm[Any] | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = tqdm(total=total, desc="bootstrap", unit="chunk", file=sys.stderr)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _form(opts: dict[str, Any]) -> str:
    method = opts["method"]
    return str(
        opts["form"] or ("power-law" if method in ("approach1", "approach2") else "chinchilla")
    )


def default_law_id(opts: dict[str, Any]) -> str:
    """``<data>-<form>`` (Approach 3) or ``<data>-<method>``, as the service names a
    refit of a dataset; the data is the file's stem or the built-in dataset's name."""
    data = opts["dataset"] or Path(opts["file"]).stem
    kind = _form(opts) if opts["method"] == "approach3" else opts["method"]
    return f"{data}-{kind}"


def _fit(opts: dict[str, Any]) -> tuple[FitReport, Runs]:
    runs, options = _load(opts)
    method = opts["method"]
    form = _form(opts)
    if "unique_tokens" in options and not law_form(form).repeated_data:
        raise fail(f"--unique-tokens-col: the {form} form does not read unique tokens")
    if law_form(form).reads_schedule and runs.lr is None and runs.schedule is None:
        raise fail(
            f"--lr-col: the {form} form reads the learning rate at each checkpoint: name its "
            "column (or give each JSONL row its run's schedule)"
        )
    unique = options.get("unique_tokens")
    if unique is not None and (unique > runs.tokens * (1 + 1e-12)).any():
        raise fail("--unique-tokens-col: a run has more unique tokens than tokens")
    for key in ("n_definition", "c_definition", "search", "profile", "envelope", "grouping"):
        if opts[key] is not None:
            options[key] = opts[key]
    for key in ("tie", "fix"):
        if opts[key]:
            options[key] = list(opts[key])
    if opts["objective"] is not None:
        options["objective"] = opts["objective"]
    bar = _Bar() if opts["progress"] else None
    options.update(
        workers=opts["workers"],
        progress=bar,
        extrapolation=not opts["no_extrapolation"],
        level=opts["level"],
    )
    try:
        report = fit(
            runs,
            form=form,
            method=method,
            law_id=opts["law_id"] or default_law_id(opts),
            delta=opts["delta"],
            bootstrap=opts["bootstrap"],
            seed=opts["seed"],
            **options,
        )
    finally:
        if bar is not None:
            bar.close()
    return report, runs


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def report_dict(report: FitReport) -> dict[str, Any]:
    """Constants under their usual names, then objective, success and the rest."""
    out: dict[str, Any] = dict(report.law.constants) if report.law is not None else {}
    d = report.diagnostics
    law = report.law
    out.update(
        law=None if law is None else {"id": law.id, "version": law.version},
        objective=report.objective,
        success=report.success,
        message=report.message,
        method=report.method,
        form=report.form,
        n_runs=report.n_runs,
        warnings=list(report.warnings),
    )
    if "bootstrap" in d:
        out["intervals"] = d["bootstrap"]["intervals"]
    for key in (
        "extrapolation",
        "frontier_intervals",
        "n_starts",
        "n_converged",
        "at_bound",
        "predictive_error",
    ):
        if key in d:
            out[key] = d[key]
    return _finite(out)


def _print(report: FitReport) -> None:
    click.echo(f"{'status':>12}  {'ok' if report.success else 'FAILED'}: {report.message}")
    click.echo(f"{'method':>12}  {report.method} ({report.form}), {report.n_runs} observations")
    if report.objective is not None:
        click.echo(f"{'objective':>12}  {report.objective:.10g}")
    intervals = report.diagnostics.get("bootstrap", {}).get("intervals", {})
    for name, value in report.law.constants.items() if report.law else ():
        band = intervals.get(name)
        level = report.diagnostics.get("bootstrap", {}).get("level", 0.95)
        extra = f"   ({level:.0%}: {band[0]:.6g} to {band[1]:.6g})" if band else ""
        click.echo(f"{name:>12}  {value:.6g}{extra}")
    ext = report.diagnostics.get("extrapolation", {})
    if "mean_abs_relative_error" in ext:
        click.echo(
            f"{'extrapolate':>12}  {ext['mean_abs_relative_error']:.2%} mean loss error on "
            f"{ext['held_out_models']} held-out largest models"
        )
        if "final" in ext:
            click.echo(
                f"{'':>12}  {ext['final']['mean_abs_relative_error']:.2%} on their runs' "
                "last checkpoints"
            )
    elif "params_mean_abs_log10_error" in ext:
        click.echo(
            f"{'extrapolate':>12}  N* off by {10 ** ext['params_mean_abs_log10_error'] - 1:.1%} "
            f"on the {ext['held_out_points']} largest budgets held out"
        )
    for warning in report.warnings:
        click.echo(f"{'warning':>12}  {warning}")


def _plot(report: FitReport, runs: Runs, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    law = report.law
    assert law is not None and law.domain.flops is not None
    lo, hi = law.domain.flops
    budgets = np.geomspace(lo, 10 * hi, 60)
    path_ = frontier(law, budgets)
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4.5))
    observed = run_flops(runs, law.c_definition, law.family)
    ax0.scatter(observed, runs.loss, s=6, color="grey", alpha=0.5, label="runs")
    optima = report.diagnostics.get("optima")
    if optima:
        ax0.scatter(optima["flops"], optima["loss"], color="black", marker="x", label="optima")
        ax1.scatter(optima["flops"], optima["params"], color="black", marker="x", label="optima")
    if path_.loss is not None:
        ax0.plot(budgets, path_.loss, label="L*(C)")
    ax0.set(xscale="log", xlabel="FLOPs", ylabel="loss", title=f"{law.id}: loss frontier")
    ax1.plot(budgets, path_.params, label="N*(C)")
    rows = report.diagnostics.get("frontier_intervals", [])
    for row in rows:
        if row.get("params_interval"):
            ax1.errorbar(
                [row["flops"]],
                [row["params"]],
                fmt="o",
                color="C1",
                yerr=[
                    [row["params"] - row["params_interval"][0]],
                    [row["params_interval"][1] - row["params"]],
                ],
            )
    ax1.axvspan(lo, hi, color="grey", alpha=0.15, label="fitted range")
    ax1.set(xscale="log", yscale="log", xlabel="FLOPs", ylabel="params", title="compute-optimal N")
    for ax in (ax0, ax1):
        ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def run_fit(opts: dict[str, Any]) -> int:
    """Fit, print, plot and save as the options say; 0 when the fit succeeded."""
    if not (opts["delta"] > 0 and math.isfinite(opts["delta"])):
        raise fail(f"--delta: expected a positive number, got {opts['delta']}")
    try:
        report, runs = _fit(opts)
    except ValueError as exc:
        raise fail(str(exc)) from None
    if opts["as_json"]:
        click.echo(json.dumps(report_dict(report), allow_nan=False))
    else:
        _print(report)
    if report.law is not None and opts["save_law"] is not None:
        opts["save_law"].write_text(json.dumps(_finite(to_dict(report.law))))
    if report.law is not None and opts["plot"] is not None:
        _plot(report, runs, opts["plot"])
    return 0 if report.success else 1

"""What ``flopwise fit-downstream`` does once its options are read: load the runs and
step 1, fit the chain (``fitting.fit.downstream``), print and save the law with its
link. Apart from the options (``downstream_cmd``) so ``--help`` does not load scipy."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click

from flopwise.fitting.datasets import load_dataset, read_runs
from flopwise.fitting.fit.downstream import ChainReport, attach, fit_chain
from flopwise.fitting.laws import Law, to_dict
from flopwise.fitting.runs import Runs
from flopwise.fitting.stats import check_level
from flopwise.service.cli.app import fail
from flopwise.service.cli.fit_run import _finite
from flopwise.service.cli.resolve import load_law

__all__ = ["chain_dict", "run_fit_downstream"]


def _runs(opts: dict[str, Any]) -> tuple[Runs, dict[str, Any], str]:
    """The runs, the fit options their source implies, and the data's name."""
    if (opts["file"] is None) == (opts["dataset"] is None):
        raise fail("give exactly one of FILE or --dataset")
    if opts["dataset"] is not None:
        ds = load_dataset(opts["dataset"])
        return ds.runs, {"n_definition": ds.n_definition, "dataset": ds.corpus}, ds.name
    runs = read_runs(
        opts["file"],
        params=opts["params_col"],
        tokens=opts["tokens_col"],
        loss=opts["via_col"],
        run=opts["run_col"],
        metrics=tuple(dict.fromkeys((opts["via_col"], opts["metric_col"]))),
    )
    return runs, {}, Path(opts["file"]).stem


def chain_dict(report: ChainReport, law: Law | None) -> dict[str, Any]:
    """The report as one JSON object: the link's constants first."""
    fitted = report.link
    out: dict[str, Any] = dict(fitted.constants) if fitted is not None else {}
    out.update(
        law=None if law is None else {"id": law.id, "version": law.version},
        metric=report.metric,
        via=report.via,
        link=None if fitted is None else fitted.kind,
        success=report.success,
        message=report.message,
        step1=None if report.step1 is None else dict(report.step1.constants),
        fitted_step1=report.fitted_step1,
        x_range=None if fitted is None else list(fitted.x_range),
        noise_sd=None if fitted is None else fitted.noise_sd,
        warnings=list(report.warnings),
        diagnostics=dict(report.diagnostics),
    )
    return _finite(out)


def _print(report: ChainReport) -> None:
    click.echo(f"{'status':>12}  {'ok' if report.success else 'FAILED'}: {report.message}")
    click.echo(f"{'chain':>12}  (N, D) -> {report.via} -> {report.metric}")
    if report.step1 is not None:
        k = ", ".join(f"{n} {v:.4g}" for n, v in report.step1.constants.items())
        click.echo(f"{'step 1':>12}  {report.step1.id} ({report.step1.form}): {k}")
    if report.link is not None:
        k = ", ".join(f"{n} {v:.4g}" for n, v in report.link.constants.items())
        click.echo(f"{'step 2':>12}  {report.link.kind}: {k}")
    ext = report.diagnostics.get("extrapolation", {})
    if "mean_abs_error" in ext:
        click.echo(
            f"{'extrapolate':>12}  {ext['mean_abs_error']:.4f} mean absolute error on the "
            f"{ext['held_out_runs']} runs of the largest size, held out"
        )
    for warning in report.warnings:
        click.echo(f"{'warning':>12}  {warning}")


def _fit(opts: dict[str, Any]) -> tuple[ChainReport, Law | None]:
    runs, implied, name = _runs(opts)
    path = opts["loss_law_file"]
    base = None if path is None else load_law("", path, flag="--loss-law-file")
    report = fit_chain(
        runs,
        metric=opts["metric_col"],
        via=opts["via_col"],
        link=opts["link"],
        step1=base,
        form=opts["form"],
        law_id=opts["law_id"] or f"{name}-{opts['via_col']}",
        bootstrap=opts["bootstrap"],
        seed=opts["seed"],
        level=opts["level"],
        floor=opts["chance"],
        options={"workers": opts["workers"], **implied},
    )
    if not report.success:
        return report, None
    carrier = base if base is not None else report.step1
    assert carrier is not None
    return report, attach(carrier, {report.metric: report.downstream_link(nested=False)})


FLAGS = {"level": "--level", "link": "--link", "metrics": "--metric-col", "form": "--form"}
"""``fitting``'s argument names as this command's flags."""


def _flagged(exc: ValueError) -> str:
    """The error's message, led by the flag it is about where ``fitting`` names one."""
    name = getattr(exc, "name", None)
    message = str(exc)
    if name in FLAGS:
        return f"{FLAGS[name]}: {message.removeprefix(f'{name}: ')}"
    return message


def run_fit_downstream(opts: dict[str, Any]) -> int:
    """Fit, print and save as the options say; 0 when the fit succeeded."""
    if not math.isfinite(opts["chance"]):
        raise fail(f"--chance: expected a finite number, got {opts['chance']}")
    try:
        check_level(opts["level"])
        if opts["bootstrap"] == 1:
            raise fail("--bootstrap: one draw gives no interval; use 0 or at least 2")
        report, law = _fit(opts)
    except ValueError as exc:
        raise fail(_flagged(exc)) from None
    if opts["as_json"]:
        click.echo(json.dumps(chain_dict(report, law), allow_nan=False))
    else:
        _print(report)
    if law is not None:
        opts["save_law"].write_text(json.dumps(_finite(to_dict(law))))
    return 0 if report.success else 1

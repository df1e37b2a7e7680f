"""Downstream chains: fit step 1 (a loss law for the intermediate loss) and step 2 (a
link to the metric) on runs that carry metrics, with the diagnostics a loss law gets
(docs/laws.md §20).

Step 1 is either given (a loss law, whose loss is the intermediate ``via``: Gadre et
al.'s chain, or ``flopwise fit-downstream --loss-law-file``) or fitted here, as Bhagia
et al. fit it: each run's final row, its ``via`` the mean of the run's last 5
checkpoints (the authors' ``--moving_avg 5``), by the fit engine (Approach 3 in a
loss-law form, Huber on log loss, bootstrap over runs). Step 2 is
:func:`fitting.fit.links.fit_link` on the rows its link reads. The chain is checked as
a loss law is: refit both steps without the largest model size and predict that size's
final metric (``extrapolation``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.fit.front import fit
from flopwise.fitting.fit.links import LinkFit, fit_link, link_rows
from flopwise.fitting.laws import DownstreamLink, Law
from flopwise.fitting.links import LADDER_WINDOW, link_kind
from flopwise.fitting.prediction import predict_loss
from flopwise.fitting.runs import Runs

__all__ = ["ChainReport", "attach", "column", "final_metric", "final_rows", "fit_chain"]


@dataclass(frozen=True, eq=False)
class ChainReport:
    """A fitted chain (or why it failed): step 1's law, step 2's link, diagnostics."""

    success: bool
    message: str
    metric: str
    via: str
    step1: Law | None
    fitted_step1: bool
    link: LinkFit | None
    warnings: tuple[str, ...] = ()
    diagnostics: Mapping[str, Any] = field(default_factory=dict)

    def downstream_link(self, *, nested: bool) -> DownstreamLink:
        """The link as a law carries it; ``nested`` keeps step 1's law inside it (a law
        whose own loss is not ``via``), else the carrying law is step 1."""
        if self.link is None or self.step1 is None:
            raise ArgumentError("metric", f"the chain to {self.metric!r} failed: {self.message}")
        fitted = self.link
        return DownstreamLink(
            metric=self.metric,
            link=fitted.kind,
            via=self.via,
            constants=fitted.constants,
            draws=fitted.draws,
            x_range=fitted.x_range,
            noise_sd=fitted.noise_sd,
            noise_dof=fitted.noise_dof,
            step1=self.step1 if nested else None,
            diagnostics={**self.diagnostics, "warnings": list(self.warnings)},
        )


def column(runs: Runs, name: str) -> np.ndarray:
    """``loss`` or the metric ``name`` of every observation."""
    return np.asarray(runs.loss, dtype=float) if name == "loss" else runs.metric(name)


def final_rows(runs: Runs, x: np.ndarray, window: int = LADDER_WINDOW) -> Runs:
    """One observation per run: its last checkpoint's params and tokens, with ``loss``
    the mean of ``x`` over the run's last ``window`` checkpoints that carry it."""
    ok = np.isfinite(x)
    run = np.asarray(runs.run)[ok].astype(str)
    order = np.lexsort((runs.tokens[ok], run))
    idx = np.flatnonzero(ok)[order]
    names = run[order]
    rows, losses = [], []
    for name in dict.fromkeys(names):
        mine = idx[names == name]
        rows.append(mine[-1])
        losses.append(float(np.mean(x[mine[-window:]])))
    out = runs.subset(np.array(rows, dtype=int))
    return Runs(params=out.params, tokens=out.tokens, loss=np.array(losses), run=out.run)


def final_metric(link: str, runs: Runs, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Each run's final metric as the link reads it (the trailing mean at its last
    checkpoint for the ladder's sigmoid, the last checkpoint for Gadre's exponential)."""
    _, ys, run = link_rows(link_kind(link), x, y, np.asarray(runs.run), runs.tokens)
    last = np.r_[run[1:] != run[:-1], True]
    return {str(r): float(v) for r, v in zip(run[last], ys[last], strict=True)}


def _step1(
    runs: Runs, x: np.ndarray, law_id: str, form: str, bootstrap: int, seed: int,
    options: Mapping[str, Any],
) -> tuple[Law | None, str, list[str], dict[str, Any]]:  # fmt: skip
    report = fit(final_rows(runs, x), form=form, law_id=law_id, bootstrap=bootstrap, seed=seed,
                 **options)  # fmt: skip
    info = {"message": report.message, "n_runs": report.n_runs, "form": form}
    return report.law, report.message, list(report.warnings), info


def _holdout(
    runs: Runs, x: np.ndarray, y: np.ndarray, link: str, step1: Law, fitted: bool,
    form: str, floor: float,
) -> dict[str, Any]:  # fmt: skip
    """Refit both steps without the largest model size; predict its runs' final metric."""
    sizes = np.unique(runs.params)
    if len(sizes) < 4:
        return {"skipped": "too few model sizes to hold one out"}
    train = runs.params < sizes[-1]
    sub = runs.subset(train)
    law = step1
    if fitted:
        law_ = fit(final_rows(sub, x[train]), form=form, law_id="holdout", extrapolation=False).law
        if law_ is None:
            return {"skipped": "step 1 could not be refitted without the largest size"}
        law = law_
    kind = link_kind(link)
    rx, ry, rr = link_rows(kind, x[train], y[train], np.asarray(sub.run), sub.tokens)
    refit = fit_link(link, rx, ry, rr, floor=floor)
    held = runs.subset(~train)
    actual = final_metric(link, held, x[~train], y[~train])
    last = final_rows(held, x[~train])
    predicted = kind.predict(predict_loss(law, params=last.params, tokens=last.tokens),
                             refit.constants)  # fmt: skip
    errors = np.array([p - actual[str(r)] for p, r in zip(predicted, last.run, strict=True)])
    return {
        "held_out_params": float(sizes[-1]),
        "held_out_runs": len(errors),
        "mean_abs_error": float(np.mean(np.abs(errors))),
        "max_abs_error": float(np.max(np.abs(errors))),
        "mean_error": float(np.mean(errors)),
    }


def fit_chain(
    runs: Runs,
    *,
    metric: str,
    via: str,
    link: str = "sigmoid",
    step1: Law | None = None,
    form: str = "chinchilla",
    law_id: str | None = None,
    bootstrap: int = 0,
    seed: int = 0,
    level: float = 0.9,
    floor: float = 0.25,
    options: Mapping[str, Any] | None = None,
) -> ChainReport:
    """Fit the chain (N, D) -> ``via`` -> ``metric``. With ``step1`` (a loss law whose
    loss is ``via``) only the link is fitted; else step 1 is fitted too, in ``form``,
    with ``options`` passed to :func:`fitting.fit.fit`. Bad input raises ``ValueError``
    naming it; a fit that runs but fails is a report with ``success`` false."""
    kind = link_kind(link)
    x, y = column(runs, via), column(runs, metric)
    opts = {"level": level, **(options or {})}
    warnings: list[str] = []
    diagnostics: dict[str, Any] = {"metric": metric, "via": via, "link": kind.name}
    fitted = step1 is None
    if step1 is None:
        step1, message, more, diagnostics["step1"] = _step1(
            runs, x, law_id or f"{via}-law", form, bootstrap, seed, opts
        )
        warnings += [f"step 1: {w}" for w in more]
        if step1 is None:
            return ChainReport(False, f"step 1 failed: {message}", metric, via, None, True, None,
                               tuple(warnings), diagnostics)  # fmt: skip
    rx, ry, rr = link_rows(kind, x, y, np.asarray(runs.run), runs.tokens)
    fitted_link = fit_link(kind.name, rx, ry, rr, floor=floor, bootstrap=bootstrap, seed=seed,
                           level=level)  # fmt: skip
    warnings += [f"step 2: {w}" for w in fitted_link.warnings]
    diagnostics["step2"] = fitted_link.diagnostics
    diagnostics["extrapolation"] = _holdout(runs, x, y, kind.name, step1, fitted, form, floor)
    return ChainReport(
        fitted_link.success,
        fitted_link.message,
        metric,
        via,
        step1,
        fitted,
        fitted_link,
        tuple(warnings),
        diagnostics,
    )


def attach(law: Law, links: Mapping[str, DownstreamLink]) -> Law:
    """``law`` carrying ``links`` besides (or instead of) the ones it had."""
    return law.evolve(downstream={**law.downstream, **links})

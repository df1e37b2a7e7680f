"""Refit jobs: fit a law to a dataset's stored runs, check it, hand it back for publishing.

Fitted laws are named ``<dataset>-<form>`` (Approach 3) or ``<dataset>-<method>``
(Approaches 1 and 2, which fit allocation power laws). An automatic refit of runs that
carry a granularity (an MoE calibration sweep's) fits the fine-grained MoE form. A law is published only
when the fit succeeded and the law passes :func:`check_law`.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from flopwise.fitting.allocation import frontier
from flopwise.fitting.catalogue import BUILTIN_LAWS
from flopwise.fitting.curves import curves_of
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.forms import form_names, law_form
from flopwise.fitting.forms.curve import CurveForm
from flopwise.fitting.forms.mixture import MoEForm
from flopwise.fitting.laws import Law
from flopwise.fitting.prediction import predict_loss
from flopwise.fitting.runs import Runs
from flopwise.service.jobs.base import JobContext, JobError, Outcome, Publication
from flopwise.service.jobs.downstream_refit import refit_links
from flopwise.service.jobs.screening import OUTLIER_SD, LeftOut, caveat, outliers, screen
from flopwise.service.jobs.throughput_refit import refit_throughput
from flopwise.service.store.exclusions import data_snapshot, excluded
from flopwise.service.store.jobs import Job
from flopwise.service.store.laws import LAWS
from flopwise.service.store.published import latest
from flopwise.service.store.runs import load_records

__all__ = ["METHODS", "check_law", "fitted_law_id", "refit", "refit_payload"]

METHODS = ("approach1", "approach2", "approach3")

MAX_MEDIAN_ERROR = 0.25
"""A law whose median relative loss error on its own data exceeds this is not published."""


def fitted_law_id(dataset: str, form: str, method: str) -> str:
    """The id a fit of ``dataset`` publishes under."""
    return f"{dataset}-{form}" if method == "approach3" else f"{dataset}-{method}"


def refit_payload(
    dataset: str, form: str, method: str, options: dict[str, Any], *, auto: bool
) -> dict[str, Any]:
    """The payload of a refit job (checked by the API before it is queued)."""
    if method not in METHODS:
        raise ArgumentError("method", f"expected one of {', '.join(METHODS)}, got {method!r}")
    allowed = form_names(method=method)
    if form not in allowed:
        raise ArgumentError("form", f"{method} fits {', '.join(allowed)}, not {form!r}")
    law_id = fitted_law_id(dataset, form, method)
    if law_id in BUILTIN_LAWS:
        raise ArgumentError("dataset", f"a fit would publish {law_id!r}, the id of a built-in law")
    return {"dataset": dataset, "form": form, "method": method, "options": options, "auto": auto}


def json_ready(value: Any) -> Any:
    """``value`` with numpy scalars/arrays as Python types and non-finite floats as None."""

    def default(obj: Any) -> Any:
        if isinstance(obj, np.ndarray):
            return obj.tolist()
        if isinstance(obj, np.generic):
            return obj.item()
        return str(obj)

    def clean(obj: Any) -> Any:
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else None
        if isinstance(obj, dict):
            return {str(k): clean(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [clean(v) for v in obj]
        return obj

    return clean(json.loads(json.dumps(value, default=default)))


def _own_error(predicted: np.ndarray, runs: Runs) -> list[str]:
    """Why the law's predictions of its own runs forbid publishing it (none: empty)."""
    if not np.all(np.isfinite(predicted)) or np.any(predicted <= 0):
        return ["predicted losses on the fitted runs are not all positive and finite"]
    error = float(np.median(np.abs(predicted / runs.loss - 1.0)))
    if error > MAX_MEDIAN_ERROR:
        return [f"median relative loss error on its data is {error:.0%}"]
    return []


def _predict_own(law: Law, runs: Runs) -> np.ndarray:
    """The law's loss at every observation (a loss-curve law under each run's history)."""
    form = law_form(law)
    if isinstance(form, CurveForm):
        return np.asarray(form.curve_loss(law.constants, runs.params, curves_of(runs)), float)
    return np.asarray(
        predict_loss(law, params=runs.params, tokens=runs.tokens, width=runs.width,
                     depth=runs.depth),
        dtype=float,
    )  # fmt: skip


def check_law(law: Law, runs: Runs) -> list[str]:
    """Reasons not to publish ``law`` (empty when it may be published): it must predict
    its own data, and a law that allocates must give a finite allocation."""
    problems: list[str] = []
    form = law_form(law)
    if form.lse is not None or form.repeated_data or form.reads_schedule:
        try:
            with np.errstate(all="ignore"):
                problems += _own_error(_predict_own(law, runs), runs)
        except ValueError as exc:
            return [f"the law cannot predict its own data: {exc}"]
    if not form.allocates:
        return problems
    flops = law.domain.flops
    budget = (
        math.sqrt(flops[0] * flops[1]) if flops else float(np.median(6 * runs.params * runs.tokens))
    )
    try:  # the law's optimum, whether or not its family has a shape that small
        path = frontier(law, np.array([budget]))
        if not (np.all(np.isfinite(path.params)) and np.all(np.isfinite(path.tokens))):
            problems.append(f"allocation at {budget:.3g} FLOPs is not finite")
    except (ValueError, ArithmeticError) as exc:
        problems.append(f"allocation at {budget:.3g} FLOPs fails: {exc}")
    return problems


def _inherited(ctx: JobContext, law_id: str) -> dict[str, Any]:
    """A refit keeps the architecture family of the version it refreshes (a calibration
    sweep names its family once, in its own fit request)."""
    record = latest(ctx.db, LAWS, law_id)
    return {} if record is None else {"family": record.value.family}


def _repeated_form(form: str, method: str) -> str | None:
    """``form`` when it models repeated data, else the registered form ``method`` fits
    that does and extends ``form``'s constants (Chinchilla -> data-constrained)."""
    base = law_form(form)
    if base.repeated_data:
        return form
    for name in form_names(method=method):
        other = law_form(name)
        if other.repeated_data and set(base.constants) < set(other.constants):
            return name
    return None


def repeated_data(
    records: list[dict[str, Any]], form: str, method: str, *, auto: bool
) -> tuple[str, dict[str, Any], str]:
    """(form, extra fit options, note): runs that carry ``unique_tokens`` are fitted in
    the data-constrained form (Muennighoff et al. 2023 Eq. 7) when the refit is
    automatic, and a requested data-constrained fit takes its unique tokens from them."""
    unique = [r.get("unique_tokens") for r in records]
    if all(u is None for u in unique):
        return form, {}, ""
    target = _repeated_form(form, method)
    if target is None or (target != form and not auto):
        return form, {}, ""
    values = [r["tokens"] if u is None else u for r, u in zip(records, unique, strict=True)]
    note = (
        f"{sum(u is not None for u in unique)} of {len(records)} runs carry unique_tokens: "
        f"fitted in the {target} form (Muennighoff et al. 2023)"
    )
    return target, {"unique_tokens": values}, note


def moe_data(runs: Runs, form: str, method: str, *, auto: bool) -> tuple[str, str]:
    """(form, note): runs that all carry a granularity (an MoE calibration sweep's:
    ``tags.granularity``) are fitted in the fine-grained MoE form (Krajewski et al. 2024
    Eq. 9) when the refit is automatic and asked for a dense form."""
    moe = "fine-grained-moe"
    if not auto or runs.granularity is None or isinstance(law_form(form), MoEForm):
        return form, ""
    if moe not in form_names(method=method):
        return form, ""
    note = f"the runs carry granularity (an MoE sweep's): fitted in the {moe} form"
    return moe, note


def _screening_loss(law: Law, runs: Runs) -> np.ndarray:
    """The law's loss at every observation (an MoE law at each run's design)."""
    form = law_form(law)
    design = getattr(runs, form.moe_input, None) if isinstance(form, MoEForm) else None
    if isinstance(form, MoEForm) and design is not None:
        loss = form.loss(law.constants, params=runs.params, tokens=runs.tokens,
                         **{form.moe_input: design})  # fmt: skip
        return np.asarray(loss, dtype=float)
    return np.asarray(
        predict_loss(law, params=runs.params, tokens=runs.tokens, width=runs.width,
                     depth=runs.depth),
        dtype=float,
    )  # fmt: skip


def _without_outliers(
    law: Law, runs: Runs, records: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[LeftOut]]:
    """The records left after dropping the points ``law`` cannot explain
    (``screening.outliers``), and those it dropped, by run."""
    try:
        predicted = _screening_loss(law, runs)
    except ValueError:  # a law that predicts only on its frontier: nothing to screen
        return records, []
    with np.errstate(all="ignore"):
        far = outliers(np.log(runs.loss) - np.log(predicted))
    if not np.any(far) or np.all(far):
        return records, []
    dropped = [r for r, out in zip(records, far, strict=True) if out]
    kept = [r for r, out in zip(records, far, strict=True) if not out]
    counts: dict[str, int] = {}
    for record in dropped:
        counts[str(record["run"])] = counts.get(str(record["run"]), 0) + 1
    why = f"log-loss residual beyond {OUTLIER_SD:g} robust sd of the law of the other points"
    return kept, [LeftOut(run, n, why) for run, n in counts.items()]


def refit(job: Job, ctx: JobContext) -> Outcome:
    """Fit ``job.payload``'s dataset; raise ``JobError`` when nothing may be published."""
    from flopwise.fitting.fit import fit  # the engine is heavy; import it where it is used

    payload = job.payload
    dataset, form, method = payload["dataset"], payload["form"], payload["method"]
    ctx.progress(stage="loading runs")
    snapshot = data_snapshot(ctx.db, dataset)  # before the data: never newer than it
    stored = load_records(ctx.db, dataset)
    if not stored:
        raise JobError(f"dataset: no runs stored for {dataset!r}")
    records, left = screen(stored, excluded(ctx.db, dataset))
    if not records:
        raise JobError(f"dataset: every run of {dataset!r} was left out: {left[0].reason}")
    auto = bool(payload.get("auto"))

    def run_fit(chosen: list[dict[str, Any]]) -> tuple[Any, Runs, str, str]:
        runs = Runs.from_records(chosen)
        used, note = moe_data(runs, form, method, auto=auto)
        repeated: dict[str, Any] = {}
        if used == form:
            used, repeated, note = repeated_data(chosen, form, method, auto=auto)
        ctx.progress(stage="fitting", n_observations=len(runs))
        law_id = fitted_law_id(dataset, used, method)
        options = {
            "workers": 1,
            **_inherited(ctx, law_id),
            **repeated,
            **payload.get("options", {}),
        }
        return fit(runs, form=used, method=method, law_id=law_id, **options), runs, used, note

    try:
        report, runs, form, note = run_fit(records)
        if report.success and report.law is not None:  # one more pass without outliers
            kept, far = _without_outliers(report.law, runs, records)
            if far:
                left += far
                report, runs, form, note = run_fit(kept)
    except ValueError as exc:
        raise JobError(f"fit refused the data: {exc}") from None
    summary = json_ready(
        {
            "message": report.message,
            "form": form,
            "form_choice": note or None,
            "success": report.success,
            "objective": report.objective,
            "n_runs": report.n_runs,
            "warnings": list(report.warnings),
            "diagnostics": dict(report.diagnostics),
            "left_out": [x.to_dict() for x in left],
        }
    )
    if not report.success or report.law is None:
        raise JobError(f"fit did not succeed: {report.message}")
    ctx.progress(stage="checking")
    problems = check_law(report.law, runs)
    if problems:
        raise JobError("fit failed its checks: " + "; ".join(problems))
    law, links = refit_links(report.law, runs, payload.get("options", {}), ctx.progress)
    summary["downstream"] = json_ready(links)
    if not law.dataset:
        law = law.evolve(dataset=dataset)
    if note:
        law = law.evolve(notes=" ".join(filter(None, (law.notes, note))))
    without = caveat(dataset, left)
    if without:
        law = law.evolve(caveats=(*law.caveats, without))
    ctx.progress(stage="publishing")
    summary["throughput"] = refit_throughput(ctx.db, dataset, law.family, job.id)
    publication = Publication(law, dataset, form, method, summary, snapshot=snapshot)
    return Outcome(publication=publication)

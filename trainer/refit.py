"""After a sweep: fit the law, through the service or locally.

With a service the trainer asks for a refit of the dataset (``POST /v1/fits``) and
waits for the job; the service's worker fits, checks and publishes a new law version.
Without one, ``fitting.fit.fit`` runs here on the sweep's observations (Chinchilla
form, or an MoE sweep's fine-grained MoE form, Approach 3: Huber on log loss, Hoffmann
et al. 2022 §3.3) and the law is written
as ``law.json`` beside ``runs.jsonl``, its version one more than the file held before.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from flopwise.client import Client, FlopwiseError
from flopwise.fitting.counting import ArchFamily
from flopwise.fitting.laws import from_dict, to_dict
from flopwise.fitting.runs import Runs
from flopwise.protocol.events import FitEvent
from flopwise.trainer.checkpoint import write_json_atomic

__all__ = ["FitOutcome", "fit_locally", "fit_via_service"]


class FitOutcome(FitEvent):
    """What the refit produced: the ``fit`` progress event itself."""


def fit_via_service(
    client: Client,
    dataset: str,
    family: ArchFamily | None = None,
    timeout: float = 900.0,
    *,
    form: str = "chinchilla",
) -> FitOutcome:
    """Ask the service to refit ``dataset`` in ``form`` and wait for the new law version;
    ``family`` (the sweep's models) is what the law shapes its allocations from."""
    options = {} if family is None else {"family": asdict(family)}
    try:
        job_id = client.fit(dataset, form=form, options=options).job_id
        state = client.jobs.wait(job_id, timeout=timeout)
    except FlopwiseError as exc:
        return FitOutcome(
            success=False, law_id=None, version=None, message=str(exc), where="service"
        )
    result = state.result or {}
    if state.status != "succeeded" or "law_id" not in result:
        error = state.error or "the fit job did not succeed"
        return FitOutcome(
            success=False,
            law_id=None,
            version=None,
            message=f"job {job_id}: {error}",
            where="service",
        )
    law_id, version = str(result["law_id"]), int(result["version"])
    try:
        law = client.laws.get(f"{law_id}@{version}")
        constants: dict[str, float] | None = dict(law.constants)
        warnings = [str(w) for w in law.diagnostics.get("warnings") or ()]
    except (FlopwiseError, TypeError, ValueError):
        constants, warnings = None, []  # the law is published; these are for the report
    return FitOutcome(
        success=True,
        law_id=law_id,
        version=version,
        message=f"job {job_id} succeeded",
        constants=constants,
        where="service",
        warnings=warnings,
    )


def fit_locally(
    records: list[dict[str, Any]],
    dataset: str,
    out_dir: Path,
    family: ArchFamily | None = None,
    *,
    form: str = "chinchilla",
) -> FitOutcome:
    """Fit ``form`` (Chinchilla's, or an MoE sweep's ``fine-grained-moe``) to ``records``
    of ``dataset``; write ``law.json``/``fit.json`` (its law ``<dataset>-<form>``).

    ``family`` (the sweep's model family) is what the law's allocations shape models from.
    """
    from flopwise.fitting.fit import fit  # the engine (scipy.optimize) loads only to fit

    mine = [r for r in records if r["dataset"] == dataset]
    law_id = f"{dataset}-{form}"
    try:
        report = fit(
            Runs.from_records(mine),
            form=form,
            method="approach3",
            law_id=law_id,
            dataset=dataset,
            tokenizer="bytes-utf8",
            notes="fitted by the flopwise trainer after a calibration sweep",
            family=family,
        )
    except ValueError as exc:
        return FitOutcome(success=False, law_id=None, version=None, message=f"fit: {exc}")
    summary = {
        "success": report.success,
        "message": report.message,
        "warnings": list(report.warnings),
        "n_runs": report.n_runs,
        "objective": report.objective,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out_dir / "fit.json", summary)
    if not report.success or report.law is None:
        return FitOutcome(
            success=False,
            law_id=None,
            version=None,
            message=report.message,
            warnings=list(report.warnings),
        )
    law_path = out_dir / "law.json"
    version = 1
    if law_path.exists():
        previous = from_dict(json.loads(law_path.read_text()))
        version = previous.version + 1 if previous.id == law_id else 1
    law = report.law.evolve(version=version)
    write_json_atomic(law_path, to_dict(law))
    constants = {k: float(v) for k, v in law.constants.items()}
    return FitOutcome(
        success=True,
        law_id=law.id,
        version=law.version,
        message=report.message,
        constants=constants,
        warnings=list(report.warnings),
    )

"""``POST /v1/runs/{dataset}/{run}/forecast``: where a run will land under its
learning-rate schedule, from a loss-curve law (docs/laws.md §21.6).

What the body leaves out comes from the store: the run's size, its schedule and the
checkpoints it has logged; the law by default is the dataset's own loss-curve law
(``<dataset>-multi-power``, else ``<dataset>-tissue``), the latest version."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, status

from flopwise.fitting.forms import form_names, law_form
from flopwise.fitting.laws import Law
from flopwise.fitting.schedules import Schedule, schedule_from_dict
from flopwise.service.answers import resolve_law
from flopwise.service.api.deps import DatabaseDep, RegistryDep, require_reader
from flopwise.service.api.responses import AUTH, BODY, INVALID, NOT_FOUND
from flopwise.service.api.routes.run_edits import DatasetPath, RunPath
from flopwise.service.curve_queries import forecast_answer
from flopwise.service.errors import FieldError
from flopwise.service.registry import LawRegistry, UnknownLaw
from flopwise.service.schemas.curves import MAX_OBSERVATIONS, ForecastPublic, ForecastRequest
from flopwise.service.store.runs import RunRecord, list_runs

router = APIRouter(prefix="/v1", tags=["runs"], responses={**INVALID, **AUTH})


def dataset_curve_law(registry: LawRegistry, dataset: str) -> Law:
    """The dataset's latest loss-curve law; a 422 on ``law`` when it has none."""
    for form in form_names():
        if law_form(form).reads_schedule:
            try:
                return registry.resolve(f"{dataset}-{form}")
            except UnknownLaw:
                continue
    raise FieldError(
        ("body", "law"),
        f"law: {dataset!r} has no loss-curve law yet: fit one (POST /v1/fits with form "
        "multi-power or tissue) or name one",
    )


def _stored_schedule(rows: list[RunRecord]) -> Schedule | None:
    for row in rows:
        if row.schedule:
            return schedule_from_dict(row.schedule)
    return None


@router.post(
    "/runs/{dataset}/{run}/forecast",
    response_model=ForecastPublic,
    dependencies=[Depends(require_reader)],
    responses={**BODY, **NOT_FOUND},
)
def forecast_run(
    dataset: DatasetPath,
    run: RunPath,
    body: ForecastRequest,
    db: DatabaseDep,
    registry: RegistryDep,
) -> Any:
    """The run's loss at the end of its schedule, with its interval, and whether its
    checkpoints track the law (a caveat when they do not; ``adjusted_loss`` carries their
    offset to the end); ``curve`` adds the whole predicted curve. 404 when the store
    holds no such run and the body does not give its size, schedule and checkpoints."""
    rows, _ = list_runs(db, dataset=dataset, run=run, limit=MAX_OBSERVATIONS)
    given = None not in (body.params, body.schedule, body.observations)
    if not rows and not given:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no run {run!r} in {dataset!r}")
    law = resolve_law(registry, body.law) if body.law else dataset_curve_law(registry, dataset)
    return forecast_answer(
        law,
        body,
        params=rows[0].params if rows else None,
        schedule=_stored_schedule(rows),
        checkpoints=[(r.tokens, r.loss) for r in rows],
        run=(dataset, run),
    )

"""``POST /v1/runs/{dataset}/{run}/exclude`` and ``.../restore``, ``DELETE
/v1/runs/{dataset}/{run}``, ``GET /v1/exclusions/{dataset}``: taking a run out of
its dataset's fits (issue 24), putting it back, or deleting it, each queueing the
dataset's refit; the history of exclusions stays."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, status
from pydantic import BaseModel, Field

from flopwise.service.api.deps import DatabaseDep, SettingsDep, require_reader, require_writer
from flopwise.service.api.responses import AUTH, INVALID, NOT_FOUND
from flopwise.service.api.routes.runs import refit_queuer
from flopwise.service.schemas.common import Name, Request
from flopwise.service.store import exclusions
from flopwise.service.store.db import Database

router = APIRouter(prefix="/v1", tags=["runs"], responses={**INVALID, **AUTH})

DatasetPath = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]
RunPath = Annotated[str, Path(min_length=1, max_length=200)]


class ExcludeCreate(Request):
    reason: str = Field(min_length=1, max_length=500)
    """Why the run is left out (shown in every answer of the laws fitted without it)."""


class ExclusionPublic(BaseModel):
    dataset: Name
    run: str
    reason: str
    excluded_at: float
    restored_at: float | None = None
    refit_job: str | None = None
    """The refit this change queued."""


class ExclusionsPublic(BaseModel):
    data: list[ExclusionPublic]
    count: int


class DeletedPublic(BaseModel):
    dataset: str
    run: str
    deleted: int
    """Observations deleted."""
    refit_job: str | None = None


def _refit(db: Database, settings: Any, dataset: str) -> str:
    with db.write_session() as session, session.begin():
        return refit_queuer(settings)(session, dataset, time.time())


@router.post(
    "/runs/{dataset}/{run}/exclude",
    response_model=ExclusionPublic,
    dependencies=[Depends(require_writer)],
)
def exclude_run(
    dataset: DatasetPath, run: RunPath, body: ExcludeCreate, db: DatabaseDep, settings: SettingsDep
) -> dict[str, Any]:
    """Leave a run out of its dataset's fits from now on (its observations stay stored);
    the refit this queues publishes a version fitted without it, whose answers say so."""
    done = exclusions.exclude(db, dataset, run, body.reason)
    return {**vars(done), "refit_job": _refit(db, settings, dataset)}


@router.post(
    "/runs/{dataset}/{run}/restore",
    response_model=ExclusionPublic,
    dependencies=[Depends(require_writer)],
    responses=NOT_FOUND,
)
def restore_run(
    dataset: DatasetPath, run: RunPath, db: DatabaseDep, settings: SettingsDep
) -> dict[str, Any]:
    """Take an excluded run back into its dataset's fits (404 when it is not excluded)."""
    lifted = exclusions.restore(db, dataset, run)
    if lifted is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"run {run!r} of {dataset!r} is not excluded"
        )
    return {**vars(lifted), "refit_job": _refit(db, settings, dataset)}


@router.delete(
    "/runs/{dataset}/{run}",
    response_model=DeletedPublic,
    dependencies=[Depends(require_writer)],
    responses=NOT_FOUND,
)
def delete_run(
    dataset: DatasetPath, run: RunPath, db: DatabaseDep, settings: SettingsDep
) -> dict[str, Any]:
    """Delete every observation of a run (for good; 404 when there is none)."""
    count = exclusions.delete_run(db, dataset, run)
    if not count:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no run {run!r} in {dataset!r}")
    return {"dataset": dataset, "run": run, "deleted": count,
            "refit_job": _refit(db, settings, dataset)}  # fmt: skip


@router.get(
    "/exclusions/{dataset}",
    response_model=ExclusionsPublic,
    dependencies=[Depends(require_reader)],
)
def read_exclusions(dataset: DatasetPath, db: DatabaseDep) -> dict[str, Any]:
    """Every exclusion of the dataset's runs, oldest first, lifted ones and deletions
    included: what each of its fits could see."""
    rows = [vars(x) for x in exclusions.history(db, dataset)]
    return {"data": rows, "count": len(rows)}

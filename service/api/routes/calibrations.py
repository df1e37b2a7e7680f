"""``POST /v1/calibrations``: launch a calibration sweep (the trainer, as its own process)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.sweep_config import SweepRequest
from flopwise.service.api.deps import DatabaseDep, SettingsDep, require_writer
from flopwise.service.errors import FieldError
from flopwise.service.jobs.calibration import calibration_available
from flopwise.service.schemas.jobs import CalibrationCreate, JobAccepted
from flopwise.service.store import jobs as queue

router = APIRouter(prefix="/v1", tags=["jobs"])


def _request(body: BaseModel) -> SweepRequest:
    """The sweep request, checked by its dataclass (the 422 names its field)."""
    try:
        return SweepRequest.from_dict(body.model_dump())
    except ArgumentError as exc:
        raise FieldError(("body", exc.name), str(exc)) from None


@router.post(
    "/calibrations",
    response_model=JobAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Depends(require_writer)],
)
def create_calibration(
    body: CalibrationCreate,  # type: ignore[valid-type]
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
) -> Any:
    """Queue a sweep: small models trained on this host's devices, each evaluation posted
    back to ``/v1/runs`` under ``dataset`` (which queues the refit). 409 when the trainer
    (the ``[train]`` extra) is not installed."""
    sweep = _request(body)
    missing = calibration_available(settings, sweep.executor)
    if missing is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=missing)
    payload = sweep.to_dict()
    payload["service_url"] = settings.public_url or str(request.base_url).rstrip("/")
    with db.write_session() as session, session.begin():
        job_id = queue.enqueue(session, "calibration", payload, max_attempts=1)
    return {"job_id": job_id, "status": "queued"}

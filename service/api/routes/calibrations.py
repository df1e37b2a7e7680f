"""``POST /v1/calibrations``: launch a calibration sweep (the trainer, as its own process)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, status

from flopwise.fitting.hardware import gpu as find_gpu
from flopwise.service.api.deps import DatabaseDep, SettingsDep, require_writer
from flopwise.service.errors import FieldError
from flopwise.service.jobs.calibration import calibration_available
from flopwise.service.schemas.jobs import CalibrationCreate, JobAccepted
from flopwise.service.store import jobs as queue

router = APIRouter(prefix="/v1", tags=["jobs"])


def _budget(body: CalibrationCreate) -> None:
    if (body.flops is None) == (body.gpu_hours is None):
        loc = ("body", "gpu_hours") if body.flops is not None else ("body", "flops")
        raise FieldError(loc, "budget: give exactly one of flops or gpu_hours (with gpu)")
    if body.gpu_hours is not None:
        if body.gpu is None:
            raise FieldError(("body", "gpu"), "gpu: a GPU-hour budget needs a GPU name")
        try:
            find_gpu(body.gpu)
        except ValueError as exc:
            raise FieldError(("body", "gpu"), str(exc)) from None


@router.post(
    "/calibrations",
    response_model=JobAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Depends(require_writer)],
)
def create_calibration(
    body: CalibrationCreate, request: Request, db: DatabaseDep, settings: SettingsDep
) -> Any:
    """Queue a sweep: small models trained on this host's devices, each evaluation posted
    back to ``/v1/runs`` under ``dataset`` (which queues the refit). 409 when the trainer
    (the ``[train]`` extra) is not installed."""
    _budget(body)
    missing = calibration_available(settings)
    if missing is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=missing)
    payload = body.model_dump()
    payload["service_url"] = settings.public_url or str(request.base_url).rstrip("/")
    with db.write_session() as session, session.begin():
        job_id = queue.enqueue(session, "calibration", payload, max_attempts=1)
    return {"job_id": job_id, "status": "queued"}

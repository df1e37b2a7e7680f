"""``POST /v1/calibrations``: launch a calibration sweep (the trainer, as its own process).

Compute is never free: a sweep needs a configured ``FLOPWISE_API_KEY`` (403 naming the
setting without one, unless ``FLOPWISE_ALLOW_CALIBRATIONS`` opens it on a trusted
machine), stays inside the operator's caps (hours, corpus bytes, sweeps at once) and
can be cancelled (``POST /v1/jobs/{id}/cancel``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, status

from flopwise.protocol.sweep import SweepRequest
from flopwise.service.api.deps import DatabaseDep, SettingsDep, require_writer
from flopwise.service.api.responses import AUTH, BODY, CONFLICT, FORBIDDEN, INVALID
from flopwise.service.config import Settings
from flopwise.service.errors import FieldError
from flopwise.service.jobs.calibration import calibration_available
from flopwise.service.jobs.trainers import live_trainers
from flopwise.service.schemas.jobs import CalibrationCreate, JobAccepted
from flopwise.service.store import jobs as queue

router = APIRouter(prefix="/v1", tags=["jobs"])


def _request(body: SweepRequest, settings: Settings) -> SweepRequest:
    """The sweep request (checked at the edge: a 422 names its field). A request that
    leaves ``corpus_bytes`` unset gets the default, capped at the operator's limit."""
    if "corpus_bytes" in body.model_fields_set:
        return body
    default = SweepRequest.model_fields["corpus_bytes"].default
    return body.model_copy(update={"corpus_bytes": min(default, settings.max_corpus_bytes)})


def _confined(body: SweepRequest, settings: Settings) -> SweepRequest:
    """``body`` with its corpus as the absolute path it resolves to, which must lie under
    the operator's corpus root: a calibration cannot make the trainer read whatever
    this service can (``../../etc/passwd``)."""
    if not body.corpus:
        return body
    root = settings.corpora
    path = Path(body.corpus)
    resolved = (path if path.is_absolute() else root / path).resolve()
    if not resolved.is_relative_to(root):
        raise FieldError(
            ("body", "corpus"),
            f"corpus: must lie under the corpus root {root} (FLOPWISE_CORPUS_ROOT); "
            "relative paths are taken from it",
        )
    return body.model_copy(update={"corpus": str(resolved)})


def _caps(body: SweepRequest, settings: Settings) -> None:
    if body.time_cap_hours > settings.max_calibration_hours:
        raise FieldError(
            ("body", "time_cap_hours"),
            f"time_cap_hours: at most {settings.max_calibration_hours:g} here "
            "(FLOPWISE_MAX_CALIBRATION_HOURS)",
        )
    if body.corpus_bytes > settings.max_corpus_bytes:
        raise FieldError(
            ("body", "corpus_bytes"),
            f"corpus_bytes: at most {settings.max_corpus_bytes} here (FLOPWISE_MAX_CORPUS_BYTES)",
        )


def require_calibrations(settings: SettingsDep) -> None:
    """403 unless an API key guards the endpoint or the operator opened it explicitly."""
    if not settings.api_key and not settings.allow_calibrations:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="calibrations run the trainer on this host: set FLOPWISE_API_KEY "
            "(or FLOPWISE_ALLOW_CALIBRATIONS=1 / serve --allow-calibrations on a trusted machine)",
        )


@router.post(
    "/calibrations",
    response_model=JobAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Depends(require_writer), Depends(require_calibrations)],
    responses={**AUTH, **FORBIDDEN, **CONFLICT, **INVALID, **BODY},
)
def create_calibration(
    body: CalibrationCreate,
    db: DatabaseDep,
    settings: SettingsDep,
) -> Any:
    """Queue a sweep: small models trained on this host's devices (or submitted to Slurm),
    each evaluation posted back to ``/v1/runs`` under ``dataset`` (which queues the refit).

    Cross-field rules (422 naming the field): exactly one of ``flops`` or ``gpu_hours``;
    ``gpu_hours`` needs a known ``gpu``; ``time_cap_hours`` and ``corpus_bytes`` within
    the operator's caps; ``corpus`` under FLOPWISE_CORPUS_ROOT (default
    ``<data_dir>/corpora``; relative paths are taken from it). 403 without a configured API key; 409 when the trainer is not
    installed (or ``executor: slurm`` without ``sbatch``) or
    FLOPWISE_MAX_CONCURRENT_CALIBRATIONS sweeps are queued or running. The trainer
    reports to ``FLOPWISE_PUBLIC_URL`` (or the bound address), never the request's Host."""
    sweep = _confined(_request(body, settings), settings)
    _caps(sweep, settings)
    missing = calibration_available(settings, sweep.executor)
    if missing is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=missing)
    payload = sweep.model_dump(mode="json")
    with db.write_session() as session, session.begin():
        active = queue.count_active(session, "calibration") + live_trainers(db)
        if active >= settings.max_concurrent_calibrations:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                detail=f"{active} calibration(s) already queued or running, or trainers of "
                "ended ones still running here (FLOPWISE_MAX_CONCURRENT_CALIBRATIONS); "
                "cancel one or wait",
            )
        job_id = queue.enqueue(session, "calibration", payload, max_attempts=1)
    return {"job_id": job_id, "status": "queued"}

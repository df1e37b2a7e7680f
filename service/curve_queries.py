"""Answers of the loss-curve laws (docs/laws.md §21): a prediction under a schedule (with
its whole curve on request) and the forecast of a live run, for the API and the CLI
alike (``queries.predict``, ``flopwise forecast``, ``POST /v1/runs/{dataset}/{run}/
forecast``). A bad schedule or checkpoint is a ``FieldError`` naming the field."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.forecast import forecast, predict_curve
from flopwise.fitting.forms import law_form
from flopwise.fitting.laws import Law
from flopwise.fitting.schedules import Schedule
from flopwise.service.errors import CLIENT_ERRORS, FieldError, field_error
from flopwise.service.schemas.curves import ForecastRequest, ScheduleIn
from flopwise.service.schemas.queries import PredictRequest

__all__ = ["forecast_answer", "predict_curve_points", "schedule_of"]


def schedule_of(body: ScheduleIn | None) -> Schedule | None:
    """The request's schedule as ``fitting``'s value (422 at ``schedule.<field>``)."""
    if body is None:
        return None
    try:
        return body.to_schedule()
    except ArgumentError as exc:
        field = exc.name.removeprefix("schedule.")
        raise FieldError(("body", "schedule", field), f"{field}: {exc.message}") from None


def predict_curve_points(law: Law, req: PredictRequest) -> list[dict[str, Any]] | None:
    """The predicted curve up to ``tokens`` when the request asks for it."""
    if not req.curve:
        return None
    if not law_form(law).reads_schedule:
        raise FieldError(("body", "curve"), f"curve: law {law.id} ({law.form}) has no loss curve")
    schedule = schedule_of(req.schedule)
    if schedule is None or req.params is None:
        missing = "schedule" if schedule is None else "params"
        raise FieldError(("body", missing), f"{missing}: a predicted curve needs it")
    try:
        return predict_curve(
            law, params=req.params, schedule=schedule, total_tokens=req.tokens, level=req.level
        )
    except CLIENT_ERRORS as exc:
        raise field_error(exc, PredictRequest.model_fields) from None


def forecast_answer(
    law: Law,
    req: ForecastRequest,
    *,
    params: float | None,
    schedule: Schedule | None,
    checkpoints: Sequence[tuple[float, float]],
    run: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The forecast of a run of ``params`` under ``schedule`` with its logged
    ``(tokens, loss)`` checkpoints (the request's own fields take precedence: the API
    fills the rest from the stored run, the CLI from a file)."""
    params = req.params if req.params is not None else params
    chosen = schedule_of(req.schedule) or schedule
    if params is None or chosen is None:
        missing = "params" if params is None else "schedule"
        raise FieldError(("body", missing), f"{missing}: the run has none stored; give it")
    if req.observations is not None:
        checkpoints = [(o.tokens, o.loss) for o in req.observations]
    points = np.asarray(checkpoints, dtype=float).reshape(-1, 2)
    try:
        answer = forecast(
            law, params=params, schedule=chosen, tokens=points[:, 0], loss=points[:, 1],
            level=req.level, curve=req.curve,
        )  # fmt: skip
    except CLIENT_ERRORS as exc:
        aliases = {
            "tokens": "observations",
            "loss": "observations",
            "total_tokens": "schedule.total_tokens",
        }
        raise field_error(exc, ForecastRequest.model_fields, aliases=aliases) from None
    out = answer.to_dict()
    out["dataset"], out["run"] = run if run is not None else (None, None)
    return out

"""Every endpoint of the HTTP API as a flow (:mod:`flopwise.client.flow`): what to
send and how to read the answer, written once for the synchronous and the
asynchronous client."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from flopwise.client.errors import JobTimeout
from flopwise.client.flow import Call, Flow, Sleep, one
from flopwise.client.requests import body
from flopwise.client.types import (
    Accepted,
    Deleted,
    Exclusion,
    Health,
    Ingested,
    Job,
    LawSummary,
    RunsPage,
    ServiceAllocation,
    ServiceFrontier,
    ServiceOverspend,
    read,
)
from flopwise.fitting.catalogue import BUILTIN_LAWS
from flopwise.fitting.checks import known_fields
from flopwise.fitting.forms import checked
from flopwise.fitting.laws import Law, from_dict
from flopwise.fitting.prediction import Prediction
from flopwise.fitting.throughput.model import ThroughputModel
from flopwise.fitting.throughput.model import from_dict as throughput_from_dict
from flopwise.protocol.sweep import SweepRequest

__all__ = [
    "MAX_PREDICT_BATCH",
    "RUNS_BATCH",
    "allocate",
    "calibrate",
    "fit",
    "frontier",
    "healthz",
    "job",
    "job_cancel",
    "job_wait",
    "jobs",
    "law",
    "law_plot",
    "laws",
    "overspend",
    "predict",
    "predict_many",
    "runs_list",
    "runs_post",
    "throughput",
    "throughputs",
]

MAX_PREDICT_BATCH = 10_000
"""Points one ``POST /v1/predict`` takes; longer lists go in several requests."""
RUNS_BATCH = 500
"""Runs per ``POST /v1/runs`` request unless told otherwise."""


def _segment(ref: str) -> str:
    """A law, model or job reference as one path segment."""
    return quote(ref, safe="@")


def healthz() -> Flow[Health]:
    return one(Call("GET", "/healthz", lambda r: Health.from_answer(r.json())))


def allocate(flops: float | None, args: Mapping[str, Any]) -> Flow[ServiceAllocation]:
    request = body({"flops": flops, **args})
    return one(
        Call(
            "POST", "/v1/allocate", lambda r: ServiceAllocation.from_answer(r.json()), json=request
        )
    )


def predict(args: Mapping[str, Any]) -> Flow[Prediction]:
    return one(
        Call("POST", "/v1/predict", lambda r: Prediction.from_dict(r.json()), json=body(args))
    )


def _predictions(response: httpx.Response) -> list[Prediction]:
    return [Prediction.from_dict(p) for p in response.json()]


def predict_many(points: Iterable[Mapping[str, Any]]) -> Flow[list[Prediction]]:
    """Many points, in order: ``MAX_PREDICT_BATCH`` a request."""
    items = [body(p) for p in points]
    out: list[Prediction] = []
    for start in range(0, len(items), MAX_PREDICT_BATCH):
        chunk = items[start : start + MAX_PREDICT_BATCH]
        out.extend((yield Call("POST", "/v1/predict", _predictions, json=chunk)))
    return out


def frontier(args: Mapping[str, Any]) -> Flow[ServiceFrontier]:
    return one(
        Call(
            "POST", "/v1/frontier", lambda r: ServiceFrontier.from_answer(r.json()), json=body(args)
        )
    )


def overspend(args: Mapping[str, Any]) -> Flow[ServiceOverspend]:
    return one(
        Call(
            "POST",
            "/v1/overspend",
            lambda r: ServiceOverspend.from_answer(r.json()),
            json=body(args),
        )
    )


def laws() -> Flow[list[LawSummary]]:
    return one(
        Call(
            "GET",
            "/v1/laws",
            lambda r: [LawSummary(**known_fields(LawSummary, d)) for d in r.json()["data"]],
        )
    )


def _law(response: httpx.Response) -> Law:
    """The law an answer describes, checked by its form; a built-in law the local
    catalogue holds at the same version and constants is that law, with the bootstrap
    draws and tables the API does not send."""
    data = response.json()
    local = BUILTIN_LAWS.get(data["id"])
    same = local is not None and (local.version, dict(local.constants)) == (
        data["version"],
        data["constants"],
    )
    if data.get("builtin") and local is not None and same:
        return local
    return checked(from_dict(known_fields(Law, data)))


def law(ref: str) -> Flow[Law]:
    return one(Call("GET", f"/v1/laws/{_segment(ref)}", _law))


def law_plot(ref: str) -> Flow[bytes]:
    return one(Call("GET", f"/v1/laws/{_segment(ref)}/plot.png", lambda r: r.content))


def _model(data: Mapping[str, Any]) -> ThroughputModel:
    return throughput_from_dict(known_fields(ThroughputModel, data))


def throughputs() -> Flow[list[ThroughputModel]]:
    return one(Call("GET", "/v1/throughput", lambda r: [_model(d) for d in r.json()["data"]]))


def throughput(ref: str) -> Flow[ThroughputModel]:
    return one(Call("GET", f"/v1/throughput/{_segment(ref)}", lambda r: _model(r.json())))


def ingested(response: httpx.Response) -> Ingested:
    return Ingested(**known_fields(Ingested, response.json()))


def runs_post(
    runs: Iterable[Mapping[str, Any]], *, refit: bool = True, batch_size: int = RUNS_BATCH
) -> Flow[Ingested]:
    """Send ``runs`` in batches of ``batch_size``, each stored in one transaction;
    the batches' counts summed. Safe to repeat: ingestion is idempotent on (dataset,
    run, tokens), so a resent run counts as a duplicate and is stored once."""
    if batch_size < 1:
        raise ValueError(f"batch_size: at least 1, got {batch_size}")
    records = [dict(r) for r in runs]
    total = Ingested()
    for start in range(0, len(records), batch_size):
        batch = {"runs": records[start : start + batch_size], "refit": refit}
        total += yield Call("POST", "/v1/runs", ingested, json=batch)
    return total


def runs_list(
    dataset: str | None = None, run: str | None = None, offset: int = 0, limit: int = 100
) -> Flow[RunsPage]:
    params = {"dataset": dataset, "run": run, "offset": offset, "limit": limit}
    return one(Call("GET", "/v1/runs", lambda r: RunsPage.from_answer(r.json()), params=params))


def runs_exclude(dataset: str, run: str, reason: str) -> Flow[Exclusion]:
    path = f"/v1/runs/{_segment(dataset)}/{_segment(run)}/exclude"
    return one(Call("POST", path, lambda r: read(Exclusion, r.json()), json={"reason": reason}))


def runs_restore(dataset: str, run: str) -> Flow[Exclusion]:
    path = f"/v1/runs/{_segment(dataset)}/{_segment(run)}/restore"
    return one(Call("POST", path, lambda r: read(Exclusion, r.json())))


def runs_delete(dataset: str, run: str) -> Flow[Deleted]:
    path = f"/v1/runs/{_segment(dataset)}/{_segment(run)}"
    return one(Call("DELETE", path, lambda r: read(Deleted, r.json()), idempotent=False))


def runs_exclusions(dataset: str) -> Flow[list[Exclusion]]:
    path = f"/v1/exclusions/{_segment(dataset)}"
    return one(Call("GET", path, lambda r: [read(Exclusion, x) for x in r.json()["data"]]))


def fit(
    dataset: str,
    form: str = "chinchilla",
    method: str = "approach3",
    options: Mapping[str, Any] | None = None,
) -> Flow[Accepted]:
    request = {"dataset": dataset, "form": form, "method": method, "options": dict(options or {})}
    return one(
        Call(
            "POST", "/v1/fits", lambda r: Accepted(**known_fields(Accepted, r.json())), json=request
        )
    )


def calibrate(sweep: SweepRequest | Mapping[str, Any]) -> Flow[Accepted]:
    """Never resent once it may have reached the service: a second sweep costs compute."""
    request = sweep.model_dump(mode="json") if isinstance(sweep, SweepRequest) else body(sweep)
    return one(
        Call(
            "POST",
            "/v1/calibrations",
            lambda r: Accepted(**known_fields(Accepted, r.json())),
            json=request,
            idempotent=False,
        )
    )


def _job(data: Mapping[str, Any]) -> Job:
    return Job(**known_fields(Job, data))


def job_id(ref: str | Accepted | Job) -> str:
    if isinstance(ref, Accepted):
        return ref.job_id
    return ref.id if isinstance(ref, Job) else ref


def job(ref: str | Accepted | Job) -> Flow[Job]:
    return one(Call("GET", f"/v1/jobs/{_segment(job_id(ref))}", lambda r: _job(r.json())))


def jobs(status: str | None = None, kind: str | None = None, limit: int = 100) -> Flow[list[Job]]:
    params = {"status": status, "kind": kind, "limit": limit}
    return one(
        Call("GET", "/v1/jobs", lambda r: [_job(d) for d in r.json()["data"]], params=params)
    )


def job_cancel(ref: str | Accepted | Job) -> Flow[Job]:
    path = f"/v1/jobs/{_segment(job_id(ref))}/cancel"
    return one(Call("POST", path, lambda r: _job(r.json()), idempotent=False))


def job_wait(ref: str | Accepted | Job, timeout: float = 600.0, poll: float = 0.5) -> Flow[Job]:
    """Poll the job every ``poll`` seconds until it has ended (succeeded, failed or
    cancelled); :class:`JobTimeout` after ``timeout`` seconds. Once a fit's job says it
    succeeded, the server that said so answers with the version it published."""
    deadline = time.monotonic() + timeout
    while True:
        state: Job = yield from job(ref)
        if state.done:
            return state
        left = deadline - time.monotonic()
        if left <= 0:
            raise JobTimeout(f"job {state.id}: still {state.status} after {timeout:g} s", state)
        yield Sleep(min(poll, left))

""":class:`Client`: the HTTP API from Python, one request at a time.

from flopwise.client import Client

with Client() as flopwise:                     # FLOPWISE_URL, FLOPWISE_API_KEY
    plan = flopwise.allocate(5.76e23, law="epoch-2024")
    plan.params, plan.shape.width, plan.loss_interval   # a fitting Allocation
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, Unpack

import httpx

from flopwise.client import endpoints as api
from flopwise.client import types as t
from flopwise.client.flow import Done, Flow, Sleep, advance, retried
from flopwise.client.requests import (
    AllocateArgs,
    FrontierArgs,
    OverspendArgs,
    PredictArgs,
)
from flopwise.client.retry import RetryPolicy
from flopwise.client.settings import DEFAULT_TIMEOUT, connection
from flopwise.client.upload import Progress, UploadReport, upload
from flopwise.fitting.laws import Law
from flopwise.fitting.prediction import Prediction
from flopwise.fitting.throughput.model import ThroughputModel
from flopwise.protocol.sweep import SweepRequest

__all__ = ["Client"]

T = TypeVar("T")
JobRef = str | t.Accepted | t.Job


class _Part:
    def __init__(self, client: Client) -> None:
        self._run = client.run


class Laws(_Part):
    """``/v1/laws``."""

    def list(self) -> list[t.LawSummary]:
        """Every built-in law and the latest version of every fitted one."""
        return self._run(api.laws())

    def get(self, ref: str) -> Law:
        """One law (``id`` or ``id@version``), checked by its form."""
        return self._run(api.law(ref))

    def plot(self, ref: str) -> bytes:
        """The law against the runs it was fitted on, as PNG bytes."""
        return self._run(api.law_plot(ref))


class Throughputs(_Part):
    """``/v1/throughput``."""

    def list(self) -> list[ThroughputModel]:
        return self._run(api.throughputs())

    def get(self, ref: str) -> ThroughputModel:
        return self._run(api.throughput(ref))


class Runs(_Part):
    """``/v1/runs``."""

    def post(
        self,
        runs: Iterable[Mapping[str, Any]],
        *,
        refit: bool = True,
        batch_size: int = api.RUNS_BATCH,
    ) -> t.Ingested:
        """Store observations (:class:`~flopwise.client.requests.RunRecord`), in
        batches; idempotent on (dataset, run, tokens)."""
        return self._run(api.runs_post(runs, refit=refit, batch_size=batch_size))

    def list(
        self,
        dataset: str | None = None,
        *,
        run: str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> t.RunsPage:
        return self._run(api.runs_list(dataset, run, offset, limit))

    def exclude(self, dataset: str, run: str, reason: str) -> t.Exclusion:
        """Leave a run out of its dataset's fits (a refit is queued)."""
        return self._run(api.runs_exclude(dataset, run, reason))

    def restore(self, dataset: str, run: str) -> t.Exclusion:
        """Take an excluded run back into its dataset's fits (a refit is queued)."""
        return self._run(api.runs_restore(dataset, run))

    def delete(self, dataset: str, run: str) -> t.Deleted:
        """Delete every observation of a run, for good (a refit is queued)."""
        return self._run(api.runs_delete(dataset, run))

    def exclusions(self, dataset: str) -> builtins.list[t.Exclusion]:
        """Every exclusion of a dataset's runs, lifted ones and deletions included."""
        return self._run(api.runs_exclusions(dataset))

    def upload(
        self,
        path: str | Path,
        *,
        dataset: str | None = None,
        columns: Mapping[str, str | None] | None = None,
        batch_size: int = api.RUNS_BATCH,
        refit: bool = True,
        skip_stored: bool = True,
        progress: Progress | None = None,
        metrics: Sequence[str] = (),
    ) -> UploadReport:
        """Send a CSV or JSON-lines file of runs (:mod:`flopwise.client.upload`)."""
        flow = upload(
            path,
            dataset=dataset,
            columns=columns,
            batch_size=batch_size,
            refit=refit,
            skip_stored=skip_stored,
            progress=progress,
            metrics=metrics,
        )
        return self._run(flow)


class Jobs(_Part):
    """``/v1/jobs``."""

    def get(self, job: JobRef) -> t.Job:
        return self._run(api.job(job))

    def list(
        self, *, status: str | None = None, kind: str | None = None, limit: int = 100
    ) -> list[t.Job]:
        return self._run(api.jobs(status, kind, limit))

    def cancel(self, job: JobRef) -> t.Job:
        return self._run(api.job_cancel(job))

    def wait(self, job: JobRef, *, timeout: float = 600.0, poll: float = 0.5) -> t.Job:
        """The job once it has ended; :class:`~flopwise.client.errors.JobTimeout`
        after ``timeout`` seconds."""
        return self._run(api.job_wait(job, timeout, poll))


class Client:
    """The flopwise HTTP API (see the package docstring for the arguments)."""

    def __init__(
        self,
        url: str | None = None,
        *,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        base, headers = connection(url, api_key)
        self.url = base
        self.retry = retry or RetryPolicy()
        self._http = httpx.Client(
            base_url=base, headers=headers, timeout=timeout, transport=transport
        )
        self.laws = Laws(self)
        self.throughput = Throughputs(self)
        self.runs = Runs(self)
        self.jobs = Jobs(self)

    def run(self, flow: Flow[T]) -> T:
        """Drive one operation (:mod:`flopwise.client.flow`) with this client's I/O."""
        low = retried(flow, self.retry)
        step = advance(low)
        while not isinstance(step, Done):
            value, error = None, None
            try:
                if isinstance(step, Sleep):
                    time.sleep(step.seconds)
                else:
                    value = self._http.request(**step.call.send_args())
            except httpx.RequestError as exc:
                error = exc
            step = advance(low, value, error)
        result: T = step.value
        return result

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def healthz(self) -> t.Health:
        return self.run(api.healthz())

    def allocate(
        self, flops: float | None = None, /, **request: Unpack[AllocateArgs]
    ) -> t.ServiceAllocation:
        """The compute-optimal plan for a budget (``POST /v1/allocate``)."""
        return self.run(api.allocate(flops, request))

    def predict(self, **point: Unpack[PredictArgs]) -> Prediction:
        """Predicted loss at one point (``POST /v1/predict``)."""
        return self.run(api.predict(point))

    def predict_many(self, points: Iterable[PredictArgs]) -> list[Prediction]:
        """Predicted losses at many points, in order (10,000 a request)."""
        return self.run(api.predict_many(points))

    def frontier(self, **request: Unpack[FrontierArgs]) -> t.ServiceFrontier:
        """The compute-optimal path over budgets (``POST /v1/frontier``)."""
        return self.run(api.frontier(request))

    def overspend(self, **request: Unpack[OverspendArgs]) -> t.ServiceOverspend:
        """A shape's extra FLOPs and GPU-hours to reach a loss (``POST /v1/overspend``)."""
        return self.run(api.overspend(request))

    def fit(
        self,
        dataset: str,
        *,
        form: str = "chinchilla",
        method: str = "approach3",
        options: Mapping[str, Any] | None = None,
    ) -> t.Accepted:
        """Queue a fit of a dataset's stored runs (``POST /v1/fits``)."""
        return self.run(api.fit(dataset, form, method, options))

    def calibrate(self, sweep: SweepRequest | Mapping[str, Any]) -> t.Accepted:
        """Launch a calibration sweep (``POST /v1/calibrations``)."""
        return self.run(api.calibrate(sweep))

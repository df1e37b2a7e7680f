""":class:`AsyncClient`: :class:`~flopwise.client.Client` for asyncio, method for
method the same (each a coroutine), driven by the same flows.

    async with AsyncClient() as flopwise:
        plans = await asyncio.gather(*(flopwise.allocate(c) for c in (1e21, 1e22, 1e23)))
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, Unpack

import httpx

from flopwise.client import endpoints as api
from flopwise.client import types as t
from flopwise.client.flow import Done, Flow, Sleep, advance, retried
from flopwise.client.requests import AllocateArgs, FrontierArgs, OverspendArgs, PredictArgs
from flopwise.client.retry import RetryPolicy
from flopwise.client.settings import DEFAULT_TIMEOUT, connection
from flopwise.client.upload import Progress, UploadReport, upload
from flopwise.fitting.laws import Law
from flopwise.fitting.prediction import Prediction
from flopwise.fitting.throughput.model import ThroughputModel
from flopwise.protocol.sweep import SweepRequest

__all__ = ["AsyncClient"]

T = TypeVar("T")
JobRef = str | t.Accepted | t.Job


class _Part:
    def __init__(self, client: AsyncClient) -> None:
        self._run = client.run


class AsyncLaws(_Part):
    """``/v1/laws``."""

    async def list(self) -> list[t.LawSummary]:
        return await self._run(api.laws())

    async def get(self, ref: str) -> Law:
        return await self._run(api.law(ref))

    async def plot(self, ref: str) -> bytes:
        return await self._run(api.law_plot(ref))


class AsyncThroughputs(_Part):
    """``/v1/throughput``."""

    async def list(self) -> list[ThroughputModel]:
        return await self._run(api.throughputs())

    async def get(self, ref: str) -> ThroughputModel:
        return await self._run(api.throughput(ref))


class AsyncRuns(_Part):
    """``/v1/runs``."""

    async def post(
        self,
        runs: Iterable[Mapping[str, Any]],
        *,
        refit: bool = True,
        batch_size: int = api.RUNS_BATCH,
    ) -> t.Ingested:
        return await self._run(api.runs_post(runs, refit=refit, batch_size=batch_size))

    async def list(
        self,
        dataset: str | None = None,
        *,
        run: str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> t.RunsPage:
        return await self._run(api.runs_list(dataset, run, offset, limit))

    async def exclude(self, dataset: str, run: str, reason: str) -> t.Exclusion:
        """Leave a run out of its dataset's fits (a refit is queued)."""
        return await self._run(api.runs_exclude(dataset, run, reason))

    async def restore(self, dataset: str, run: str) -> t.Exclusion:
        """Take an excluded run back into its dataset's fits (a refit is queued)."""
        return await self._run(api.runs_restore(dataset, run))

    async def delete(self, dataset: str, run: str) -> t.Deleted:
        """Delete every observation of a run, for good (a refit is queued)."""
        return await self._run(api.runs_delete(dataset, run))

    async def exclusions(self, dataset: str) -> builtins.list[t.Exclusion]:
        """Every exclusion of a dataset's runs, lifted ones and deletions included."""
        return await self._run(api.runs_exclusions(dataset))

    async def upload(
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
        return await self._run(flow)


class AsyncJobs(_Part):
    """``/v1/jobs``."""

    async def get(self, job: JobRef) -> t.Job:
        return await self._run(api.job(job))

    async def list(
        self, *, status: str | None = None, kind: str | None = None, limit: int = 100
    ) -> list[t.Job]:
        return await self._run(api.jobs(status, kind, limit))

    async def cancel(self, job: JobRef) -> t.Job:
        return await self._run(api.job_cancel(job))

    async def wait(self, job: JobRef, *, timeout: float = 600.0, poll: float = 0.5) -> t.Job:
        return await self._run(api.job_wait(job, timeout, poll))


class AsyncClient:
    """The flopwise HTTP API for asyncio (arguments as :class:`~flopwise.client.Client`)."""

    def __init__(
        self,
        url: str | None = None,
        *,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        base, headers = connection(url, api_key)
        self.url = base
        self.retry = retry or RetryPolicy()
        self._http = httpx.AsyncClient(
            base_url=base, headers=headers, timeout=timeout, transport=transport
        )
        self.laws = AsyncLaws(self)
        self.throughput = AsyncThroughputs(self)
        self.runs = AsyncRuns(self)
        self.jobs = AsyncJobs(self)

    async def run(self, flow: Flow[T]) -> T:
        """Drive one operation (:mod:`flopwise.client.flow`) with this client's I/O."""
        low = retried(flow, self.retry)
        step = advance(low)
        while not isinstance(step, Done):
            value, error = None, None
            try:
                if isinstance(step, Sleep):
                    await asyncio.sleep(step.seconds)
                else:
                    value = await self._http.request(**step.call.send_args())
            except httpx.RequestError as exc:
                error = exc
            step = advance(low, value, error)
        result: T = step.value
        return result

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def healthz(self) -> t.Health:
        return await self.run(api.healthz())

    async def allocate(
        self, flops: float | None = None, /, **request: Unpack[AllocateArgs]
    ) -> t.ServiceAllocation:
        return await self.run(api.allocate(flops, request))

    async def predict(self, **point: Unpack[PredictArgs]) -> Prediction:
        return await self.run(api.predict(point))

    async def predict_many(self, points: Iterable[PredictArgs]) -> list[Prediction]:
        return await self.run(api.predict_many(points))

    async def frontier(self, **request: Unpack[FrontierArgs]) -> t.ServiceFrontier:
        return await self.run(api.frontier(request))

    async def overspend(self, **request: Unpack[OverspendArgs]) -> t.ServiceOverspend:
        return await self.run(api.overspend(request))

    async def fit(
        self,
        dataset: str,
        *,
        form: str = "chinchilla",
        method: str = "approach3",
        options: Mapping[str, Any] | None = None,
    ) -> t.Accepted:
        return await self.run(api.fit(dataset, form, method, options))

    async def calibrate(self, sweep: SweepRequest | Mapping[str, Any]) -> t.Accepted:
        return await self.run(api.calibrate(sweep))

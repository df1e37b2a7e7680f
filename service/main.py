"""Build the app: ``create_app(settings)``. Nothing else happens here.

On start-up the app opens (and migrates) the store, loads published laws, starts
the law poller and ``settings.workers`` in-process job workers; on shutdown it stops
them. ``uvicorn --factory service.main:create_app`` serves it; so does ``flopwise serve``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from flopwise.service.answers import Answers
from flopwise.service.api.deps import Services, document_security
from flopwise.service.api.middleware import (
    AllowMiddleware,
    BodyLimitMiddleware,
    HostMiddleware,
    MetricsMiddleware,
    loopback_hosts,
)
from flopwise.service.api.routes import (
    calibrations,
    forecasts,
    health,
    hyperparams,
    jobs,
    laws,
    overspend,
    queries,
    run_edits,
    runs,
    throughput,
)
from flopwise.service.api.routes import planner as planner_page
from flopwise.service.config import Settings
from flopwise.service.errors import FieldError
from flopwise.service.executor import Busy, Executor
from flopwise.service.jobs.calibration import run_calibration
from flopwise.service.jobs.refit import refit
from flopwise.service.jobs.worker import Worker
from flopwise.service.metrics import Metrics
from flopwise.service.registry import Poller, Refreshable, Registries
from flopwise.service.store import jobs as queue
from flopwise.service.store.db import Database, open_database

__all__ = ["create_app", "start_workers"]

log = logging.getLogger(__name__)


def start_workers(
    db: Database,
    settings: Settings,
    *,
    refits: int,
    calibrations: int,
    metrics: Metrics | None,
    registry: Refreshable,
) -> list[Worker]:
    """Start worker threads: ``refits`` for refit jobs, ``calibrations`` for sweeps;
    ``registry`` (this process's :class:`Registries`) is refreshed after each publication.

    Kinds get their own workers: a sweep runs for hours and posts runs whose refit
    must not wait behind it (the trainer may be waiting for that law).
    """
    kinds = [{"refit": refit}] * refits + [{"calibration": run_calibration}] * calibrations
    workers = [
        Worker(db, settings, handlers, metrics=metrics, on_publish=registry.refresh)
        for handlers in kinds
    ]
    for worker in workers:
        worker.start()
    return workers


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    db = open_database(settings.sqlalchemy_url)
    registries = Registries.open(db)
    metrics: Metrics = app.state.metrics
    executor = Executor(
        threads=settings.answer_threads,
        max_pending=settings.answer_queue,
        deadline_seconds=settings.query_deadline_seconds,
    )
    answers = Answers(registries.laws, throughput=registries.throughput, executor=executor)
    services = Services(
        settings=settings, db=db, registries=registries, metrics=metrics, answers=answers
    )
    services.poller = Poller(registries, settings.law_poll_seconds)
    services.poller.start()
    app.state.services = services
    if app.state.start_workers:
        services.workers = start_workers(
            db,
            settings,
            refits=settings.workers,
            calibrations=settings.calibration_workers,
            metrics=metrics,
            registry=registries,
        )
    try:
        yield
    finally:
        for worker in services.workers:
            worker.stopping.set()
        for worker in services.workers:
            worker.stop()
        services.poller.stop()
        answers.close()
        db.dispose()


async def _field_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FieldError)
    detail = [{"loc": list(exc.loc), "msg": exc.message, "type": "value_error"}]
    return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail = [
        {
            "loc": list(e.get("loc", ())),
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors()
    ]
    return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


async def _busy(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Busy)
    headers = {"Retry-After": str(exc.retry_after)}
    return JSONResponse({"detail": str(exc)}, status_code=503, headers=headers)


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return JSONResponse({"detail": "internal error"}, status_code=500)


def _queue_depth(app: FastAPI) -> dict[tuple[str, str], int]:
    services: Services | None = getattr(app.state, "services", None)
    return {} if services is None else queue.queue_depth(services.db)


def create_app(settings: Settings | None = None, *, start_workers: bool = True) -> FastAPI:
    """The flopwise API. ``start_workers=False`` serves the API without in-process workers."""
    settings = settings or Settings()
    app = FastAPI(
        title="flopwise",
        summary="Given this compute, what should I train?",
        version="0.1.0",
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.start_workers = start_workers
    app.state.metrics = Metrics(queue_depth=partial(_queue_depth, app))
    routers = (
        queries, laws, runs, run_edits, forecasts, jobs, calibrations, health, throughput,
        overspend,
    )  # fmt: skip
    for module in routers:
        app.include_router(module.router)
    app.include_router(hyperparams.router)  # POST /v1/hyperparams
    app.include_router(planner_page.router)  # GET / and /planner: the planner page
    document_security(app, settings)
    app.add_exception_handler(FieldError, _field_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Busy, _busy)
    app.add_exception_handler(Exception, _unexpected)
    # the last added runs first: metrics see every request, refused bodies included
    app.add_middleware(
        BodyLimitMiddleware, limit=settings.max_body_bytes, timeout=settings.body_timeout_seconds
    )
    app.add_middleware(AllowMiddleware)
    app.add_middleware(
        HostMiddleware,
        allowed=loopback_hosts(settings.host, tuple(settings.allowed_hosts)),
    )
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    return app

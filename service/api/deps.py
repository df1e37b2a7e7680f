"""Dependencies as ``Annotated`` aliases (``SettingsDep``, ``DatabaseDep``, ``RegistryDep``...).

``require_writer`` guards every write endpoint when ``FLOPWISE_API_KEY`` is set: the
request needs ``Authorization: Bearer <key>``, compared in constant time as UTF-8 bytes
(HTTP hands header values over as latin-1, so any UTF-8 key matches). ``require_reader``
does the same for reads when ``FLOPWISE_PROTECT_READS`` is set.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status

from flopwise.service.answers import Answers
from flopwise.service.config import Settings
from flopwise.service.jobs.worker import Worker
from flopwise.service.metrics import Metrics
from flopwise.service.registry import LawPoller, LawRegistry
from flopwise.service.store.db import Database

__all__ = [
    "AnswersDep",
    "DatabaseDep",
    "MetricsDep",
    "RegistryDep",
    "Services",
    "SettingsDep",
    "require_reader",
    "require_writer",
]


@dataclass
class Services:
    """What one app instance holds for its lifetime."""

    settings: Settings
    db: Database
    registry: LawRegistry
    metrics: Metrics
    answers: Answers
    poller: LawPoller | None = None
    workers: list[Worker] = field(default_factory=list)


# The dependencies below are ``async``: each is a lookup or a header check with no
# I/O, so FastAPI runs it on the event loop; a plain ``def`` costs a thread-pool hop per
# dependency per request (measured: /v1/allocate 0.5x /healthz under wrk before).


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_settings(request: Request) -> Settings:
    return get_services(request).settings


async def get_db(request: Request) -> Database:
    return get_services(request).db


async def get_registry(request: Request) -> LawRegistry:
    return get_services(request).registry


async def get_metrics(request: Request) -> Metrics:
    return get_services(request).metrics


async def get_answers(request: Request) -> Answers:
    return get_services(request).answers


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_db)]
RegistryDep = Annotated[LawRegistry, Depends(get_registry)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
AnswersDep = Annotated[Answers, Depends(get_answers)]


def _authorised(key: str, authorization: str | None) -> bool:
    scheme, _, token = (authorization or "").partition(" ")
    try:
        raw = token.strip().encode("latin-1")  # the bytes the client sent
    except UnicodeEncodeError:
        return False
    return scheme.lower() == "bearer" and hmac.compare_digest(raw, key.encode("utf-8"))


async def require_writer(
    settings: SettingsDep, authorization: Annotated[str | None, Header()] = None
) -> None:
    """Refuse a write without the configured bearer token (no key configured: open)."""
    key = settings.api_key
    if key and not _authorised(key, authorization):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="write endpoints need Authorization: Bearer <FLOPWISE_API_KEY>",
            headers={"WWW-Authenticate": "Bearer"},
        )


async def require_reader(
    settings: SettingsDep, authorization: Annotated[str | None, Header()] = None
) -> None:
    """Refuse a read without the bearer token when reads are protected."""
    key = settings.api_key
    if key and settings.protect_reads and not _authorised(key, authorization):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="FLOPWISE_PROTECT_READS is set: reads need Authorization: Bearer <key>",
            headers={"WWW-Authenticate": "Bearer"},
        )

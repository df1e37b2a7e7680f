"""Dependencies as ``Annotated`` aliases (``SettingsDep``, ``DatabaseDep``, ``RegistryDep``...).

``require_writer`` guards every write endpoint when ``FLOPWISE_API_KEY`` is set: the
request needs ``Authorization: Bearer <key>``, compared in constant time as UTF-8 bytes
(HTTP hands header values over as latin-1, so any UTF-8 key matches). ``require_reader``
does the same for reads when ``FLOPWISE_PROTECT_READS`` is set.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.security import HTTPBearer
from starlette.requests import HTTPConnection

from flopwise.service.answers import Answers
from flopwise.service.config import Settings
from flopwise.service.jobs.worker import Worker
from flopwise.service.metrics import Metrics
from flopwise.service.registry import LawRegistry, Poller, Registries, ThroughputRegistry
from flopwise.service.store.db import Database
from flopwise.service.store.published import Versioned
from flopwise.service.store.registry import Registry

__all__ = [
    "AnswersDep",
    "DatabaseDep",
    "MetricsDep",
    "RegistriesDep",
    "RegistryDep",
    "Services",
    "SettingsDep",
    "ThroughputDep",
    "document_security",
    "may_read_details",
    "may_write",
    "require_reader",
    "require_writer",
    "resolve_or_404",
]


@dataclass
class Services:
    """What one app instance holds for its lifetime."""

    settings: Settings
    db: Database
    registries: Registries
    metrics: Metrics
    answers: Answers
    poller: Poller | None = None
    workers: list[Worker] = field(default_factory=list)


# The dependencies below are ``async``: each is a lookup or a header check with no
# I/O, so FastAPI runs it on the event loop; a plain ``def`` costs a thread-pool hop per
# dependency per request (measured: /v1/allocate 0.5x /healthz under wrk before).


def get_services(request: HTTPConnection) -> Services:
    services: Services = request.app.state.services
    return services


async def get_settings(request: Request) -> Settings:
    return get_services(request).settings


async def get_db(request: Request) -> Database:
    return get_services(request).db


async def get_registries(request: Request) -> Registries:
    return get_services(request).registries


async def get_registry(request: Request) -> LawRegistry:
    return get_services(request).registries.laws


async def get_throughput(request: Request) -> ThroughputRegistry:
    return get_services(request).registries.throughput


async def get_metrics(request: Request) -> Metrics:
    return get_services(request).metrics


async def get_answers(request: Request) -> Answers:
    return get_services(request).answers


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_db)]
RegistriesDep = Annotated[Registries, Depends(get_registries)]
RegistryDep = Annotated[LawRegistry, Depends(get_registry)]
"""The law registry."""
ThroughputDep = Annotated[ThroughputRegistry, Depends(get_throughput)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
AnswersDep = Annotated[Answers, Depends(get_answers)]


T = TypeVar("T", bound=Versioned)


def resolve_or_404(registry: Registry[T], ref: str) -> T:
    """What ``ref`` names in ``registry``; a 404 saying why for a reference that is
    malformed or names nothing (a path names a resource)."""
    try:
        return registry.resolve(ref)
    except registry.kind.unknown as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None


def _authorised(key: str, authorization: str | None) -> bool:
    scheme, _, token = (authorization or "").partition(" ")
    try:
        raw = token.strip().encode("latin-1")  # the bytes the client sent
    except UnicodeEncodeError:
        return False
    return scheme.lower() == "bearer" and hmac.compare_digest(raw, key.encode("utf-8"))


class BearerKey(HTTPBearer):
    """The ``FLOPWISE_API_KEY`` check as one dependency that OpenAPI lists as an HTTP
    bearer security scheme. It reads the settings and the header itself: each
    sub-dependency FastAPI resolves costs about 10 us a request (measured on
    ``/v1/allocate``: four dependencies before, one now)."""

    def __init__(self, *, reads: bool) -> None:
        self.reads = reads
        # one scheme per guard here; document_security folds them into SCHEME
        super().__init__(scheme_name=f"flopwise-{'reads' if reads else 'writes'}", auto_error=False)

    def enforced(self, settings: Settings) -> bool:
        """Whether this guard asks for the key under ``settings``."""
        return bool(settings.api_key) and (not self.reads or settings.protect_reads)

    async def __call__(self, request: HTTPConnection) -> None:
        settings = get_services(request).settings
        if not self.enforced(settings):
            return None
        assert settings.api_key is not None
        if not _authorised(settings.api_key, request.headers.get("authorization")):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail=(
                    "FLOPWISE_PROTECT_READS is set: reads need Authorization: Bearer <key>"
                    if self.reads
                    else "write endpoints need Authorization: Bearer <FLOPWISE_API_KEY>"
                ),
                headers={"WWW-Authenticate": "Bearer"},
            )
        return None


require_writer = BearerKey(reads=False)
"""Refuse a write without the configured bearer token (no key configured: open)."""


def may_write(request: HTTPConnection) -> bool:
    """Whether ``request`` may write: no key is configured, or it carries the key. What
    only writers need to see (a calibration's paths and accounts, a worker's host and
    pid) is shown to such requests alone."""
    settings = get_services(request).settings
    return not settings.api_key or _authorised(
        settings.api_key, request.headers.get("authorization")
    )


def may_read_details(request: HTTPConnection) -> bool:
    """Whether ``request`` may see what reads protect (``/healthz``'s law list): reads
    are open, or it carries the key."""
    settings = get_services(request).settings
    return not require_reader.enforced(settings) or may_write(request)


require_reader = BearerKey(reads=True)
"""Refuse a read without the bearer token when reads are protected."""


SCHEME = "FLOPWISE_API_KEY"
"""The security scheme's name in the OpenAPI document that clients see."""


def document_security(app: FastAPI, settings: Settings) -> None:
    """Make ``app``'s OpenAPI list the bearer scheme on exactly the operations this
    instance guards (none without a key; reads only with ``protect_reads``), so a client
    or a fuzzer generated from it knows which requests need the key. Reads and writes
    are generated under their own scheme names and folded into :data:`SCHEME` once,
    when the document is first generated (FastAPI keeps it in ``app.openapi_schema``)."""
    generate = app.openapi
    enforced = {g.scheme_name: g.enforced(settings) for g in (require_reader, require_writer)}

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {})
        schemes = components.get("securitySchemes", {})
        bearer = next((schemes[n] for n in enforced if n in schemes), None)
        used = False
        for item in schema.get("paths", {}).values():
            for op in (v for v in item.values() if isinstance(v, dict)):
                if any(enforced.get(name, True) for r in op.pop("security", []) for name in r):
                    op["security"] = [{SCHEME: []}]
                    used = True
        for name in enforced:
            schemes.pop(name, None)
        if used and bearer is not None:
            schemes[SCHEME] = {
                **bearer,
                "description": "`Authorization: Bearer <FLOPWISE_API_KEY>` on the operations"
                " that list it: writes when a key is set, reads too with"
                " FLOPWISE_PROTECT_READS",
            }
        if not schemes:
            components.pop("securitySchemes", None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]

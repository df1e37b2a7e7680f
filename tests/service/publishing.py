"""Publishing a version as the workers do, for tests: a fitted law or throughput model
under a new id, inside the caller's transaction, through the one store every kind
shares (``service.store.published``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from sqlalchemy.orm import Session

from flopwise.fitting.catalogue import builtin
from flopwise.fitting.throughput.catalogue import builtin_throughput
from flopwise.service.store.db import open_database
from flopwise.service.store.laws import LAWS
from flopwise.service.store.published import PublishResult, publish
from flopwise.service.store.throughput import THROUGHPUT

__all__ = ["publish_law", "publish_model", "writing"]


@contextmanager
def writing(url: str) -> Iterator[Session]:
    """One write transaction on the store at ``url`` (opened and migrated first)."""
    db = open_database(url)
    try:
        with db.write_session.begin() as session:
            yield session
    finally:
        db.dispose()


def publish_law(
    session: Session,
    law_id: str,
    job_id: str | None = None,
    *,
    snapshot: int | None = None,
    report: dict[str, object] | None = None,
) -> PublishResult:
    """Epoch's law as the next version of ``law_id`` (``<dataset>-chinchilla``)."""
    return publish(
        session,
        LAWS,
        builtin("epoch-2024").evolve(id=law_id),
        dataset=law_id.split("-")[0],
        job_id=job_id,
        report=report,
        labels={"form": "chinchilla", "method": "approach3"},
        snapshot=snapshot,
    )


def publish_model(
    session: Session, model_id: str, job_id: str | None = None, *, efficiency: float | None = None
) -> PublishResult:
    """The H100 model (``matmul_efficiency`` changed if given) as the next version of
    ``model_id`` (``<dataset>-...``)."""
    model = replace(builtin_throughput("h100-default"), id=model_id)
    if efficiency is not None:
        model = replace(model, matmul_efficiency=efficiency)
    return publish(session, THROUGHPUT, model, dataset=model_id.split("-")[0], job_id=job_id)

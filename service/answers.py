"""Queries answered from laws in memory, off the event loop when they are slow.

:class:`Answers` resolves a request's law (and throughput model) in this process's
registries, asks :mod:`service.queries` (the answer path the CLI shares) and caches the
serialised answer per law version. A reference that resolves to nothing is a 422
naming ``law`` (or ``throughput``).
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from cachetools import LRUCache

from flopwise.fitting.laws import Law
from flopwise.fitting.shape import ShapeConstraints, shape_tables_cached
from flopwise.fitting.throughput.model import ThroughputModel
from flopwise.service import queries
from flopwise.service.errors import FieldError
from flopwise.service.registry import LawRegistry, UnknownLaw
from flopwise.service.schemas.queries import AllocateRequest, FrontierRequest, PredictRequest
from flopwise.service.store.throughput import ThroughputRegistry, UnknownThroughput

__all__ = ["AnswerCache", "Answers", "Busy", "resolve_law", "resolve_model"]


def resolve_law(registry: LawRegistry, ref: str, loc: tuple[str, ...] = ("body",)) -> Law:
    """The law under ``ref``; a 422 on ``<loc>.law`` otherwise."""
    try:
        return registry.resolve(ref)
    except UnknownLaw as exc:
        raise FieldError((*loc, "law"), str(exc)) from None


def resolve_model(
    registry: ThroughputRegistry, ref: str, loc: tuple[str, ...] = ("body",)
) -> ThroughputModel:
    """The throughput model under ``ref``; a 422 on ``<loc>.throughput`` otherwise."""
    try:
        return registry.resolve(ref)
    except UnknownThroughput as exc:
        raise FieldError((*loc, "throughput"), str(exc)) from None


class AnswerCache:
    """Serialised answers by (endpoint, law id, law version, request): an answer is a pure
    function of these, so a new law version never meets a stale entry. LRU, bounded in
    the bytes it holds (a cachetools ``LRUCache`` sized by ``len``, under a lock)."""

    def __init__(self, max_bytes: int = 32 * 1024 * 1024) -> None:
        self._items: LRUCache[tuple[str, str, int, str], bytes] = LRUCache(max_bytes, len)
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, int, str]) -> bytes | None:
        with self._lock:
            return self._items.get(key)

    def put(self, key: tuple[str, str, int, str], value: bytes) -> None:
        if len(value) > self._items.maxsize:
            return  # larger than the whole cache: answer it, keep nothing
        with self._lock:
            self._items[key] = value


class Busy(Exception):
    """The server cannot answer within its deadline now (sent as 503 with Retry-After)."""


Query = AllocateRequest | PredictRequest | FrontierRequest


class Answers:
    """The query endpoints' logic: resolve the law, answer (or recall) and serialise.

    An answer whose shape tables are built is a few hundred microseconds of numpy and
    is computed on the event loop. One that must first build tables (a new ``constraints``)
    runs on a small thread pool with a deadline, and at most ``max_pending`` such answers
    wait at once; beyond either the request gets :class:`Busy`. Shape searches are bounded
    in shapes (``fitting.shape.MAX_SHAPES``), so an abandoned one ends soon anyway.
    An allocation naming a ``throughput`` model is answered time-optimally.
    """

    def __init__(
        self,
        registry: LawRegistry,
        cache: AnswerCache | None = None,
        *,
        throughput: ThroughputRegistry | None = None,
        threads: int = 2,
        max_pending: int = 8,
        deadline_seconds: float = 20.0,
    ) -> None:
        self.registry = registry
        self.cache = cache or AnswerCache()
        self.throughput = throughput
        self.deadline_seconds = deadline_seconds
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="flopwise-answer")
        self._slots = threading.BoundedSemaphore(max_pending)
        self._building: dict[tuple[str, ShapeConstraints], Future[bytes]] = {}
        """Shape-table builds in flight, by (law version, constraints): a request that
        needs tables already being built waits for that build instead of starting its
        own (and holds no slot while it waits)."""

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _timed(self, req: Query) -> bool:
        """Whether ``req`` is an allocation to answer time-optimally."""
        return (
            isinstance(req, AllocateRequest)
            and req.throughput is not None
            and (self.throughput is not None)
        )

    def _pin(self, req: Query) -> Query:
        """``req`` with its throughput model pinned to the version answering it."""
        if not self._timed(req):
            return req
        assert isinstance(req, AllocateRequest) and self.throughput is not None
        assert req.throughput is not None
        model = resolve_model(self.throughput, req.throughput)
        return req.model_copy(update={"throughput": model.ref})

    def _resolve(self, ref: str) -> Law:
        """A law this process serves (an MoE plan's law besides the request's own)."""
        return resolve_law(self.registry, ref)

    def _key(self, endpoint: str, req: Query) -> tuple[Law, tuple[str, str, int, str]]:
        law = resolve_law(self.registry, req.law)
        return law, (endpoint, law.id, law.version, req.model_dump_json(exclude={"law"}))

    def _compute(
        self, endpoint: str, req: Query, law: Law, key: tuple[str, str, int, str]
    ) -> bytes:
        answer: dict[str, Any]
        if isinstance(req, AllocateRequest):
            model = None
            if self._timed(req):
                assert self.throughput is not None and req.throughput is not None
                model = resolve_model(self.throughput, req.throughput)
            answer = queries.allocate(law, req, model, self._resolve)
        elif isinstance(req, PredictRequest):
            answer = queries.predict(law, req)
        else:
            answer = queries.frontier(law, req)
        body = queries.to_json(endpoint, answer)
        self.cache.put(key, body)
        return body

    async def answer_async(self, endpoint: str, req: Query) -> bytes:
        """The serialised answer, off the event loop when it must build shape tables."""
        req = self._pin(req)
        law, key = self._key(endpoint, req)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        shape_limits = queries.shape_constraints(getattr(req, "constraints", None))
        if endpoint == "predict" or shape_tables_cached(law, shape_limits):
            return self._compute(endpoint, req, law, key)
        tables = (law.ref, shape_limits)
        building = self._building.get(tables)
        if building is not None:
            await self._wait(building, shared=True)
            return await self.answer_async(endpoint, req)  # the tables are built now
        if not self._slots.acquire(blocking=False):
            raise Busy("too many shape searches in progress; retry shortly")
        try:
            future = self._pool.submit(self._compute, endpoint, req, law, key)
        except RuntimeError:  # shut down
            self._slots.release()
            raise Busy("the server is stopping") from None
        self._building[tables] = future

        def finished(_: Future[bytes]) -> None:
            self._slots.release()  # held until the build ends, even if its client left
            if self._building.get(tables) is future:
                del self._building[tables]

        future.add_done_callback(finished)
        return await self._wait(future, shared=False)

    async def _wait(self, future: Future[bytes], *, shared: bool) -> bytes:
        """``future``'s answer within the deadline (a waiter on another request's build
        ignores that build's own error: its answer is computed afresh)."""
        waiting = asyncio.wrap_future(future)
        try:
            return await asyncio.wait_for(
                asyncio.shield(waiting) if shared else waiting, self.deadline_seconds
            )
        except TimeoutError:
            raise Busy(f"no answer within {self.deadline_seconds:g} s; retry shortly") from None
        except Exception:
            if not shared:
                raise
            return b""

    async def predict_many_async(self, reqs: list[PredictRequest]) -> bytes:
        """Answers to many points through :meth:`answer_async`, as one JSON list in the
        same order (a bad point is a 422 naming its index and field)."""
        parts = []
        for i, req in enumerate(reqs):
            try:
                parts.append(await self.answer_async("predict", req))
            except FieldError as exc:
                raise FieldError((exc.loc[0], i, *exc.loc[1:]), exc.message) from None
        return b"[" + b",".join(parts) + b"]"

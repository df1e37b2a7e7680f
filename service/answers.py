"""Queries answered from laws in memory; the heavy ones through the one bounded pool.

:class:`Answers` resolves a request's law (and throughput model) in this process's
registries, asks :mod:`service.queries` (the answer path the CLI shares) and caches the
serialised answer per law version. A reference that resolves to nothing is a 422
naming ``law`` (or ``throughput``).

What runs where: a single prediction, and a FLOP-optimal dense allocation whose shape
tables are built, are a few hundred microseconds of numpy and are answered on the event
loop. Everything else (prediction lists, frontiers, time-optimal and MoE plans,
allocations that must build tables, overspends and their plots) runs on the
:class:`~service.executor.Executor`, whose bound and deadline make a saturated
server answer 503 with ``Retry-After`` rather than stall.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import replace
from typing import Any

from cachetools import LRUCache

from flopwise.fitting.laws import Law
from flopwise.fitting.shape import shape_tables_cached
from flopwise.fitting.throughput.grid import grid_cached
from flopwise.fitting.throughput.model import ThroughputModel
from flopwise.service import queries
from flopwise.service.errors import FieldError
from flopwise.service.executor import Busy, Executor
from flopwise.service.overspend_plot import PlotQuery, render_overspend
from flopwise.service.registry import LawRegistry, UnknownLaw
from flopwise.service.schemas.queries import AllocateRequest, FrontierRequest, PredictRequest
from flopwise.service.schemas.throughput import OverspendRequest
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


Key = tuple[str, str, int, str]
"""(endpoint, law id, law version, the request as JSON)."""


class AnswerCache:
    """Serialised answers by (endpoint, law id, law version, request): an answer is a pure
    function of these, so a new law version never meets a stale entry. LRU, bounded in
    the bytes it holds (a cachetools ``LRUCache`` sized by ``len``, under a lock)."""

    def __init__(self, max_bytes: int = 32 * 1024 * 1024) -> None:
        self._items: LRUCache[Key, bytes] = LRUCache(max_bytes, len)
        self._lock = threading.Lock()

    def get(self, key: Key) -> bytes | None:
        with self._lock:
            return self._items.get(key)

    def put(self, key: Key, value: bytes) -> None:
        if len(value) > self._items.maxsize:
            return  # larger than the whole cache: answer it, keep nothing
        with self._lock:
            self._items[key] = value


Query = AllocateRequest | PredictRequest | FrontierRequest | OverspendRequest
CHECK_EVERY = 256
"""Points of a prediction list between two looks at its deadline."""


class Answers:
    """The query endpoints' logic: resolve the law, answer (or recall) and serialise, on
    the loop when cheap, else on the executor (module docstring). Requests that need the
    same new tables wait for one build of them, holding no place in the pool meanwhile."""

    def __init__(
        self,
        registry: LawRegistry,
        cache: AnswerCache | None = None,
        *,
        throughput: ThroughputRegistry | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.registry = registry
        self.cache = cache or AnswerCache()
        self.throughput = throughput
        self.executor = executor or Executor()
        self._building: dict[Hashable, asyncio.Future[bytes]] = {}
        """Table builds in flight, by the tables they build."""

    def close(self) -> None:
        self.executor.close()

    def _model(self, req: Query) -> ThroughputModel | None:
        """The throughput model answering ``req``: overspends always, allocations that
        name one."""
        ref = getattr(req, "throughput", None)
        if ref is None or self.throughput is None:
            return None
        return resolve_model(self.throughput, ref)

    def _resolve(self, ref: str) -> Law:
        """A law this process serves (an MoE plan's law besides the request's own)."""
        return resolve_law(self.registry, ref)

    def _key(self, endpoint: str, req: Query) -> tuple[Law, Key]:
        law = resolve_law(self.registry, req.law)
        return law, (endpoint, law.id, law.version, req.model_dump_json(exclude={"law"}))

    def _compute(self, endpoint: str, req: Query, law: Law, key: Key) -> bytes:
        answer: dict[str, Any]
        if isinstance(req, OverspendRequest):
            model = self._model(req)
            assert model is not None
            answer = queries.overspend(law, model, req)
        elif isinstance(req, AllocateRequest):
            answer = queries.allocate(law, req, self._model(req), self._resolve)
        elif isinstance(req, PredictRequest):
            answer = queries.predict(law, req)
        else:
            answer = queries.frontier(law, req)
        body = queries.to_json(endpoint, answer)
        self.cache.put(key, body)
        return body

    def _pin(self, req: Query) -> Query:
        """``req`` with its throughput model pinned to the version answering it."""
        model = self._model(req)
        return req if model is None else req.model_copy(update={"throughput": model.ref})

    def _tables(self, req: Query, law: Law) -> Hashable | None:
        """What ``req`` needs built that is not (``None``: nothing)."""
        if isinstance(req, PredictRequest):
            return None
        limits = queries.shape_constraints(req.constraints)
        model = self._model(req)
        if model is not None and not grid_cached(law, model, limits):
            return ("grid", law.ref, model.ref, limits)
        if not shape_tables_cached(law, limits):
            return ("shapes", law.ref, limits)
        return None

    @staticmethod
    def _cheap(req: Query) -> bool:
        """Answered on the loop once its tables are built: one point, or a FLOP-optimal
        dense allocation (no throughput model, experts or vocabulary to size)."""
        if isinstance(req, PredictRequest):
            return True
        return (
            isinstance(req, AllocateRequest)
            and req.throughput is None
            and req.experts is None
            and req.vocab is None
        )

    async def answer_async(self, endpoint: str, req: Query) -> bytes:
        """The serialised answer: recalled, computed on the loop, or computed on the
        executor (sharing a build of the tables it needs with requests already waiting
        for them)."""
        req = self._pin(req)
        law, key = self._key(endpoint, req)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        tables = self._tables(req, law)
        if tables is None:
            if self._cheap(req):
                return self._compute(endpoint, req, law, key)
            return await self.executor.run(self._compute, endpoint, req, law, key)
        building = self._building.get(tables)
        if building is not None:
            await self._share(building)
            return await self.answer_async(endpoint, req)  # the tables are built now
        build = asyncio.ensure_future(self.executor.run(self._compute, endpoint, req, law, key))
        self._building[tables] = build

        def finished(done: asyncio.Future[bytes]) -> None:
            self._building.pop(tables, None)
            if not done.cancelled():
                done.exception()  # retrieved: a builder whose client left logs nothing

        build.add_done_callback(finished)
        return await asyncio.shield(build)  # a client that leaves stops no shared build

    async def _share(self, build: asyncio.Future[bytes]) -> None:
        """Wait within the deadline for another request's build (whose own error is not
        this request's: it is answered afresh once the build ends)."""
        try:
            await asyncio.wait_for(asyncio.shield(build), self.executor.deadline_seconds)
        except TimeoutError:
            raise Busy(
                f"no answer within {self.executor.deadline_seconds:g} s; retry shortly",
                self.executor.retry_after(),
            ) from None
        except Exception:
            return

    def _predict_many(self, parse: Callable[[], list[PredictRequest]], ends: float) -> bytes:
        parts = []
        for i, req in enumerate(parse()):
            if i % CHECK_EVERY == 0 and time.monotonic() > ends:
                raise Busy(
                    f"no answer within {self.executor.deadline_seconds:g} s (at point {i}); "
                    "retry shortly",
                    self.executor.retry_after(),
                )
            try:
                law, key = self._key("predict", req)
                parts.append(self.cache.get(key) or self._compute("predict", req, law, key))
            except FieldError as exc:
                raise FieldError((exc.loc[0], i, *exc.loc[1:]), exc.message) from None
        return b"[" + b",".join(parts) + b"]"

    async def predict_many_async(self, parse: Callable[[], list[PredictRequest]]) -> bytes:
        """Answers to many points, as one JSON list in the same order, all on the executor:
        ``parse`` validates the list there too (a bad point is a 422 naming its index and
        field). The list gives up at its deadline rather than hold a thread past it."""
        return await self.executor.run(self._predict_many, parse, self.executor.deadline())

    async def overspend_plot_async(self, query: PlotQuery) -> bytes:
        """The overspend picture (PNG), recalled or drawn on the executor."""
        assert self.throughput is not None
        law = resolve_law(self.registry, query.law, ("query",))
        model = resolve_model(self.throughput, query.throughput, ("query",))
        pinned = replace(query, throughput=model.ref)
        key = ("overspend-plot", law.id, law.version, repr(replace(pinned, law="")))
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        png = await self.executor.run(render_overspend, law, model, pinned)
        self.cache.put(key, png)
        return png

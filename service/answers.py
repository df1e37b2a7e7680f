"""Queries answered from laws in memory: allocation, prediction, frontier.

Request schemas have checked types and ranges; what only the core can judge (an
unknown GPU, a budget beyond what a law can answer) comes back as a ``ValueError``
and leaves here as a :class:`~service.errors.FieldError` naming the field.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict
from typing import Any

import numpy as np
from pydantic import BaseModel

from flopwise.fitting.allocation import Frontier, allocate, frontier
from flopwise.fitting.hardware import budget_to_flops, cost_of
from flopwise.fitting.laws import Law
from flopwise.fitting.prediction import path_loss_bands, predict, spread_caveats
from flopwise.fitting.shape import ShapeConstraints, shape_tables_cached
from flopwise.service.errors import FieldError, field_error
from flopwise.service.registry import LawRegistry, UnknownLaw
from flopwise.service.schemas.common import BUDGET_FLOPS
from flopwise.service.schemas.queries import (
    AllocatePublic,
    AllocateRequest,
    Constraints,
    FrontierPublic,
    FrontierRequest,
    PredictPublic,
    PredictRequest,
)
from flopwise.service.store.throughput import ThroughputRegistry
from flopwise.service.time_answers import (
    answer_time_allocate,
    constant_mfu_warning,
    resolve_model,
)

__all__ = [
    "AnswerCache",
    "Answers",
    "Busy",
    "answer_allocate",
    "answer_frontier",
    "answer_predict",
]

CONSTRAINT_FIELDS = tuple(Constraints.model_fields)
NESTED = {f: ("constraints", f) for f in CONSTRAINT_FIELDS}
"""``fitting`` argument names that are fields of the request's ``constraints``."""
CLIENT_ERRORS = (ValueError, ArithmeticError)
"""What the core raises for input it cannot answer (overflow included)."""


def _law(registry: LawRegistry, ref: str) -> Law:
    try:
        return registry.resolve(ref)
    except UnknownLaw as exc:
        raise FieldError(("body", "law"), str(exc)) from None


def _constraints(body: Constraints | None) -> ShapeConstraints:
    if body is None:
        return ShapeConstraints()
    try:
        return ShapeConstraints(**body.model_dump())
    except ValueError as exc:
        raise field_error(exc, (), nested=NESTED, prefix=("body", "constraints")) from None


def _budget(req: AllocateRequest) -> tuple[float, str]:
    given = [k for k in ("flops", "gpu_hours", "dollars") if getattr(req, k) is not None]
    if len(given) != 1:
        loc = ("body", given[1]) if len(given) > 1 else ("body", "flops")
        raise FieldError(
            loc,
            f"budget: give exactly one of flops, gpu_hours or dollars (got {', '.join(given) or 'none'})",
        )
    kind = given[0]
    if kind == "flops" and req.gpu is None and req.price_per_gpu_hour is not None:
        raise FieldError(("body", "price_per_gpu_hour"), "price_per_gpu_hour: needs gpu")
    try:
        flops = budget_to_flops(
            flops=req.flops,
            gpu_hours=req.gpu_hours,
            dollars=req.dollars,
            gpu_name=req.gpu,
            mfu=req.mfu,
            price_per_gpu_hour=req.price_per_gpu_hour,
        )
    except CLIENT_ERRORS as exc:
        raise field_error(exc, AllocateRequest.model_fields, aliases={"budget": kind}) from None
    low, high = BUDGET_FLOPS
    if not low <= flops <= high:
        raise FieldError(
            ("body", kind), f"{kind}: the budget is {flops:.3g} FLOPs, outside [{low:g}, {high:g}]"
        )
    return flops, kind


def _finite(value: Any, where: str) -> None:
    """Refuse answers that are not finite numbers (JSON cannot carry them)."""
    arr = np.asarray([v for v in _numbers(value)], dtype=float)
    if arr.size and not np.all(np.isfinite(arr)):
        raise FieldError(("body", where), f"{where}: the law gives no finite answer for this input")


def _numbers(value: Any) -> list[float]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _numbers(v)]
    if isinstance(value, list | tuple):
        return [x for v in value for x in _numbers(v)]
    if isinstance(value, float | int) and not isinstance(value, bool):
        return [float(value)]
    return []


def answer_allocate(registry: LawRegistry, req: AllocateRequest) -> dict[str, Any]:
    """The allocation for one budget, as the API answers it."""
    law = _law(registry, req.law)
    flops, kind = _budget(req)
    constraints = _constraints(req.constraints)
    fields = AllocateRequest.model_fields
    try:
        result = allocate(
            law,
            flops,
            constraints=constraints,
            unique_tokens=req.unique_tokens,
            inference_tokens=req.inference_tokens,
            level=req.level,
        )
        cost = None
        if req.gpu is not None:
            cost = asdict(
                cost_of(
                    flops,
                    req.gpu,
                    mfu=req.mfu,
                    n_gpus=req.n_gpus,
                    price_per_gpu_hour=req.price_per_gpu_hour,
                )
            )
    except CLIENT_ERRORS as exc:
        aliases = {"flops": kind, "budget": kind}
        raise field_error(exc, fields, aliases=aliases, nested=NESTED) from None
    out = result.to_dict()  # finite: allocate refuses budgets it cannot answer finitely
    out["cost"] = cost
    if kind != "flops" and req.gpu is not None:
        out["warnings"].append(constant_mfu_warning(req.mfu, req.gpu))
    return out


def answer_predict(registry: LawRegistry, req: PredictRequest) -> dict[str, Any]:
    """Predicted loss at one point."""
    law = _law(registry, req.law)
    try:
        result = predict(
            law,
            params=req.params,
            tokens=req.tokens,
            width=req.width,
            depth=req.depth,
            unique_tokens=req.unique_tokens,
            level=req.level,
        )
    except CLIENT_ERRORS as exc:
        raise field_error(exc, PredictRequest.model_fields) from None
    out = result.to_dict()
    _finite(out, "tokens")
    return out


def _budgets(req: FrontierRequest) -> np.ndarray:
    if req.flops is not None:
        if req.flops_min is not None or req.flops_max is not None:
            raise FieldError(
                ("body", "flops"), "flops: give a list of budgets or flops_min/flops_max, not both"
            )
        return np.asarray(req.flops, dtype=float)
    if req.flops_min is None or req.flops_max is None:
        raise FieldError(
            ("body", "flops_min"), "flops_min, flops_max: both are needed without a flops list"
        )
    if req.flops_min > req.flops_max:
        raise FieldError(("body", "flops_min"), "flops_min: must not exceed flops_max")
    return np.logspace(math.log10(req.flops_min), math.log10(req.flops_max), req.points)


def answer_frontier(registry: LawRegistry, req: FrontierRequest) -> dict[str, Any]:
    """The optimal path over many budgets."""
    law = _law(registry, req.law)
    budgets = _budgets(req)
    constraints = _constraints(req.constraints)
    try:
        path = frontier(
            law,
            budgets,
            constraints=constraints,
            unique_tokens=req.unique_tokens,
            inference_tokens=req.inference_tokens,
        )
    except CLIENT_ERRORS as exc:
        raise field_error(exc, FrontierRequest.model_fields, nested=NESTED) from None
    loss = [None] * len(path.flops) if path.loss is None else path.loss.tolist()
    bands = [None] * len(path.flops) if path.loss is None else _path_bands(law, path, req)
    points = [
        {
            "flops": float(c),
            "params": float(n),
            "tokens": float(d),
            "loss": None if v is None else float(v),
            "loss_interval": band,
            "width": int(w),
            "depth": int(dep),
            "shape_params": float(p),
            "flops_per_token": float(f),
        }
        for c, n, d, v, band, w, dep, p, f in zip(
            path.flops,
            path.params,
            path.tokens,
            loss,
            bands,
            path.width,
            path.depth,
            path.shape_params,
            path.shape_flops_per_token,
            strict=True,
        )
    ]
    _finite(points, "flops")
    return {
        "law": {"id": law.id, "version": law.version},
        "points": points,
        "count": len(points),
        "level": req.level,
        "caveats": list(spread_caveats(law) if path.loss is not None else law.caveats),
    }


def _path_bands(law: Law, path: Frontier, req: FrontierRequest) -> list[Any]:
    assert path.loss is not None
    return path_loss_bands(
        law,
        path.loss,
        path.params,
        path.tokens,
        width=path.width,
        depth=path.depth,
        unique_tokens=req.unique_tokens,
        level=req.level,
    )


class AnswerCache:
    """Serialised answers by (endpoint, law id, law version, request): an answer is a pure
    function of these, so a new law version never meets a stale entry. LRU, bounded in
    entries and in bytes."""

    def __init__(self, size: int = 4096, max_bytes: int = 32 * 1024 * 1024) -> None:
        self._items: OrderedDict[tuple[str, str, int, str], bytes] = OrderedDict()
        self._size, self._max_bytes, self._bytes = size, max_bytes, 0
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, int, str]) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: tuple[str, str, int, str], value: bytes) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            self._bytes += len(value) - (len(old) if old is not None else 0)
            self._items[key] = value
            while self._items and (len(self._items) > self._size or self._bytes > self._max_bytes):
                self._bytes -= len(self._items.popitem(last=False)[1])


class Busy(Exception):
    """The server cannot answer within its deadline now (sent as 503 with Retry-After)."""


Query = AllocateRequest | PredictRequest | FrontierRequest
ENDPOINTS: dict[str, tuple[Callable[[LawRegistry, Any], dict[str, Any]], type[BaseModel]]] = {
    "allocate": (answer_allocate, AllocatePublic),
    "predict": (answer_predict, PredictPublic),
    "frontier": (answer_frontier, FrontierPublic),
}


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

    def _key(self, endpoint: str, req: Query) -> tuple[Law, tuple[str, str, int, str]]:
        law = _law(self.registry, req.law)
        return law, (endpoint, law.id, law.version, req.model_dump_json(exclude={"law"}))

    def _compute(
        self, endpoint: str, req: Query, law: Law, key: tuple[str, str, int, str]
    ) -> bytes:
        compute, public = ENDPOINTS[endpoint]
        pinned = req.model_copy(update={"law": law.ref})  # the version the key names
        if self._timed(pinned):
            assert isinstance(pinned, AllocateRequest) and self.throughput is not None
            assert pinned.throughput is not None
            model = resolve_model(self.throughput, pinned.throughput)
            answer = answer_time_allocate(law, model, pinned, _constraints(pinned.constraints))
        else:
            answer = compute(self.registry, pinned)
        body = public.model_validate(answer).model_dump_json().encode()
        self.cache.put(key, body)
        return body

    async def answer_async(self, endpoint: str, req: Query) -> bytes:
        """The serialised answer, off the event loop when it must build shape tables."""
        req = self._pin(req)
        law, key = self._key(endpoint, req)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        shape_limits = _constraints(getattr(req, "constraints", None))
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

"""The client's logic, written once for :class:`~flopwise.client.Client` and
:class:`~flopwise.client.AsyncClient`: without I/O.

An operation is a *flow*, a generator that yields what it needs done and receives
the outcome: a :class:`Call` (one API request; the flow receives its parsed answer,
or has its :class:`~flopwise.client.errors.FlopwiseError` thrown in) or a
:class:`Sleep`. :func:`retried` turns such a flow into one that yields only
:class:`Exchange` (send one HTTP request, receive the ``httpx.Response`` or have the
``httpx.RequestError`` thrown in) and :class:`Sleep`, applying the retry policy;
the synchronous and the asynchronous client each drive that with their own I/O.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx

from flopwise.client.errors import (
    Conflict,
    FlopwiseError,
    Issue,
    NotFound,
    ProtocolError,
    RequestRejected,
    ServiceUnavailable,
    Unauthorized,
)
from flopwise.client.retry import (
    RETRY_STATUSES,
    UNPROCESSED_STATUSES,
    RetryPolicy,
    parse_retry_after,
)

__all__ = [
    "Call",
    "Exchange",
    "Flow",
    "Sleep",
    "advance",
    "one",
    "retried",
]

log = logging.getLogger("flopwise.client")
UNSENT = (httpx.ConnectError, httpx.ConnectTimeout)
"""Transport errors after which the request has certainly not reached the service."""
T = TypeVar("T")


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API request and how to read its answer."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    json: Any = None
    params: Mapping[str, Any] | None = None
    content: bytes | None = None
    content_type: str | None = None
    idempotent: bool = True
    """Safe to send twice (queries, run ingestion, a fit request); see
    :mod:`~flopwise.client.retry` for what happens to the others."""

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def send_args(self) -> dict[str, Any]:
        """Keyword arguments for ``httpx.Client.request`` (or the async one)."""
        args: dict[str, Any] = {"method": self.method, "url": self.path}
        if self.params:
            args["params"] = {k: v for k, v in self.params.items() if v is not None}
        if self.json is not None:
            args["json"] = self.json
        if self.content is not None:
            args["content"] = self.content
            args["headers"] = {"Content-Type": self.content_type or "application/octet-stream"}
        return args


@dataclass(frozen=True)
class Sleep:
    """Wait this many seconds."""

    seconds: float


@dataclass(frozen=True)
class Exchange:
    """Send ``call`` once; the flow receives the response (any status)."""

    call: Call[Any] = field(repr=False)


Step = Call[Any] | Sleep
Flow = Generator[Any, Any, T]
"""A generator yielding :class:`Call` / :class:`Sleep` (or, once :func:`retried`,
:class:`Exchange` / :class:`Sleep`) and returning ``T``."""


def one(call: Call[T]) -> Flow[T]:
    """The flow of a single call."""
    result: T = yield call
    return result


@dataclass
class Done(Generic[T]):
    value: T


def advance(flow: Flow[T], value: Any = None, error: BaseException | None = None) -> Any:
    """Resume ``flow`` with ``value`` (or throw ``error`` into it): its next step, or
    :class:`Done` carrying what it returned."""
    try:
        return flow.throw(error) if error is not None else flow.send(value)
    except StopIteration as stop:
        return Done(stop.value)


def retried(flow: Flow[T], policy: RetryPolicy) -> Flow[T]:
    """``flow`` with each :class:`Call` sent through :func:`attempts`."""
    step = advance(flow)
    while not isinstance(step, Done):
        value, error = None, None
        try:
            if isinstance(step, Call):
                value = yield from attempts(step, policy)
            else:
                value = yield step
        except FlopwiseError as exc:
            error = exc
        step = advance(flow, value, error)
    return step.value


def attempts(call: Call[T], policy: RetryPolicy) -> Flow[T]:
    """Send ``call`` until it is answered or the policy gives up; its parsed answer,
    or the error of its last try."""
    attempt = 0
    while True:
        attempt += 1
        retry_after: float | None = None
        try:
            response: httpx.Response = yield Exchange(call)
        except httpx.RequestError as exc:
            failure: FlopwiseError = ServiceUnavailable(
                f"{call.label}: {type(exc).__name__}: {exc}".rstrip(": ")
            )
            if not (call.idempotent or isinstance(exc, UNSENT)):
                raise failure from exc
        else:
            if response.status_code < 400:
                return parse(call, response)
            failure = rejection(call, response)
            status = response.status_code
            retry = UNPROCESSED_STATUSES if not call.idempotent else RETRY_STATUSES
            if status not in retry:
                raise failure
            retry_after = parse_retry_after(response.headers.get("retry-after"))
        wait = policy.wait(attempt, retry_after)
        if wait is None:
            raise failure
        log.info(
            "retrying %s in %.2f s (try %d of %d): %s",
            call.label,
            wait,
            attempt + 1,
            policy.attempts,
            failure,
        )
        yield Sleep(wait)


def parse(call: Call[T], response: httpx.Response) -> T:
    """``call``'s answer read from a 2xx ``response``; :class:`ProtocolError` when it
    does not read."""
    try:
        return call.parse(response)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise ProtocolError(
            f"{call.label}: unreadable answer: {type(exc).__name__}: {exc}"
        ) from exc


_REJECTIONS: dict[int, type[RequestRejected]] = {
    401: Unauthorized,
    403: Unauthorized,
    404: NotFound,
    409: Conflict,
}


def rejection(call: Call[Any], response: httpx.Response) -> FlopwiseError:
    """The error a 4xx or 5xx ``response`` stands for."""
    status = response.status_code
    try:
        detail: Any = response.json().get("detail", "")
    except (ValueError, AttributeError):
        detail = response.text[:300]
    issues = (
        [Issue.from_dict(d) for d in detail if isinstance(d, dict)]
        if isinstance(detail, list)
        else []
    )
    words = "; ".join(f"{i.field or 'request'}: {i.msg}" for i in issues) if issues else str(detail)
    message = f"{call.label}: HTTP {status}: {words}".rstrip(": ")
    if status >= 500 or status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return ServiceUnavailable(message, status=status, retry_after=retry_after)
    kind = _REJECTIONS.get(status, RequestRejected)
    return kind(message, status=status, detail="" if issues else str(detail), issues=issues)

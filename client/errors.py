"""What the client raises, as a small typed tree::

    FlopwiseError
    ├── ServiceUnavailable    no answer: the service could not be reached, or it answered
    │                         5xx or 429 until the retries ran out
    ├── RequestRejected       a 4xx: the request is wrong and sending it again will not help
    │   ├── Unauthorized      401 / 403 (a missing or wrong FLOPWISE_API_KEY)
    │   ├── NotFound          404 (no such law, model or job)
    │   └── Conflict          409 (the job has ended, calibrations are busy, ...)
    ├── ProtocolError         the service answered something this client cannot read
    └── JobTimeout            a job was still running when ``wait`` gave up

Callers branch on the type, and on :attr:`RequestRejected.issues` for a 422: each
:class:`Issue` names where the problem is (``loc``, as the service sends it: ``("body",
"flops")``), and for an uploaded table also the ``line`` and ``column``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Conflict",
    "FlopwiseError",
    "Issue",
    "JobTimeout",
    "NotFound",
    "ProtocolError",
    "RequestRejected",
    "ServiceUnavailable",
    "Unauthorized",
]


class FlopwiseError(Exception):
    """Every error this client raises."""


class ServiceUnavailable(FlopwiseError):
    """No answer: a connection error, a timeout, or a 5xx / 429 answer, after the
    retries the client's :class:`~flopwise.client.retry.RetryPolicy` allows.
    ``status`` is the last HTTP status (``None`` when nothing answered) and
    ``retry_after`` the wait in seconds the service last asked for, if any."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class Issue:
    """One refused part of a request: ``loc`` as the service sends it (``("body",
    "flops")``, ``("query", "params_col")``), why (``msg``) and the kind (``type``);
    for a row of an uploaded table also its ``line`` (1-based) and ``column``."""

    loc: tuple[str | int, ...]
    msg: str
    type: str = ""
    line: int | None = None
    column: str | None = None

    @property
    def field(self) -> str:
        """The refused field as a dotted name, without ``body`` / ``query``
        (``"constraints.min_width"``); ``""`` for the request as a whole."""
        return ".".join(str(p) for p in self.loc if p not in ("body", "query"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Issue:
        line = data.get("line")
        column = data.get("column")
        return cls(
            loc=tuple(data.get("loc") or ()),
            msg=str(data.get("msg", "")),
            type=str(data.get("type", "")),
            line=line if isinstance(line, int) else None,
            column=column if isinstance(column, str) else None,
        )


class RequestRejected(FlopwiseError):
    """A 4xx answer. ``status`` is the HTTP status, ``detail`` the service's words and
    ``issues`` (for a 422) every refused field."""

    def __init__(
        self, message: str, *, status: int, detail: str = "", issues: Sequence[Issue] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail
        self.issues = tuple(issues)

    @property
    def fields(self) -> tuple[str, ...]:
        """The refused fields' dotted names, in the order the service listed them."""
        return tuple(issue.field for issue in self.issues)


class Unauthorized(RequestRejected):
    """401 or 403: the service wants ``Authorization: Bearer <FLOPWISE_API_KEY>``, or
    refuses this operation on this server."""


class NotFound(RequestRejected):
    """404: no such law, throughput model or job."""


class Conflict(RequestRejected):
    """409: the resource is not in a state that allows this."""


class ProtocolError(FlopwiseError):
    """The service's answer could not be read as the documented response."""


class JobTimeout(FlopwiseError):
    """``jobs.wait`` gave up; ``job`` is the job as last seen."""

    def __init__(self, message: str, job: Any) -> None:
        super().__init__(message)
        self.job = job

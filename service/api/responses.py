"""Error responses as OpenAPI documents them: every status a route can send is listed.

Two bodies: ``{"detail": "<why>"}`` (:class:`Message`) and FastAPI's validation shape
``{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}`` (:class:`Invalid`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

__all__ = [
    "AUTH",
    "BODY",
    "BUSY",
    "CONFLICT",
    "FORBIDDEN",
    "INVALID",
    "NOT_FOUND",
    "Invalid",
    "Message",
]


class Message(BaseModel):
    """An error in words."""

    detail: str


class Issue(BaseModel):
    """One refused field: where (``["body", "flops"]``), why, and the kind of problem."""

    loc: list[str | int]
    msg: str
    type: str


class Invalid(BaseModel):
    """The request was well-formed but a field was refused."""

    detail: list[Issue]


def _message(description: str) -> dict[str, Any]:
    return {"model": Message, "description": description}


INVALID: dict[int | str, dict[str, Any]] = {
    422: {"model": Invalid, "description": "A field is invalid; `loc` names it."}
}
BODY: dict[int | str, dict[str, Any]] = {
    400: _message("The request body could not be parsed."),
    408: _message("The request body did not arrive in time."),
    413: _message("The request body is larger than FLOPWISE_MAX_BODY_BYTES."),
}
AUTH: dict[int | str, dict[str, Any]] = {
    401: _message("FLOPWISE_API_KEY is set and the request lacks `Authorization: Bearer <key>`.")
}
FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: _message("Calibrations are off: the server has no FLOPWISE_API_KEY.")
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _message("No such resource.")}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: _message("The resource is not in a state that allows this.")
}
BUSY: dict[int | str, dict[str, Any]] = {
    503: _message("Too busy to answer within the deadline; retry after `Retry-After` seconds.")
}

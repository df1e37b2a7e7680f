"""The bodies ``POST /v1/runs`` takes and how OpenAPI documents them.

JSON (``RunsCreate``) as before; or a table, CSV (``text/csv``) or JSON lines
(``application/x-ndjson``), whose columns the query parameters (:class:`TableQuery`)
map. Any other ``Content-Type`` is a 415. A JSON body is read as FastAPI reads one (its
errors in FastAPI's shape), and refuses the table's query parameters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, StringConstraints, ValidationError, create_model

from flopwise.fitting.tables import MAPPED, MEDIA_TYPES, Kind, kind_of
from flopwise.service.api.responses import Issue, Message
from flopwise.service.errors import FieldError
from flopwise.service.schemas.common import Name
from flopwise.service.schemas.runs import RunsCreate

__all__ = [
    "RUNS_BODY",
    "TABLE_RESPONSES",
    "Body",
    "TableQuery",
    "inline",
    "json_runs",
    "request_body",
]


def _table_query() -> type[BaseModel]:
    columns: dict[str, Any] = {
        f"{name}_col": (
            str,
            Field(name, min_length=1, max_length=200, description=f"Column holding {name}."),
        )
        for name in MAPPED
    }
    model: type[BaseModel] = create_model(
        "TableQuery",
        __doc__="How a CSV or JSON-lines body's columns map to a run's fields.",
        dataset=(
            Name | None,
            Field(None, description="Dataset of every row (else each row's dataset column)."),
        ),
        refit=(bool, Field(True, description="Queue the datasets' debounced refits.")),
        metric_col=(
            list[Annotated[str, StringConstraints(min_length=1, max_length=64)]],
            Field(
                default_factory=list,
                max_length=128,
                description="Columns carried as named metrics (repeat the parameter), e.g. "
                "hellaswag_acc and hellaswag_bpb (docs/laws.md §20).",
            ),
        ),
        **columns,
    )
    return model


TableQuery: Any = _table_query()
TABLE_PARAMS = frozenset(TableQuery.model_fields)


@dataclass(frozen=True)
class Body:
    """A request's body, its kind and the query parameters it came with."""

    kind: Kind | None
    """``None``: JSON."""
    raw: bytes
    query: frozenset[str]


async def request_body(request: Request) -> Body:
    """The body and its kind by ``Content-Type`` (none: JSON); 415 for other types."""
    header = request.headers.get("content-type")
    media = (header or "application/json").split(";")[0].strip().lower()
    raw = await request.body()
    kind = None if media == "application/json" or media.endswith("+json") else kind_of(media)
    if kind is None and not (media == "application/json" or media.endswith("+json")):
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail=f"Content-Type {media!r}: send application/json, text/csv or "
            "application/x-ndjson",
        )
    return Body(kind, raw, frozenset(request.query_params))


def json_runs(body: Body) -> RunsCreate:
    """A JSON body as ``RunsCreate``; errors located at ``body...`` as FastAPI does."""
    given = sorted(body.query & TABLE_PARAMS)
    if given:
        raise FieldError(("query", given[0]), f"{given[0]}: only for a CSV or JSON-lines body")
    if not body.raw:
        raise RequestValidationError(
            [{"type": "missing", "loc": ("body",), "msg": "Field required"}]
        )
    try:
        data = json.loads(body.raw)
    except json.JSONDecodeError as exc:
        error = {"type": "json_invalid", "loc": ("body", exc.pos), "msg": "JSON decode error"}
        raise RequestValidationError([error]) from None
    except UnicodeDecodeError:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "There was an error parsing the body"
        ) from None
    try:
        return RunsCreate.model_validate(data)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


def inline(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its ``$defs`` references replaced by the definitions (an
    operation's body schema cannot refer to its own ``$defs``)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(defs[ref.rsplit("/", 1)[1]])
            return {k: walk(v) for k, v in node.items()}
        return [walk(v) for v in node] if isinstance(node, list) else node

    result: dict[str, Any] = walk(schema)
    return result


_CSV_EXAMPLE = "run,params,tokens,loss\n50M,5e7,1e9,3.892\n50M,5e7,4e9,3.469\n"
_JSONL_EXAMPLE = '{"run": "50M", "params": 5e7, "tokens": 1e9, "loss": 3.892}\n'
RUNS_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {"schema": inline(RunsCreate.model_json_schema())},
        MEDIA_TYPES["csv"]: {
            "schema": {"type": "string", "description": "A CSV table with a header row."},
            "example": _CSV_EXAMPLE,
        },
        MEDIA_TYPES["jsonl"]: {
            "schema": {"type": "string", "description": "One JSON object per line."},
            "example": _JSONL_EXAMPLE,
        },
    },
}
"""The request body of ``POST /v1/runs`` in OpenAPI: every media type it takes."""


class RowIssue(Issue):
    """A refused field; for a table's row also its ``line`` and ``column``."""

    line: int | None = None
    column: str | None = None


class RowsInvalid(BaseModel):
    """A field or a table's rows were refused; each issue names where."""

    detail: list[RowIssue]


TABLE_RESPONSES: dict[int | str, dict[str, Any]] = {
    415: {"model": Message, "description": "The body is not JSON, CSV or JSON lines."},
    422: {"model": RowsInvalid, "description": "A field, or rows of a table, were refused."},
}

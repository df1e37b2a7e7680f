"""``POST /v1/runs`` with a table for a body: CSV (``text/csv``) or JSON lines
(``application/x-ndjson``), read by ``fitting.tables`` and checked row by row as a
JSON run is (:class:`~service.schemas.runs.RunCreate`).

A table is stored whole or not at all: one bad row refuses the request with a 422
listing every bad cell, ``{"loc": ["body", <line>, <column>], "msg", "type", "line",
"column"}`` (``column`` is ``null`` for a row that is not a JSON object), so a client can
fix or drop those rows and send the rest again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from flopwise.fitting.tables import MAPPED, OWN_NAME, REQUIRED, Kind, Record, read_table, row_values
from flopwise.service.errors import FieldError
from flopwise.service.schemas.common import SMALLEST_NORMAL
from flopwise.service.schemas.runs import RunCreate

__all__ = ["RowsInvalid", "read_runs_table"]

MAX_LISTED = 1000
"""Bad cells one 422 lists; a count of the rest follows them."""


class RowsInvalid(Exception):
    """Bad rows: ``issues`` as the 422's ``detail`` lists them."""

    def __init__(self, issues: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(issues)} bad cells")
        self.issues = issues


def _issue(line: int, column: str | None, msg: str, kind: str) -> dict[str, Any]:
    loc: list[str | int] = ["body", line] if column is None else ["body", line, column]
    return {"loc": loc, "msg": msg, "type": kind, "line": line, "column": column}


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FieldError(
            ("body",), f"body: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None


def _check_columns(
    present: set[str], columns: Mapping[str, str], dataset: str | None, metrics: Sequence[str]
) -> None:
    for column in metrics:
        if column not in present:
            listed = ", ".join(sorted(present)) or "none"
            raise FieldError(
                ("query", "metric_col"),
                f"metric_col: the table has no column {column!r} (columns: {listed})",
            )
    for name in MAPPED:
        column = columns[name]
        if (name in REQUIRED or column != name) and column not in present:
            listed = ", ".join(sorted(present)) or "none"
            raise FieldError(
                ("query", f"{name}_col"),
                f"{name}_col: the table has no column {column!r} (columns: {listed})",
            )
    if dataset is None and "dataset" not in present:
        raise FieldError(
            ("query", "dataset"), "dataset: give a dataset parameter or a dataset column"
        )


def _row(
    record: Record, columns: Mapping[str, str], dataset: str | None, metrics: Sequence[str]
) -> RunCreate | list[dict[str, Any]]:
    """The run of one row, or its issues."""
    if record.problem is not None:
        return [_issue(record.line, None, record.problem, "value_error")]
    values, problems = row_values(record, columns, dataset, metrics)
    issues = [_issue(record.line, c, m, "value_error") for c, m in problems.items()]
    try:
        run = RunCreate.model_validate(values)
    except ValidationError as exc:
        column_of = {**{f: f for f in OWN_NAME}, "dataset": "dataset", "schedule": "schedule",
                     **columns}  # fmt: skip
        for error in exc.errors(include_url=False):
            field = str(error["loc"][0]) if error["loc"] else ""
            column = column_of.get(field)
            if field in ("metrics", "schedule") and len(error["loc"]) > 1:  # its own column
                column = str(error["loc"][1]) if field == "metrics" else _schedule_column(error)
            if column in problems:  # refused above, not "missing" again
                continue
            issues.append(_issue(record.line, column, _message(error), error["type"]))
        return issues
    return issues or run


def _schedule_column(error: Any) -> str:
    """The column of a schedule field's error (``kind`` is the ``schedule`` column)."""
    name = str(error["loc"][1])
    return "schedule" if name == "kind" else name


def _message(error: Any) -> str:
    """Pydantic's words, but "positive" for the smallest-normal bound of ``Positive``
    fields (not 0.000...22250738585072014)."""
    bound = (error.get("ctx") or {}).get("ge")
    if error["type"] == "greater_than_equal" and bound == SMALLEST_NORMAL:
        return "Input should be a positive number"
    return str(error["msg"])


def read_runs_table(
    body: bytes,
    kind: Kind,
    columns: Mapping[str, str],
    dataset: str | None,
    max_rows: int,
    metrics: Sequence[str] = (),
) -> list[RunCreate]:
    """The runs of a table ``body`` (``metrics``: columns carried as named metrics);
    :class:`RowsInvalid` listing every bad cell, or a ``FieldError`` for the table as a
    whole (not UTF-8, no rows, a missing column)."""
    table = read_table(_text(body).splitlines(keepends=True), kind)
    if not table.records:
        raise FieldError(("body",), "body: the table has no rows")
    if len(table.records) > max_rows:
        raise FieldError(("body",), f"body: at most {max_rows} rows per request")
    _check_columns(table.columns(), columns, dataset, metrics)
    runs: list[RunCreate] = []
    issues: list[dict[str, Any]] = []
    for record in table.records:
        result = _row(record, columns, dataset, metrics)
        if isinstance(result, RunCreate):
            runs.append(result)
        else:
            issues.extend(result)
    if issues:
        shown = issues[:MAX_LISTED]
        if len(issues) > MAX_LISTED:
            rest = len(issues) - MAX_LISTED
            shown.append(
                {"loc": ["body"], "msg": f"and {rest} more bad cells", "type": "value_error"}
            )
        raise RowsInvalid(shown)
    return runs

"""Runs as a table: the CSV and JSON-lines bodies ``POST /v1/runs`` takes, read the
same way by the service and by the client's ``runs.upload`` (which sends a file in
batches), and the cells of ``flopwise predict --runs``. Standard library only.

A CSV table has a header row; a JSON-lines table one object per line (blank lines
are skipped). A field is read from the column the mapping names for it
(:data:`MAPPED`, each ``<field>_col``, by default the field's own name); the other
optional fields (:data:`OWN_NAME`) from a column of their own name when there is one;
``dataset`` from the request's ``dataset`` parameter, else a ``dataset`` column; the
columns named as metrics (``metric_col``) as the row's named metrics. Other columns are
ignored. A cell is read by :func:`cell` (empty: absent); the service then
checks each row as it checks a JSON run, and names a bad one by line and column.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "INTEGER",
    "MAPPED",
    "MEDIA_TYPES",
    "OWN_NAME",
    "REQUIRED",
    "SCHEDULE",
    "CellError",
    "Record",
    "Table",
    "cell",
    "kind_of",
    "read_table",
    "row_schedule",
    "row_values",
]

Kind = Literal["csv", "jsonl"]
MEDIA_TYPES: dict[Kind, str] = {"csv": "text/csv", "jsonl": "application/x-ndjson"}
"""The ``Content-Type`` of each kind of table."""
MAPPED = ("params", "tokens", "loss", "run", "width", "depth", "flops", "unique_tokens", "lr")
"""Fields read from the column ``<field>_col`` names (by default the field's name)."""
REQUIRED = ("params", "tokens", "loss", "run")
"""Fields every row needs: their columns must be in the table."""
OWN_NAME = ("seconds_per_step", "n_gpus", "gpu", "epochs", "tags")
"""Optional fields read from a column of their own name (``tags``: JSON lines only)."""
INTEGER = frozenset({"width", "depth", "n_gpus"})
TEXT = frozenset({"run", "gpu", "dataset", "schedule", "cooldown"})
SCHEDULE = ("peak_lr", "warmup_tokens", "final_lr_fraction", "decay_tokens", "total_tokens",
            "cooldown")  # fmt: skip
"""A run's schedule (docs/laws.md §21): a ``schedule`` object in a JSON line, or in a CSV a
``schedule`` column with its kind beside columns of these names."""


@dataclass(frozen=True)
class Record:
    """One row: the lines it spans in the table (1-based; a quoted CSV cell may hold
    line breaks) and its cells by column. ``problem`` says why a JSON line could not be
    read as an object (its cells are then empty)."""

    line: int
    end: int
    cells: Mapping[str, Any]
    problem: str | None = None


@dataclass(frozen=True)
class Table:
    """A table's kind, its header (the CSV's first line(s); empty for JSON lines) and rows."""

    kind: Kind
    header: tuple[str, ...]
    header_lines: int
    records: list[Record] = field(default_factory=list)

    def columns(self) -> set[str]:
        """Every column some row has (the header's, for CSV)."""
        if self.kind == "csv":
            return set(self.header)
        return {c for r in self.records for c in r.cells}


def kind_of(name: str) -> Kind | None:
    """The table kind of a file name or media type, or ``None``."""
    lowered = name.lower().split(";")[0].strip()
    if lowered.endswith((".csv", "text/csv")):
        return "csv"
    if lowered.endswith((".jsonl", ".ndjson", "/x-ndjson", "/jsonl", "/x-jsonlines")):
        return "jsonl"
    return None


def read_table(lines: Sequence[str], kind: Kind) -> Table:
    """The rows of ``lines`` (a text split with ``splitlines(keepends=True)``)."""
    return _csv(lines) if kind == "csv" else _jsonl(lines)


def _csv(lines: Sequence[str]) -> Table:
    reader = csv.reader(lines)
    header: list[str] | None = None
    header_lines, previous = 0, 0
    records: list[Record] = []
    for row in reader:
        first, previous = previous + 1, reader.line_num
        if not any(c.strip() for c in row):
            continue
        if header is None:
            header, header_lines = [c.strip() for c in row], reader.line_num
            continue
        records.append(Record(first, reader.line_num, dict(zip(header, row, strict=False))))
    return Table("csv", tuple(header or ()), header_lines, records)


def _jsonl(lines: Sequence[str]) -> Table:
    records: list[Record] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except ValueError as exc:
            records.append(Record(number, number, {}, f"not valid JSON ({exc})"))
            continue
        if not isinstance(value, dict):
            records.append(Record(number, number, {}, "not a JSON object"))
            continue
        records.append(Record(number, number, value))
    return Table("jsonl", (), 0, records)


def cell(field: str, raw: Any) -> Any:
    """A cell as the value of ``field``: ``None`` when empty; a number from a number or
    its text (``"1e9"``), whole for :data:`INTEGER` fields; text trimmed. ``ValueError``
    says why a cell cannot be one."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if field == "tags":
        if not isinstance(raw, dict):
            raise ValueError("expected a JSON object of tags (JSON lines only)")
        return raw
    if field == "schedule" and isinstance(raw, dict):
        return raw
    if field in TEXT:
        if isinstance(raw, bool) or not isinstance(raw, str | int):
            raise ValueError(f"expected text, got {raw!r}")
        return str(raw).strip()
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ValueError(f"expected a number, got {raw!r}")
    try:
        value = float(raw.strip()) if isinstance(raw, str) else float(raw)
    except ValueError:
        raise ValueError(f"not a number: {raw!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {raw!r}")
    if field in INTEGER:
        if value != int(value):
            raise ValueError(f"not a whole number: {raw!r}")
        return int(value)
    return value


def row_values(
    record: Record,
    columns: Mapping[str, str],
    dataset: str | None,
    metrics: Sequence[str] = (),
) -> tuple[dict[str, Any], dict[str, str]]:
    """The fields of ``record`` (``columns``: field -> column) and, by column, why a
    cell could not be read. ``dataset`` overrides a ``dataset`` column; the ``metrics``
    columns become the row's named metrics (docs/laws.md §20; an empty cell: the row
    lacks that one)."""
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    wanted = {**{f: f for f in OWN_NAME}, "dataset": "dataset", **columns}
    for name, column in wanted.items():
        if column not in record.cells or (name == "dataset" and dataset is not None):
            continue
        try:
            value = cell(name, record.cells[column])
        except ValueError as exc:
            problems[column] = str(exc)
            continue
        if value is not None:
            values[name] = value
    if dataset is not None:
        values["dataset"] = dataset
    found = _metric_cells(record, metrics, problems)
    if found:
        values["metrics"] = found
    schedule = _schedule_cells(record, problems)
    if schedule:
        values["schedule"] = schedule
    return values, problems


class CellError(ValueError):
    """A cell that cannot be read: ``column`` is where."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(f"{column}: {message}")
        self.column, self.message = column, message


def row_schedule(cells: Mapping[str, Any]) -> dict[str, Any] | None:
    """A row's schedule: its ``schedule`` object (JSON lines), or the kind in a
    ``schedule`` column and the :data:`SCHEDULE` columns beside it; ``None`` without
    one. :class:`CellError` names the column of a cell that cannot be read."""
    out: dict[str, Any] = {}
    for column in ("schedule", *SCHEDULE):
        try:
            value = cell(column, cells.get(column))
        except ValueError as exc:
            raise CellError(column, str(exc)) from None
        if column == "schedule" and (value is None or isinstance(value, dict)):
            return value
        if value is not None:
            out["kind" if column == "schedule" else column] = value
    return out


def _schedule_cells(record: Record, problems: dict[str, str]) -> dict[str, Any] | None:
    try:
        return row_schedule(record.cells)
    except CellError as exc:
        problems[exc.column] = exc.message
        return None


def _metric_cells(
    record: Record, metrics: Sequence[str], problems: dict[str, str]
) -> dict[str, float]:
    found: dict[str, float] = {}
    for column in metrics:
        if column not in record.cells:
            continue
        try:
            value = cell("metrics", record.cells[column])
        except ValueError as exc:
            problems[column] = str(exc)
            continue
        if value is not None:
            found[column] = value
    return found


def mapping(given: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """Field -> column for every :data:`MAPPED` field: ``given`` over the defaults."""
    out = {f: f for f in MAPPED}
    out.update({f: c for f, c in (given or {}).items() if c})
    return out

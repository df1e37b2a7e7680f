"""``runs.upload``: a CSV or JSON-lines file of runs sent to ``POST /v1/runs``.

* **Batched.** The file's rows go ``batch_size`` at a time (default 500), each batch
  as the table itself (``text/csv`` with the header, or ``application/x-ndjson``), so
  the service reads every cell and names a bad one by line and column. A batch is
  stored whole or not at all; one with bad rows is sent again without them, so every
  good row is stored and every bad one reported (line, column, reason).
* **Resumable.** Before sending, the upload asks the service which (dataset, run,
  tokens) keys the file's datasets already hold and skips those rows: rerunning an
  interrupted upload sends only the rest. Ingestion is idempotent on that key anyway,
  so a row sent twice is counted as a duplicate and stored once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flopwise.client.endpoints import RUNS_BATCH, ingested, runs_list
from flopwise.client.errors import RequestRejected
from flopwise.client.flow import Call, Flow
from flopwise.client.types import Ingested
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.tables import (
    MAPPED,
    MEDIA_TYPES,
    REQUIRED,
    Record,
    Table,
    kind_of,
    mapping,
    read_table,
    row_values,
)

__all__ = ["Rejected", "UploadReport", "upload"]

Progress = Callable[[int, int], None]
"""``progress(done, total)``: rows answered so far of the rows to send."""
Key = tuple[str, str, float]


@dataclass(frozen=True)
class Rejected:
    """A row the service refused: its line in the file, the column (``None`` for the
    row as a whole) and why."""

    line: int
    column: str | None
    reason: str


@dataclass(frozen=True)
class UploadReport:
    """What an upload did."""

    rows: int
    """Rows in the file."""
    skipped: int = 0
    """Rows whose key the service already held: not sent."""
    inserted: int = 0
    duplicates: int = 0
    """Rows sent whose key was stored meanwhile, or repeated in the file."""
    rejected: tuple[Rejected, ...] = ()
    refit_jobs: dict[str, str] = field(default_factory=dict)

    @property
    def accepted(self) -> int:
        """Rows the service holds after the upload (inserted, duplicates, skipped)."""
        return self.inserted + self.duplicates + self.skipped

    @property
    def rejected_rows(self) -> int:
        return len({r.line for r in self.rejected})


def _table(path: Path) -> tuple[Table, list[str]]:
    kind = kind_of(path.name)
    if kind is None:
        raise ArgumentError("file", f"{path}: expected a .csv or .jsonl file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ArgumentError("file", f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ArgumentError("file", f"{path}: cannot be read as UTF-8 text ({exc})") from None
    lines = text.splitlines(keepends=True)
    table = read_table(lines, kind)
    if not table.records:
        raise ArgumentError("file", f"{path}: no rows")
    return table, lines


def _check_columns(
    table: Table,
    columns: Mapping[str, str],
    given: Mapping[str, str | None],
    dataset: str | None,
    metrics: Sequence[str],
) -> None:
    present = table.columns()
    for column in metrics:
        if column not in present:
            listed = ", ".join(sorted(present)) or "none"
            raise ArgumentError("metric_col", f"no column {column!r} (columns: {listed})")
    for name in MAPPED:
        explicit = bool(given.get(name))
        if (name in REQUIRED or explicit) and columns[name] not in present:
            listed = ", ".join(sorted(present)) or "none"
            raise ArgumentError(f"{name}_col", f"no column {columns[name]!r} (columns: {listed})")
    if dataset is None and "dataset" not in present:
        raise ArgumentError("dataset", "give a dataset, or a dataset column in the file")


def _key(record: Record, columns: Mapping[str, str], dataset: str | None) -> Key | None:
    values, _ = row_values(record, columns, dataset)
    try:
        return (str(values["dataset"]), str(values["run"]), float(values["tokens"]))
    except (KeyError, TypeError, ValueError):
        return None


def _stored(datasets: set[str]) -> Flow[set[Key]]:
    """Every (dataset, run, tokens) the service holds for ``datasets``."""
    keys: set[Key] = set()
    for name in sorted(datasets):
        offset = 0
        while True:
            page = yield from runs_list(name, offset=offset, limit=1000)
            keys.update((name, r.run, r.tokens) for r in page.data)
            offset += len(page.data)
            if not page.data or offset >= page.count:
                break
    return keys


def _body(table: Table, lines: Sequence[str], records: Sequence[Record]) -> tuple[bytes, list[int]]:
    """The table text of ``records`` and, for each of its lines, the file's line
    number (index 0 is line 1)."""
    numbers = list(range(1, table.header_lines + 1))
    for record in records:
        numbers.extend(range(record.line, record.end + 1))
    parts = [lines[n - 1] for n in numbers]
    parts = [p if p.endswith(("\n", "\r")) else p + "\n" for p in parts]
    return "".join(parts).encode(), numbers


def _batch(
    table: Table, lines: Sequence[str], records: Sequence[Record], params: Mapping[str, Any]
) -> Flow[tuple[Ingested, list[Rejected]]]:
    """Send ``records`` until the service stores what is left of them; the rows it
    refused on the way."""
    remaining = list(records)
    rejected: list[Rejected] = []
    while remaining:
        content, numbers = _body(table, lines, remaining)
        call = Call(
            "POST",
            "/v1/runs",
            ingested,
            params=params,
            content=content,
            content_type=MEDIA_TYPES[table.kind],
        )
        try:
            result: Ingested = yield call
            return result, rejected
        except RequestRejected as exc:
            rows = [i for i in exc.issues if i.line is not None and 0 < i.line <= len(numbers)]
            if exc.status != 422 or not rows:
                raise
            for issue in rows:
                assert issue.line is not None
                rejected.append(Rejected(numbers[issue.line - 1], issue.column, issue.msg))
            bad = {numbers[i.line - 1] for i in rows if i.line is not None}
            remaining = [r for r in remaining if r.line not in bad]
    return Ingested(), rejected


def _chunks(items: Sequence[Record], size: int) -> Iterator[Sequence[Record]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def upload(
    path: str | Path,
    *,
    dataset: str | None = None,
    columns: Mapping[str, str | None] | None = None,
    batch_size: int = RUNS_BATCH,
    refit: bool = True,
    skip_stored: bool = True,
    progress: Progress | None = None,
    metrics: Sequence[str] = (),
) -> Flow[UploadReport]:
    """Send the runs of ``path`` (module docstring). ``columns`` maps fields to the
    file's columns (``{"params": "N"}``; :data:`~flopwise.fitting.tables.MAPPED` lists
    them), ``metrics`` names columns the runs carry as named metrics (docs/laws.md
    §20); a bad file, column or batch size raises ``ArgumentError`` naming it before
    anything is sent."""
    if batch_size < 1:
        raise ArgumentError("batch_size", f"at least 1, got {batch_size}")
    table, lines = _table(Path(path))
    given = dict(columns or {})
    cols = mapping(given)
    _check_columns(table, cols, given, dataset, metrics)
    keys = {r.line: _key(r, cols, dataset) for r in table.records}
    pending: list[Record] = list(table.records)
    if skip_stored:
        stored = yield from _stored({k[0] for k in keys.values() if k is not None})
        pending = [r for r in pending if keys[r.line] not in stored]
    params: dict[str, Any] = {f"{f}_col": c for f, c in cols.items() if c != f}
    params.update(dataset=dataset, refit="true" if refit else "false")
    if metrics:
        params["metric_col"] = list(metrics)
    total, done = Ingested(), 0
    rejected: list[Rejected] = []
    if progress is not None:
        progress(0, len(pending))
    for chunk in _chunks(pending, batch_size):
        result, refused = yield from _batch(table, lines, chunk, params)
        total, done = total + result, done + len(chunk)
        rejected.extend(refused)
        if progress is not None:
            progress(done, len(pending))
    return UploadReport(
        rows=len(table.records),
        skipped=len(table.records) - len(pending),
        inserted=total.inserted,
        duplicates=total.duplicates,
        rejected=tuple(rejected),
        refit_jobs=total.refit_jobs,
    )

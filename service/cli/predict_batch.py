"""``flopwise predict --runs FILE``: predict every row of a CSV or JSONL file in one
process (one start-up instead of one per point), each row through the API's request
model and answer path."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from flopwise.fitting.datasets import read_table
from flopwise.fitting.laws import Law
from flopwise.fitting.tables import cell
from flopwise.service import queries
from flopwise.service.cli.app import answering, fail
from flopwise.service.schemas.queries import PredictRequest

__all__ = ["COLUMN_OPTIONS", "predict_rows"]

COLUMN_OPTIONS = ("params", "tokens", "width", "depth", "unique_tokens", "loss")
"""Fields a row may give, each read from the column ``--<field>-col`` names (cells read
as an uploaded table's are, ``flopwise.fitting.tables.cell``)."""


def _cell(row: Mapping[str, Any], column: str, field: str, i: int) -> float | int | None:
    try:
        value: float | int | None = cell(field, row.get(column))
    except ValueError as exc:
        raise fail(f"--{field.replace('_', '-')}-col: row {i} column {column!r}: {exc}") from None
    return value


def _point(row: Mapping[str, Any], columns: Mapping[str, str], i: int) -> dict[str, Any]:
    point = {field: _cell(row, column, field, i) for field, column in columns.items()}
    unique, tokens = point.get("unique_tokens"), point.get("tokens")
    if unique is not None and tokens is not None and unique > tokens:
        raise fail(f"--unique-tokens-col: row {i}: {unique:g} unique tokens exceed {tokens:g}")
    return point


def predict_rows(
    law: Law, path: Path, columns: Mapping[str, str | None], base: PredictRequest
) -> list[dict[str, Any]]:
    """One answer per row, in file order; a bad row fails naming the flag and row.
    With a loss column, each answer carries the measured loss and whether it fell
    inside ``loss_interval``."""
    try:
        rows = read_table(path)
    except ValueError as exc:
        raise fail(f"--runs: {exc}") from None
    if not rows:
        raise fail(f"--runs: {path} has no rows")
    present = {f: c for f, c in columns.items() if c is not None and c in rows[0]}
    for field, column in columns.items():
        explicit = column is not None and column != field
        if explicit and field not in present:
            raise fail(f"--{field.replace('_', '-')}-col: {path} has no column {column!r}")
    out = []
    shared = base.model_dump(exclude={"tokens", "params", "width", "depth", "unique_tokens"})
    for i, row in enumerate(rows):
        point = _point(row, present, i)
        measured = point.pop("loss", None)
        try:
            with answering():
                req = PredictRequest.model_validate({**shared, **point})
                answer = queries.predict(law, req)
        except (click.UsageError, ValidationError) as exc:
            raise fail(f"--runs: row {i}: {exc}") from None
        if measured is not None:
            band = answer["loss_interval"]
            answer["measured_loss"] = measured
            answer["inside"] = None if band is None else band[0] <= measured <= band[1]
        out.append(answer)
    return out

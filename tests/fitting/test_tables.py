"""Run tables (``fitting.tables``): CSV and JSON-lines rows with the lines they span,
cells read as numbers, whole numbers or text, and a row's fields by column mapping."""

from __future__ import annotations

import pytest

from flopwise.fitting.tables import cell, kind_of, mapping, read_table, row_values


def test_csv_rows_know_their_lines() -> None:
    text = '\nrun,params,tokens\na,1,2\n\n"two\nlines",3,4\nc,5,6'
    table = read_table(text.splitlines(keepends=True), "csv")
    assert table.header == ("run", "params", "tokens") and table.header_lines == 2
    assert [(r.line, r.end) for r in table.records] == [(3, 3), (5, 6), (7, 7)]
    assert table.records[1].cells == {"run": "two\nlines", "params": "3", "tokens": "4"}


def test_json_lines_rows_and_their_problems() -> None:
    text = '{"run": "a"}\n\nnope\n[1]\n{"run": "b", "tags": {"host": "n1"}}\n'
    table = read_table(text.splitlines(keepends=True), "jsonl")
    assert [(r.line, r.problem is None) for r in table.records] == [
        (1, True),
        (3, False),
        (4, False),
        (5, True),
    ]
    assert table.columns() == {"run", "tags"}


@pytest.mark.parametrize(
    ("field", "raw", "value"),
    [
        ("params", " 5e7 ", 5e7),
        ("params", 5, 5.0),
        ("width", "1024.0", 1024),
        ("run", " 50M ", "50M"),
        ("run", 7, "7"),
        ("loss", "", None),
        ("tags", {"a": "b"}, {"a": "b"}),
    ],
)
def test_cells(field: str, raw: object, value: object) -> None:
    assert cell(field, raw) == value


@pytest.mark.parametrize(
    ("field", "raw", "words"),
    [
        ("params", "abc", "not a number"),
        ("params", "inf", "finite"),
        ("params", True, "number"),
        ("width", "12.5", "whole"),
        ("run", 1.5, "text"),
        ("tags", "host=n1", "JSON object"),
    ],
)
def test_bad_cells_say_why(field: str, raw: object, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        cell(field, raw)


def test_row_values_by_mapping() -> None:
    table = read_table(["N,D,loss,run,gpu,dataset\n", "1e9,2e10,abc,r,h100,d1\n"], "csv")
    columns = mapping({"params": "N", "tokens": "D", "width": None})
    values, problems = row_values(table.records[0], columns, None)
    assert values == {"params": 1e9, "tokens": 2e10, "run": "r", "gpu": "h100", "dataset": "d1"}
    assert problems == {"loss": "not a number: 'abc'"}
    values, _ = row_values(table.records[0], columns, "given")
    assert values["dataset"] == "given"
    assert (kind_of("runs.CSV"), kind_of("a.jsonl"), kind_of("text/csv; charset=utf-8")) == (
        "csv",
        "jsonl",
        "csv",
    )
    assert kind_of("runs.txt") is None

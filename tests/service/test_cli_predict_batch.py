"""``flopwise predict --runs FILE`` and the interval/unique-token flags, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flopwise.fitting.catalogue import builtin
from flopwise.fitting.prediction import predict
from tests.service.test_cli_allocate import flopwise


@pytest.fixture
def points(tmp_path: Path) -> Path:
    path = tmp_path / "points.csv"
    path.write_text("params,tokens,loss\n1e9,2e10,2.55\n5e8,1e10,2.9\n2e8,4e9,3.0\n")
    return path


def test_every_row_in_one_process_in_file_order(points: Path) -> None:
    result = flopwise("predict", "--runs", str(points), "--level", "0.8", "--json")
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout)
    assert [a["params"] for a in answers] == [1e9, 5e8, 2e8]
    expected = predict(builtin("epoch-2024"), params=5e8, tokens=1e10, level=0.8)
    assert answers[1]["loss"] == pytest.approx(expected.loss)
    assert answers[1]["loss_interval"] == pytest.approx(list(expected.loss_interval or ()))
    assert [a["measured_loss"] for a in answers] == [2.55, 2.9, 3.0]
    assert [a["inside"] for a in answers] == [
        a["loss_interval"][0] <= a["measured_loss"] <= a["loss_interval"][1] for a in answers
    ]


def test_jsonl_with_renamed_columns_and_a_shape_law(tmp_path: Path) -> None:
    path = tmp_path / "shapes.jsonl"
    rows = [{"w": 1024, "d": 28, "t": 3.5e11}, {"w": 512, "d": 12, "t": 1e10}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = flopwise(
        "predict", "--law", "gemstones-2025", "--runs", str(path),
        "--width-col", "w", "--depth-col", "d", "--tokens-col", "t", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout)
    one = predict(builtin("gemstones-2025"), width=512, depth=12, tokens=1e10)
    assert answers[1]["loss"] == pytest.approx(one.loss)


@pytest.mark.parametrize(
    ("content", "args", "flag"),
    [
        ("params,tokens\n1e9,2e10\n", ["--level", "1.5"], "--level"),
        ("params,tokens\n1e9,2e10\n", ["--level", "0"], "--level"),
        ("params,tokens\n1e9,2e10\n", ["--tokens-col", "nope"], "--tokens-col"),
        ("params,tokens\n1e9,abc\n", [], "--tokens-col"),
        ("params,tokens,unique_tokens\n1e9,2e10,3e10\n", [], "--unique-tokens-col"),
        ("params,tokens\n1e9,-2\n", [], "--runs"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, content: str, args: list[str], flag: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    result = flopwise("predict", "--runs", str(path), *args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and flag in result.stderr


def test_unique_tokens_column_needs_a_form_that_uses_it(tmp_path: Path) -> None:
    path = tmp_path / "runs.csv"
    rows = [f"{n},{d},{3.0 - 0.1 * i},{d / 2}" for i, (n, d) in enumerate([(1e8, 1e9)] * 2)]
    path.write_text("params,tokens,loss,unique\n" + "\n".join(rows) + "\n")
    result = flopwise("fit", str(path), "--unique-tokens-col", "unique")
    assert result.returncode == 2
    assert "--unique-tokens-col" in result.stderr and len(result.stderr.strip().splitlines()) == 1

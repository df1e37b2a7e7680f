"""``flopwise runs upload`` against a live ``flopwise serve`` (SQLite and PostgreSQL):
batches with a progress bar, a summary of accepted and rejected rows (bad ones by line
and column), a rerun that sends only what the server lacks, and bad options, files and
servers as one line with exit 2 or 1, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import ServerProcess, _free_port
from tests.e2e.helpers import all_runs
from tests.service.synthetic import synthetic_runs
from tests.shared_data import REPO

pytestmark = pytest.mark.slow
KEY = "upload-key"


def flopwise(*args: str, url: str, key: str | None = KEY) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOPWISE_")}
    env["FLOPWISE_URL"] = url
    if key is not None:
        env["FLOPWISE_API_KEY"] = key
    argv = [sys.executable, "-m", "flopwise.service", *args]
    return subprocess.run(
        argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    lines = ["size,N,D,loss"] + [
        f"{r['run']},{r['params']},{r['tokens']},{r['loss']}" for r in rows
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_upload_in_batches_resumes_and_reports_bad_rows(
    flopwise_server: Callable[..., ServerProcess], e2e_store: dict[str, str], tmp_path: Path
) -> None:
    server = flopwise_server(env={**e2e_store, "FLOPWISE_API_KEY": KEY})
    runs: list[dict[str, object]] = list(synthetic_runs("cli"))
    runs[6] = {**runs[6], "loss": "n/a"}  # line 8
    path = _write(tmp_path / "runs.csv", runs)
    columns = ["--run-col", "size", "--params-col", "N", "--tokens-col", "D"]

    # an interrupted upload: the first ten rows reached the server
    head = _write(tmp_path / "head.csv", runs[:6] + runs[7:11])
    first = flopwise("runs", "upload", str(head), "--dataset", "cli", *columns, url=server.url)
    assert first.returncode == 0, first.stderr
    assert "10 accepted (10 new" in first.stdout

    done = flopwise(
        "runs",
        "upload",
        str(path),
        "--dataset",
        "cli",
        *columns,
        "--batch-size",
        "4",
        url=server.url,
    )
    assert done.returncode == 1, done.stderr  # a row was refused
    assert f"{path}: line 8, column loss: not a number: 'n/a'" in done.stderr.splitlines()
    assert "15/15" in done.stderr  # the progress bar counted the rows sent
    assert (
        "24 accepted (14 new, 0 duplicates, 10 already stored, not sent), 1 rejected" in done.stdout
    )
    assert len(all_runs(server.url, "cli")) == 24

    again = flopwise(
        "runs",
        "upload",
        str(path),
        "--dataset",
        "cli",
        *columns,
        "--json",
        "--no-progress",
        url=server.url,
    )
    summary = json.loads(again.stdout)
    assert (summary["skipped"], summary["inserted"], summary["rejected_rows"]) == (24, 0, 1)
    assert summary["rejected"] == [{"line": 8, "column": "loss", "reason": "not a number: 'n/a'"}]
    assert again.stderr.strip().splitlines() == [
        f"{path}: line 8, column loss: not a number: 'n/a'"
    ]


def test_bad_options_files_and_servers_are_one_line(
    flopwise_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = flopwise_server(env={"FLOPWISE_API_KEY": KEY}, workers=0)
    path = _write(tmp_path / "runs.csv", list(synthetic_runs("x"))[:3])
    cases = [
        (["--dataset", "x"], "--params-col: no column 'params'", 2, KEY),
        (
            [
                "--dataset",
                "bad name",
                "--run-col",
                "size",
                "--params-col",
                "N",
                "--tokens-col",
                "D",
            ],
            "--dataset:",
            2,
            KEY,
        ),
        (
            ["--run-col", "size", "--params-col", "N", "--tokens-col", "D"],
            "--dataset: give a dataset",
            2,
            KEY,
        ),
        (
            ["--dataset", "x", "--run-col", "size", "--params-col", "N", "--tokens-col", "D"],
            "service: ",
            1,
            None,
        ),
        (["--dataset", "x", "--batch-size", "0"], "--batch-size", 2, KEY),
    ]
    for options, words, status, key in cases:
        result = flopwise("runs", "upload", str(path), *options, url=server.url, key=key)
        assert result.returncode == status, (options, result.stderr)
        line = result.stderr.strip()
        assert len(line.splitlines()) == 1 and words in line, (options, line)
        assert line.startswith("flopwise runs upload: ") and "Traceback" not in line

    missing = flopwise("runs", "upload", str(tmp_path / "none.csv"), url=server.url)
    assert (
        missing.returncode == 2 and "FILE: " in missing.stderr and "no such file" in missing.stderr
    )
    text = flopwise("runs", "upload", str(tmp_path / "runs.txt"), url=server.url)
    assert text.returncode == 2 and "expected a .csv or .jsonl file" in text.stderr
    named = ["--dataset", "x", "--run-col", "size", "--params-col", "N", "--tokens-col", "D"]
    down = flopwise("runs", "upload", str(path), *named, url=f"http://127.0.0.1:{_free_port()}")
    assert down.returncode == 1 and "ConnectError" in down.stderr
    assert len(down.stderr.strip().splitlines()) == 1


def test_upload_carries_metric_columns(
    flopwise_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    """``--metric-col`` (repeated) sends columns the runs carry as named metrics."""
    server = flopwise_server(env={"FLOPWISE_API_KEY": KEY})
    path = tmp_path / "tasks.csv"
    path.write_text("run,params,tokens,loss,hs_acc,hs_bpb\na,5e7,1e9,3.8,0.31,1.2\n")
    done = flopwise("runs", "upload", str(path), "--dataset", "tasks", "--metric-col", "hs_acc",
                    "--metric-col", "hs_bpb", "--no-refit", url=server.url)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [r["metrics"] for r in all_runs(server.url, "tasks")] == [
        {"hs_acc": 0.31, "hs_bpb": 1.2}
    ]
    missing = flopwise("runs", "upload", str(path), "--dataset", "tasks", "--metric-col",
                       "mmlu_acc", url=server.url)  # fmt: skip
    assert missing.returncode == 2 and "--metric-col" in missing.stderr.strip().splitlines()[-1]

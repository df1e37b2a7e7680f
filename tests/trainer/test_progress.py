"""Reporters: JSON lines for machines, tqdm bars for people."""

from __future__ import annotations

import io
import json

from flopwise.trainer.progress import TqdmReporter, jsonl_reporter

EVENTS = [
    {"event": "start", "run": "r1", "tokens": 0, "total_tokens": 1000},
    {"event": "progress", "run": "r1", "tokens": 500, "train_loss": 2.5, "tokens_per_second": 9e3},
    {"event": "eval", "run": "r1", "tokens": 1000, "loss": 2.25},
    {"event": "run_done", "run": "r1", "done": 1, "total": 3, "status": "finished"},
]


def test_jsonl_reporter_prints_one_object_per_line() -> None:
    out = io.StringIO()
    report = jsonl_reporter(out)
    for event in EVENTS:
        report(event)
    assert [json.loads(line) for line in out.getvalue().splitlines()] == EVENTS


def test_tqdm_reporter_shows_tokens_loss_and_sweep_position() -> None:
    err = io.StringIO()
    report = TqdmReporter(err)
    for event in EVENTS:
        report(event)
    text = err.getvalue()
    assert "r1" in text and "1.00k/1.00k" in text
    assert "loss=2.500" in text and "val=2.250" in text
    assert "[1/3] r1: finished" in text

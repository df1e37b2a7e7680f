"""The trainer -> service stream: every event survives JSON and is read back typed."""

from __future__ import annotations

import json

from flopwise.protocol.events import (
    DoneEvent,
    EvalEvent,
    FitEvent,
    MessageEvent,
    RunDoneEvent,
    RunRecord,
    StartEvent,
    parse_event,
)


def test_events_round_trip_through_json() -> None:
    record = RunRecord(dataset="d", run="r", width=32, depth=2, params=47264, tokens=4096,
                       flops=1e9, loss=3.1, seconds_per_step=0.05, n_gpus=1, gpu="cpu",
                       tags={"host": "n1"})  # fmt: skip
    events = [
        StartEvent(run="r", params=47264, width=32, depth=2, tokens=0, total_tokens=8192,
                   resumed_from_step=0, lr=0.01, device="cpu", world_size=1),
        EvalEvent(run="r", tokens=4096, loss=3.1, record=record.to_dict()),
        RunDoneEvent(run="r", status="finished", done=1, total=4),
        FitEvent(success=True, law_id="d-chinchilla", version=1, message="ok"),
        MessageEvent(text="hello"),
        DoneEvent(sweep_id="s", finished=4, failed={}, skipped=[], observations=16),
    ]  # fmt: skip
    for event in events:
        assert parse_event(json.loads(json.dumps(event.to_dict()))) == event


def test_unknown_or_incomplete_lines_are_skipped() -> None:
    assert parse_event({"event": "telemetry", "x": 1}) is None
    assert parse_event({"event": "run_done"}) is None
    assert parse_event(["eval"]) is None


def test_a_newer_writer_s_extra_keys_are_ignored() -> None:
    event = parse_event({"event": "message", "text": "hi", "colour": "red"})
    assert event == MessageEvent(text="hi") and event.to_dict() == {
        "event": "message",
        "text": "hi",
    }


def test_a_run_record_may_carry_metrics() -> None:
    """Named metrics besides the loss (docs/laws.md §20): optional, kept through JSON."""
    base = {"dataset": "d", "run": "r", "width": 32, "depth": 2, "params": 47264,
            "tokens": 4096, "flops": 1e9, "loss": 3.1, "seconds_per_step": 0.05,
            "n_gpus": 1, "gpu": "cpu"}  # fmt: skip
    assert RunRecord(**base).metrics == {}  # an older writer's record still reads
    record = RunRecord(**base, metrics={"continuation_acc": 0.41, "continuation_bpb": 1.9})
    line = json.dumps(EvalEvent(run="r", tokens=4096, loss=3.1, record=record.to_dict()).to_dict())
    event = parse_event(json.loads(line))
    assert isinstance(event, EvalEvent) and event.record is not None
    assert RunRecord(**event.record).metrics == {"continuation_acc": 0.41, "continuation_bpb": 1.9}

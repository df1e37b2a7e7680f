"""Progress as a stream of events, rendered as tqdm bars or as JSON lines.

The trainer and the sweep emit plain dicts (``{"event": "eval", "run": ..., ...}``);
a reporter renders them. ``jsonl`` prints one JSON object per line on stdout, which is
how the service follows a sweep it launched and how a sweep follows its trainer
processes; ``bar`` draws tqdm bars on stderr (tokens/s, loss, ETA); ``none`` is quiet.

Events: ``plan`` (sweep plan), ``start`` (a run begins or resumes), ``progress``
(training loss and throughput), ``eval`` (one observation), ``run_done``, ``fit``
(the refitted law), ``message`` (one line for a person), ``done``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, Literal, TextIO

from tqdm import tqdm

__all__ = ["ProgressMode", "Reporter", "TqdmReporter", "jsonl_reporter", "make_reporter"]

ProgressMode = Literal["bar", "jsonl", "none"]
Reporter = Callable[[dict[str, Any]], None]


def jsonl_reporter(stream: TextIO | None = None) -> Reporter:
    """Print each event as one JSON line (flushed: a parent process reads it live)."""

    def report(event: dict[str, Any]) -> None:
        out = stream or sys.stdout
        out.write(json.dumps(event) + "\n")
        out.flush()

    return report


def _null(event: dict[str, Any]) -> None:
    del event


class TqdmReporter:
    """tqdm bars on stderr: one per run in tokens, with loss, tokens/s and ETA."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.bar: tqdm[Any] | None = None
        self.last_val: float | None = None
        self.last_train: float | None = None

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "start":
            self._close()
            self.bar = tqdm(
                total=int(event["total_tokens"]),
                initial=int(event.get("tokens", 0)),
                desc=str(event["run"]),
                unit="tok",
                unit_scale=True,
                file=self.stream,
                dynamic_ncols=True,
                leave=True,
            )
            self.last_val = self.last_train = None
        elif kind in ("progress", "eval") and self.bar is not None:
            self.bar.update(max(0, int(event["tokens"]) - self.bar.n))
            if kind == "eval":
                self.last_val = float(event["loss"])
            if "train_loss" in event:
                self.last_train = float(event["train_loss"])
            self.bar.set_postfix(self._postfix(event), refresh=False)
        elif kind == "run_done":
            self._close()
            if "total" in event:  # a sweep's run: say how far the sweep is
                why = f" ({event['reason']})" if event.get("reason") else ""
                tqdm.write(f"[{event['done']}/{event['total']}] {event['run']}: "
                           f"{event.get('status')}{why}{_timing(event)}", file=self.stream)  # fmt: skip
        elif kind in ("message", "plan_text"):
            tqdm.write(str(event.get("text", "")), file=self.stream)

    def _postfix(self, event: dict[str, Any]) -> dict[str, str]:
        post: dict[str, str] = {}
        if self.last_train is not None:
            post["loss"] = f"{self.last_train:.3f}"
        if self.last_val is not None:
            post["val"] = f"{self.last_val:.3f}"
        if "tokens_per_second" in event:
            post["tok/s"] = f"{event['tokens_per_second']:.3g}"
        return post

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def make_reporter(mode: ProgressMode) -> Reporter:
    """The reporter for a ``--progress`` mode."""
    if mode == "jsonl":
        return jsonl_reporter()
    if mode == "bar":
        return TqdmReporter()
    return _null


def _timing(event: dict[str, Any]) -> str:
    """``, est. 3.1 min, measured 2.8 min`` when a sweep's run_done carries both."""
    est, measured = event.get("est_seconds"), event.get("measured_seconds")
    if est is None or measured is None:
        return ""
    return f", est. {est / 60:.1f} min, measured {measured / 60:.1f} min (step clock)"

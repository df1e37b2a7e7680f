"""Where observations go: the service (``POST /v1/runs``) or a JSONL file.

Both are idempotent on (dataset, run, tokens), so a resumed run or sweep may send an
observation again without creating a duplicate.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from flopwise.client import Client

__all__ = ["JsonlSink", "ServiceSink", "record_key"]


def record_key(record: dict[str, Any]) -> tuple[str, str, int]:
    """The identity of an observation."""
    return (str(record["dataset"]), str(record["run"]), int(record["tokens"]))


class JsonlSink:
    """Appends records to ``path`` (``runs.jsonl``), skipping ones already there."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.seen = {record_key(r) for r in self.records()}

    def records(self) -> list[dict[str, Any]]:
        """Every record in the file."""
        if not self.path.exists():
            return []
        lines = self.path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def __call__(self, record: dict[str, Any]) -> None:
        key = record_key(record)
        if key in self.seen:
            return
        with self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")
        self.seen.add(key)


class ServiceSink:
    """Posts records to the service in batches: at most one request per ``interval``
    seconds, and whatever is left on ``flush``. ``refit=False`` (a sweep, which asks for
    its own fit at the end) tells the service not to queue a refit per batch.

    Records still buffered when a process dies are on disk in their run directory; a
    resumed sweep sends them again (the service ignores the ones it has).
    """

    def __init__(self, client: Client, interval: float = 5.0, refit: bool = True) -> None:
        self.client = client
        self.refit = refit
        self.interval = interval
        self.sent: set[tuple[str, str, int]] = set()
        self.buffer: list[dict[str, Any]] = []
        self.last = time.monotonic()

    def __call__(self, record: dict[str, Any]) -> None:
        if record_key(record) not in self.sent:
            self.buffer.append(record)
        if time.monotonic() - self.last >= self.interval:
            self.flush()

    def send_all(self, records: list[dict[str, Any]]) -> None:
        """Post many records at once (resynchronising after an interruption)."""
        self.buffer.extend(records)
        self.flush()

    def flush(self) -> None:
        """Post everything buffered that the service has not had from this sink."""
        fresh: dict[tuple[str, str, int], dict[str, Any]] = {}
        for record in self.buffer:
            key = record_key(record)
            if key not in self.sent:
                fresh[key] = record
        batch = list(fresh.values())
        if batch:  # idempotent on (dataset, run, tokens), retried on transient errors
            self.client.runs.post(batch, refit=self.refit, batch_size=1000)
        self.sent.update(fresh)
        self.buffer.clear()
        self.last = time.monotonic()

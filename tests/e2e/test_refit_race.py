"""Ordered refits (issue 10): two refits of one dataset race on two workers of a real
``flopwise serve``; they never run at once, and the newest data wins.

A slow fit (bootstrap) starts on the first 15 observations; 10 more arrive and a quick
fit is queued while it runs. With two idle workers, the quick fit would finish first
and the slow one would publish last, on older data, as the newest version. Instead the
second waits for the first, and every version's number follows its run snapshot.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from tests.e2e.conftest import ServerProcess
from tests.service.synthetic import synthetic_runs


def job(http: httpx.Client, job_id: str) -> dict[str, Any]:
    out: dict[str, Any] = http.get(f"/v1/jobs/{job_id}").json()
    return out


def test_two_refits_of_one_dataset_publish_in_data_order(
    flopwise_server: Callable[..., ServerProcess], e2e_store: dict[str, str]
) -> None:
    server = flopwise_server(e2e_store, workers=2)
    runs = synthetic_runs("race")
    with httpx.Client(base_url=server.url, timeout=60) as http:
        first = {"runs": runs[:15], "refit": False}
        assert http.post("/v1/runs", json=first).json()["inserted"] == 15
        slow = http.post("/v1/fits", json={"dataset": "race", "options": {"bootstrap": 40}})
        slow_id = slow.json()["job_id"]
        deadline = time.monotonic() + 60
        while job(http, slow_id)["status"] == "queued":
            assert time.monotonic() < deadline, "the slow fit never started"
            time.sleep(0.05)
        second = {"runs": runs[15:], "refit": False}
        assert http.post("/v1/runs", json=second).json()["inserted"] == 10
        quick_id = http.post("/v1/fits", json={"dataset": "race"}).json()["job_id"]
        deadline = time.monotonic() + 240
        while True:
            a, b = job(http, slow_id), job(http, quick_id)
            assert not (a["status"] == "running" and b["status"] == "running"), (a, b)
            if {a["status"], b["status"]} <= {"succeeded", "failed"}:
                break
            assert time.monotonic() < deadline, (a, b)
            time.sleep(0.05)
        assert a["status"] == b["status"] == "succeeded", (a, b)
        assert a["result"]["version"] == 1 and b["result"]["version"] == 2
        law = http.get("/v1/laws/race-chinchilla").json()
        assert law["version"] == 2 and law["versions"] == [1, 2]
        assert law["fit"]["job_id"] == quick_id
        newer = law["fit"]["report"]["snapshot"]  # when the data it saw last changed
        older = http.get("/v1/laws/race-chinchilla@1").json()["fit"]["report"]["snapshot"]
        assert newer > older  # the newest data

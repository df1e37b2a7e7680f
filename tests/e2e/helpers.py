"""Small HTTP helpers for the e2e tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


def wait_job(
    url: str,
    job_id: str,
    *,
    timeout: float = 120.0,
    until: tuple[str, ...] = ("succeeded", "failed"),
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = httpx.get(f"{url}/v1/jobs/{job_id}", timeout=10).json()
        if job["status"] in until:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} is {job['status']} after {timeout} s: {job}")
        time.sleep(0.05)


def wait_until(what: str, check: Callable[[], T], *, timeout: float = 60.0) -> T:
    """Poll ``check()`` until it returns something truthy and return that; fail after
    ``timeout`` seconds naming ``what`` was awaited (a deadline, not a sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def all_runs(url: str, dataset: str) -> list[dict[str, Any]]:
    """Every stored observation of ``dataset``, following the pagination."""
    out: list[dict[str, Any]] = []
    while True:
        page = httpx.get(
            f"{url}/v1/runs",
            params={"dataset": dataset, "offset": len(out), "limit": 1000},
            timeout=30,
        ).json()
        out.extend(page["data"])
        if len(out) >= page["count"] or not page["data"]:
            return out

"""The heaviest requests a client may send, four of each at once, while a probe times
``GET /healthz`` and reads the server's resident memory (issue 24).

Shared by ``tests/e2e/test_pathological.py`` (which asserts the bounds) and
``bench/bench_heavy.py`` (which prints the figures for ``bench/RESULTS.md``). Every
request is new to the server: no answer cache or table built by an earlier request
helps it.

- ``predict``: a 10,000-point ``POST /v1/predict`` list (the most the schema allows);
- ``allocate``: a time-optimal ``POST /v1/allocate`` (throughput model) over 1,048,576
  shapes (the largest grid allowed) with a new ``n_gpus`` each time;
- ``overspend``: ``POST /v1/overspend`` over the same grid with a new ``n_gpus``;
- ``plot``: ``GET /v1/overspend/plot.png`` over the widest and deepest map allowed, a new
  ``n_gpus`` each time;
- ``frontier``: a 1,000-point ``POST /v1/frontier`` over the largest grid with a new
  aspect ratio each time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

__all__ = ["KINDS", "Load", "heavy_request", "rss_kib", "run_load"]

LARGE = {"head_dim": 8, "kv_group": 1, "max_depth": 128}
"""8,192 widths x 128 depths = 1,048,576 shapes: the most one search may consider."""
TIME_OPTIMAL = {"law": "gemstones-2025", "throughput": "gemstones-mi250x"}
KINDS = ("predict", "allocate", "overspend", "plot", "frontier")


def _gpus(client: int, round_: int) -> int:
    """A GPU count no other request of the load uses (each GPU keeps a sequence of the
    4,194,304-token batch: at most 2,048)."""
    return 17 + 97 * client + 7 * round_


def heavy_request(kind: str, client: int, round_: int) -> tuple[str, str, dict[str, Any]]:
    """``(method, path, httpx keyword arguments)`` of one pathological request."""
    if kind == "predict":
        base = 1e8 * (1 + client + 10 * round_)
        points = [{"params": base + i, "tokens": 2e10 + i} for i in range(10_000)]
        return "POST", "/v1/predict", {"json": points}
    if kind == "allocate":
        body = {**TIME_OPTIMAL, "gpu_hours": 1e4, "n_gpus": _gpus(client, round_)}
        return "POST", "/v1/allocate", {"json": {**body, "constraints": LARGE}}
    if kind == "overspend":
        body = {**TIME_OPTIMAL, "width": 1024, "depth": 28, "target_loss": 3.2}
        body |= {"n_gpus": _gpus(client, round_) + 3, "constraints": LARGE}
        return "POST", "/v1/overspend", {"json": body}
    if kind == "plot":
        query = {"throughput": "gemstones-mi250x", "target_loss": 3.2, "max_width": 16384}
        query |= {"max_depth": 256, "n_gpus": _gpus(client, round_) + 5}
        return "GET", "/v1/overspend/plot.png", {"params": query}
    assert kind == "frontier", kind
    constraints = {**LARGE, "aspect_ratio": 20.0 + client * 10 + round_ * 0.37}
    body = {"law": "epoch-2024", "flops_min": 1e18, "flops_max": 1e32, "points": 1000}
    return "POST", "/v1/frontier", {"json": {**body, "constraints": constraints}}


def rss_kib(pid: int) -> tuple[int, int]:
    """``(VmRSS, VmHWM)`` of process ``pid`` in KiB: resident memory now and at its peak
    (``/proc/<pid>/status``)."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


@dataclass
class Load:
    """What one run of the load saw."""

    statuses: dict[str, list[int]] = field(default_factory=lambda: {k: [] for k in KINDS})
    latencies: list[float] = field(default_factory=list)
    """Seconds of each back-to-back ``GET /healthz`` while the load ran."""
    rss_kib: list[int] = field(default_factory=list)
    """The server's VmRSS at each probe."""
    rss_before_kib: int = 0
    hwm_kib: int = 0
    """The server's VmHWM after the load: its peak resident memory."""
    seconds: float = 0.0
    bodies: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})
    """The first bytes of each refused answer (a 503's reason, say)."""
    retry_after: list[str | None] = field(default_factory=list)
    """The ``Retry-After`` header of each 503."""

    def percentile_ms(self, q: float) -> float:
        return float(np.percentile(self.latencies, q)) * 1e3

    @property
    def peak_rss_mib(self) -> float:
        return max([*self.rss_kib, self.hwm_kib]) / 1024


def _probe(url: str, pid: int, until: Callable[[], bool], load: Load) -> None:
    with httpx.Client(base_url=url, timeout=30) as http:
        while not until():
            start = time.perf_counter()
            status = http.get("/healthz").status_code
            load.latencies.append(time.perf_counter() - start)
            assert status == 200, status
            load.rss_kib.append(rss_kib(pid)[0])


def run_load(url: str, pid: int, *, clients: int = 4, rounds: int = 2) -> Load:
    """``clients`` clients of each kind send ``rounds`` requests each, all at once, while
    a probe times ``/healthz`` back to back and reads the server's VmRSS."""
    load = Load(rss_before_kib=rss_kib(pid)[0])
    go = threading.Barrier(clients * len(KINDS) + 1)

    def client(kind: str, i: int) -> None:
        with httpx.Client(base_url=url, timeout=300) as http:
            go.wait()
            for round_ in range(rounds):
                method, path, kwargs = heavy_request(kind, i, round_)
                answer = http.request(method, path, **kwargs)
                load.statuses[kind].append(answer.status_code)
                if answer.status_code != 200:
                    load.bodies[kind].append(answer.text[:200])
                if answer.status_code == 503:
                    load.retry_after.append(answer.headers.get("retry-after"))

    threads = [
        threading.Thread(target=client, args=(kind, i)) for kind in KINDS for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    go.wait()
    start = time.perf_counter()
    _probe(url, pid, lambda: not any(t.is_alive() for t in threads), load)
    for thread in threads:
        thread.join()
    load.seconds = time.perf_counter() - start
    load.hwm_kib = rss_kib(pid)[1]
    return load

"""Bounded soak of ``flopwise serve`` + ``flopwise worker`` on PostgreSQL, with SIGKILLs.

On loopback only: creates a fresh database on ``--postgres-url`` (127.0.0.1), starts
``flopwise serve`` (one in-process refit worker) and ``--worker-procs`` ``flopwise worker``
processes, then for ``--seconds``: 4 clients post batches of synthetic Chinchilla-like runs
(idempotent (dataset, run, tokens) keys; a run counts as acknowledged only after a 2xx),
32 clients query (/v1/allocate with a new budget, /v1/predict, GET /v1/laws), refits follow
ingestion (short debounce), and every ``--kill-every`` seconds a worker and the server are
SIGKILLed and restarted on the same database and port. Then it checks: acknowledged runs
lost (GET /v1/runs), 5xx (connection errors counted apart), law versions monotonic and
immutable (polled /v1/laws/{id}@v), query p50/p99 overall and while a refit job runs.

Run: ``python bench/bench_soak.py [--seconds 600] [--kill-every 60] [--write-results]``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
DATASETS = ("soak-a", "soak-b", "soak-c")
SIZES = (2e7, 5e7, 1e8, 2e8, 4e8, 8e8, 1.6e9)


@dataclass
class Stats:
    acked: set[tuple[str, str, float]] = field(default_factory=set)
    latencies: list[tuple[float, bool]] = field(default_factory=list)  # (seconds, refit running)
    status: dict[str, int] = field(default_factory=dict)
    five_xx: list[str] = field(default_factory=list)
    conn_errors: int = 0
    versions: dict[str, int] = field(default_factory=dict)  # latest version seen per law
    digests: dict[str, str] = field(default_factory=dict)  # "id@v" -> digest of its content
    violations: list[str] = field(default_factory=list)
    refit_running: bool = False
    refit_seen: set[str] = field(default_factory=set)
    kills: int = 0
    started: float = 0.0  # when the server last became healthy
    failed_refits: list[str] = field(default_factory=list)

    def record(self, method: str, r: httpx.Response) -> None:
        key = f"{r.status_code // 100}xx"
        self.status[key] = self.status.get(key, 0) + 1
        if r.status_code >= 500:
            code = f"{r.status_code} {r.text[:80]}"
            self.status[code] = self.status.get(code, 0) + 1
            after = time.monotonic() - self.started
            self.five_xx.append(f"{method} {r.url.path} {after:.1f} s after a (re)start: {code}")


class Cluster:
    """The server and worker processes, restartable on the same port and database."""

    def __init__(self, db_url: str, workers: int, tmp: Path, debounce: float) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.tmp, self.n_workers, self.starts = tmp, workers, 0
        base = {k: v for k, v in os.environ.items() if not k.startswith("FLOPWISE_")}
        self.env = {
            **base,
            "PYTHONUNBUFFERED": "1",
            "FLOPWISE_DATABASE_URL": db_url,
            "FLOPWISE_DATA_DIR": str(tmp),
            "FLOPWISE_WORKERS": "1",
            "FLOPWISE_CALIBRATION_WORKERS": "0",
            "FLOPWISE_REFIT_DEBOUNCE_SECONDS": str(debounce),
            "FLOPWISE_REFIT_MAX_DELAY_SECONDS": "10",
            "FLOPWISE_JOB_LEASE_SECONDS": "10",
            "FLOPWISE_JOB_POLL_SECONDS": "0.2",
            "FLOPWISE_LAW_POLL_SECONDS": "0.5",
        }
        self.server: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []

    def _spawn(self, *args: str) -> subprocess.Popen[bytes]:
        self.starts += 1
        argv = [sys.executable, "-m", "flopwise.service", *args, "--log-level", "warning"]
        with (self.tmp / f"{args[0]}-{self.starts}.log").open("wb") as log:
            return subprocess.Popen(argv, cwd=REPO, env=self.env, stdout=log, stderr=log)

    async def start(self) -> None:
        if self.server is None or self.server.poll() is not None:
            self.server = self._spawn("serve", "--host", "127.0.0.1", "--port", str(self.port))
        self.workers = [w for w in self.workers if w.poll() is None]
        while len(self.workers) < self.n_workers:
            self.workers.append(self._spawn("worker", "--workers", "1", "--calibrations", "0"))
        async with httpx.AsyncClient(timeout=2) as client:
            for _ in range(1200):
                if self.server.poll() is not None:
                    raise RuntimeError(f"flopwise serve exited {self.server.returncode}")
                try:
                    if (await client.get(self.url + "/healthz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError("flopwise serve did not become healthy in 120 s")

    def kill(self) -> int:
        """SIGKILL the server and one worker; the number of processes killed."""
        victims = [p for p in (self.server, *self.workers[:1]) if p and p.poll() is None]
        for proc in victims:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        return len(victims)

    def stop(self) -> None:
        for proc in (self.server, *self.workers):
            if proc and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()


def _loss(params: float, tokens: float, rng: random.Random) -> float:
    """Chinchilla's fitted law (Hoffmann et al. 2022) with 1% noise."""
    return float(1.69 + 406.4 / params**0.34 + 410.7 / tokens**0.28) * (1 + 0.01 * rng.gauss(0, 1))


async def ingest(url: str, client_id: int, end: float, st: Stats, interval: float) -> None:
    rng = random.Random(client_id)
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        batch = 0
        while time.monotonic() < end:
            dataset, size = rng.choice(DATASETS), rng.choice(SIZES)
            run = f"c{client_id}-b{batch}"
            rows = [
                {"dataset": dataset, "run": run, "params": size, "tokens": size * 20 * 2 ** (k - 3)}
                | {"loss": _loss(size, size * 20 * 2 ** (k - 3), rng)}
                for k in range(8)
            ]
            while time.monotonic() < end:  # the same batch again until it is acknowledged
                try:
                    r = await http.post("/v1/runs", json={"runs": rows})
                except httpx.HTTPError:
                    st.conn_errors += 1
                    await asyncio.sleep(0.2)
                    continue
                st.record("POST", r)
                if r.is_success:
                    st.acked.update((dataset, run, float(row["tokens"])) for row in rows)
                    break
                await asyncio.sleep(0.2)
            batch += 1
            await asyncio.sleep(interval)


async def query(url: str, client_id: int, end: float, st: Stats) -> None:
    rng = random.Random(1000 + client_id)
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        while time.monotonic() < end:
            fitted = [law for law in st.versions if rng.random() < 0.5]
            law = rng.choice(fitted) if fitted else "chinchilla-2022"
            pick = rng.random()
            during = st.refit_running
            start = time.perf_counter()
            try:
                if pick < 0.5:
                    body = {"law": law, "flops": 10 ** rng.uniform(19, 24)}
                    r = await http.post("/v1/allocate", json=body)
                elif pick < 0.8:
                    body = {"law": law, "params": 10 ** rng.uniform(7, 10), "tokens": 1e11}
                    r = await http.post("/v1/predict", json=body)
                else:
                    r = await http.get("/v1/laws")
            except httpx.HTTPError:
                st.conn_errors += 1
                await asyncio.sleep(0.2)
                continue
            st.latencies.append((time.perf_counter() - start, during))
            st.record("POST" if pick < 0.8 else "GET", r)


def _digest(law: dict[str, Any]) -> str:
    keep = {k: law[k] for k in ("constants", "dataset", "form", "fit", "domain", "diagnostics")}
    return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()


async def watch(url: str, end: float, st: Stats) -> None:
    """Poll refit jobs (is one running?) and fitted laws (versions monotonic, immutable)."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        while time.monotonic() < end:
            try:
                jobs = (await http.get("/v1/jobs?kind=refit&status=running&limit=50")).json()
                st.refit_running = jobs["count"] > 0
                st.refit_seen.update(job["id"] for job in jobs["data"])
                laws = (await http.get("/v1/laws")).json()["data"]
                for summary in (law for law in laws if not law["builtin"]):
                    law_id, latest = summary["id"], summary["version"]
                    if latest < st.versions.get(law_id, 0):
                        st.violations.append(
                            f"{law_id}: latest {latest} after {st.versions[law_id]}"
                        )
                    st.versions[law_id] = max(latest, st.versions.get(law_id, 0))
                    for v in {latest, random.choice(summary["versions"])}:
                        r = await http.get(f"/v1/laws/{law_id}@{v}")
                        st.record("GET", r)
                        if r.status_code != 200:
                            continue
                        key, digest = f"{law_id}@{v}", _digest(r.json())
                        if st.digests.setdefault(key, digest) != digest:
                            st.violations.append(f"{key} changed content")
            except (httpx.HTTPError, ValueError, KeyError):
                await asyncio.sleep(0.2)  # the server is being killed
            await asyncio.sleep(0.25)


async def killer(cluster: Cluster, end: float, every: float, st: Stats) -> None:
    while time.monotonic() + every < end:
        await asyncio.sleep(every)
        st.kills += cluster.kill()
        await cluster.start()
        st.started = time.monotonic()


async def verify(url: str, st: Stats) -> tuple[int, int, int, int]:
    """Lost acknowledged runs, stored runs, refits succeeded and failed."""
    stored: set[tuple[str, str, float]] = set()
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        for dataset in DATASETS:
            offset = 0
            while True:
                params: dict[str, str | int] = {"dataset": dataset, "offset": offset, "limit": 1000}
                page = (await http.get("/v1/runs", params=params)).json()
                stored.update((dataset, r["run"], float(r["tokens"])) for r in page["data"])
                offset += len(page["data"])
                if offset >= page["count"] or not page["data"]:
                    break
        done = []
        for status in ("succeeded", "failed"):
            r = await http.get(
                "/v1/jobs", params={"kind": "refit", "status": status, "limit": 1000}
            )
            done.append(r.json()["count"])
            if status == "failed":
                st.failed_refits += [f"{j['id']}: {j['error']}" for j in r.json()["data"]]
    lost = st.acked - stored
    for key in sorted(lost)[:10]:
        print("lost acknowledged run:", key, file=sys.stderr)
    return len(lost), len(stored), done[0], done[1]


def _pct(values: list[float], q: float) -> str:
    if not values:
        return "-"
    values = sorted(values)
    return f"{values[min(len(values) - 1, int(q * len(values)))] * 1e3:.1f}"


def _machine() -> str:
    cpu = platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} CPU(s), {cpu}, Python {platform.python_version()}, {platform.system()} {platform.release()}"


async def soak(args: argparse.Namespace, db_url: str, tmp: Path) -> list[str]:
    cluster = Cluster(db_url, args.worker_procs, tmp, args.debounce)
    st = Stats()
    load_start = os.getloadavg()[0]
    await cluster.start()
    st.started = time.monotonic()
    try:
        end = time.monotonic() + args.seconds
        await asyncio.gather(
            *(ingest(cluster.url, i, end, st, args.ingest_interval) for i in range(4)),
            *(query(cluster.url, i, end, st) for i in range(args.query_clients)),
            watch(cluster.url, end, st),
            killer(cluster, end, args.kill_every, st),
        )
        await cluster.start()  # whatever the last kill left down
        lost, stored, succeeded, failed = await verify(cluster.url, st)
    finally:
        cluster.stop()
    overall = [s for s, _ in st.latencies]
    refit = [s for s, during in st.latencies if during]
    five = st.status.get("5xx", 0)
    lines = [
        f"machine: {_machine()}; load average {load_start:.1f} at start, {os.getloadavg()[0]:.1f} at end",
        f"soak: {args.seconds} s, SIGKILL of the server and one worker every {args.kill_every} s, "
        f"PostgreSQL on 127.0.0.1, `flopwise serve` (1 in-process refit worker) + "
        f"{args.worker_procs} `flopwise worker`, 4 ingest clients, {args.query_clients} query clients",
        "| figure | value |",
        "|---|---|",
        f"| acknowledged runs lost | {lost} of {len(st.acked):,} acknowledged ({stored:,} stored) |",
        f"| 5xx responses | {five} |",
        f"| connection errors (during kills, not 5xx) | {st.conn_errors:,} |",
        f"| responses 2xx / 4xx | {st.status.get('2xx', 0):,} / {st.status.get('4xx', 0):,} |",
        f"| law versions monotonic and immutable | {'yes' if not st.violations else 'NO'} "
        f"({len(st.digests)} versions of {len(st.versions)} fitted laws checked) |",
        f"| query p50 / p99 ms, overall | {_pct(overall, 0.5)} / {_pct(overall, 0.99)} ({len(overall):,} queries) |",
        f"| query p50 / p99 ms, while a refit runs | {_pct(refit, 0.5)} / {_pct(refit, 0.99)} ({len(refit):,} queries) |",
        f"| processes SIGKILLed | {st.kills} |",
        f"| refits succeeded / failed | {succeeded} / {failed} ({len(st.refit_seen)} seen running) |",
    ]
    lines += [f"- {k}: {n}" for k, n in st.status.items() if k[0] == "5" and k != "5xx"]
    for item in st.five_xx[:3] + st.violations[:5] + st.failed_refits[:5]:
        lines.append(f"- {item}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--kill-every", type=float, default=60)
    parser.add_argument("--worker-procs", type=int, choices=(1, 2), default=1)
    parser.add_argument("--query-clients", type=int, default=32)
    parser.add_argument("--ingest-interval", type=float, default=1.0, help="Pause per batch.")
    parser.add_argument("--debounce", type=float, default=1.0)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "FLOPWISE_TEST_POSTGRES_URL",
            "postgresql+psycopg://postgres@127.0.0.1:35553/flopwise_test",
        ),
    )
    parser.add_argument("--write-results", action="store_true", help="Append to bench/RESULTS.md.")
    args = parser.parse_args()
    base = make_url(args.postgres_url)
    if base.host != "127.0.0.1":
        raise SystemExit("the soak runs on loopback only: --postgres-url must name 127.0.0.1")
    name = f"flopwise_soak_{uuid.uuid4().hex[:10]}"
    dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory() as tmp:
            db_url = base.set(database=name).render_as_string(hide_password=False)
            lines = asyncio.run(soak(args, db_url, Path(tmp)))
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print("\n".join(lines))
    if args.write_results:
        stamp = time.strftime("%Y-%m-%d %H:%M")
        text = f"\n## Soak (bench/bench_soak.py, {stamp})\n\n" + "\n\n".join(lines[:2])
        text += "\n\n" + "\n".join(lines[2:]) + "\n"
        with (REPO / "bench" / "RESULTS.md").open("a") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()

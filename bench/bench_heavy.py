"""Heavy requests against one ``flopwise serve``: ``/healthz`` latency and resident memory.

Four clients of each pathological kind at once (``tests/e2e/heavy_load.py``: 10,000-point
predict lists, time-optimal allocations with a new GPU count over 1,048,576 shapes,
overspend and its plot with a new GPU count, 1,000-point frontiers with a new aspect
ratio), each sending ``--rounds`` requests, while a probe times ``GET /healthz`` back to
back and reads the server's VmRSS (``/proc/<pid>/status``). Prints healthz p50/p99, the
peak RSS (VmHWM), the answers by status and the load's wall time. ``--repo`` serves
another checkout (the baseline: the same load against the code before a change).

Run: ``python bench/bench_heavy.py [--rounds 2] [--repo PATH] [--write-results]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_http import _machine, _start_server  # noqa: E402
from tests.e2e.heavy_load import KINDS, Load, run_load  # noqa: E402


def report(load: Load, label: str) -> list[str]:
    answers = "; ".join(
        f"{kind} " + ", ".join(f"{s}x{load.statuses[kind].count(s)}" for s in sorted(set(v)))
        for kind, v in load.statuses.items()
    )
    return [
        f"| {label} | {load.percentile_ms(50):.1f} | {load.percentile_ms(99):.1f} | "
        f"{max(load.latencies) * 1e3:.0f} | {len(load.latencies):,} | "
        f"{load.rss_before_kib / 1024:.0f} | {load.peak_rss_mib:.0f} | {load.seconds:.1f} | "
        f"{answers} |"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="Requests per client.")
    parser.add_argument("--clients", type=int, default=4, help="Clients of each kind.")
    parser.add_argument("--repo", type=Path, default=REPO, help="Checkout to serve.")
    parser.add_argument("--label", default="this checkout")
    parser.add_argument("--write-results", action="store_true", help="Append to bench/RESULTS.md.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = _start_server(Path(tmp), args.repo.resolve())
        try:
            load = run_load(url, proc.pid, clients=args.clients, rounds=args.rounds)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        for kind in KINDS:
            for body in load.bodies[kind][:2]:
                print(f"{kind}: {body}", file=sys.stderr)
    lines = [
        f"machine: {_machine()}, load average {os.getloadavg()[0]:.1f}",
        f"load: {args.clients} clients of each of {', '.join(KINDS)}, {args.rounds} requests "
        "each, at once; one probe timing GET /healthz back to back",
        "| server | healthz p50 ms | p99 ms | max ms | probes | RSS before MiB | peak RSS MiB "
        "| load s | answers (status x count) |",
        "|---|---|---|---|---|---|---|---|---|",
        *report(load, args.label),
    ]
    print("\n".join(lines))
    if args.write_results:
        stamp = time.strftime("%Y-%m-%d %H:%M")
        with (REPO / "bench" / "RESULTS.md").open("a") as fh:
            fh.write(f"\n## Heavy requests (bench/bench_heavy.py, {stamp})\n\n")
            fh.write("\n\n".join(lines[:2]) + "\n\n" + "\n".join(lines[2:]) + "\n")


if __name__ == "__main__":
    main()

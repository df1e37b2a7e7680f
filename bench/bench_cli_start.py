"""How fast the command line starts: ``flopwise --help`` and an allocation from a built-in
law, against ``python -c pass`` timed in the same run (issue 18, "Light start").

Each command runs as a fresh process ``--repeats`` times (after one warm-up run that
fills the OS file cache), and the median wall time is printed with its ratio to
``python -c pass``. With ``--baseline DIR`` (a checkout of an earlier commit, e.g.
``git worktree add /tmp/old ca6ca0e``) the same allocation is also timed from that
checkout's code, in the same run, and the speed-up is printed.

Run: ``python bench/bench_cli_start.py [--baseline DIR] [--repeats 15]`` (prints figures;
not a test).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time

ALLOCATE = ["allocate", "--flops", "1e21", "--json"]
"""One answer from the default built-in law (epoch-2024), as a script would ask."""


def _cli(args: list[str], root: str | None = None) -> list[str]:
    """The ``flopwise`` command line, from this checkout or from ``root``'s code."""
    path = f"import sys; sys.path.insert(0, {root!r}); " if root else "import sys; "
    code = f"{path}sys.argv = ['flopwise', *{args!r}]; from flopwise.service.cli import run; run()"
    return [sys.executable, "-c", code]


def median_seconds(argv: list[str], repeats: int) -> float:
    """Median wall time of ``argv`` as a fresh process (one warm-up run first)."""
    subprocess.run(argv, capture_output=True, check=False)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", default=None, help="checkout of an earlier commit")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    floor = median_seconds([sys.executable, "-c", "pass"], args.repeats)
    rows = [
        ("python -c pass", floor),
        ("flopwise --help", median_seconds(_cli(["--help"]), args.repeats)),
        ("flopwise allocate --flops 1e21 --json", median_seconds(_cli(ALLOCATE), args.repeats)),
    ]
    if args.baseline:
        old = median_seconds(_cli(ALLOCATE, args.baseline), args.repeats)
        rows.append((f"same allocate, code of {args.baseline}", old))
    for name, seconds in rows:
        print(f"{name:<52} {seconds * 1e3:8.0f} ms  {seconds / floor:6.1f} x python -c pass")
    if args.baseline:
        print(f"allocate starts {rows[3][1] / rows[2][1]:.2f}x faster than the baseline's")


if __name__ == "__main__":
    main()

"""The service image: its size, and its cold start to healthy against the same server on the host.

Builds the Dockerfile's default target offline with podman, as tests/e2e/test_container.py
does (needs ``eval "$(.ci/prepare-container)"``; cached layers make a rebuild of an
unchanged tree take seconds). Then, alternating, ``--repeat`` times each:

* container: ``podman run`` (host network, fresh named volume) until ``GET /healthz``
  answers 200, and until ``podman healthcheck run`` (the image's HEALTHCHECK) passes;
* baseline: ``python -m flopwise.service serve`` on the host (fresh SQLite directory) until
  ``GET /healthz`` answers 200.

Reports medians and the ratio container/host, the image's size and its base image's.

Run: ``python bench/bench_container.py [--repeat 5] [--append]`` (``--append`` adds a
section to bench/RESULTS.md). Prints figures; not a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.podman import (  # noqa: E402
    BASE_IMAGE,
    Container,
    Podman,
    build_context,
    build_image,
    free_port,
    podman_or_skip,
    remove_volume,
)

TAG = "localhost/flopwise-bench/service:latest"


def wait_http(url: str, since: float, timeout: float = 120.0) -> float:
    """Seconds from ``since`` until ``GET url/healthz`` answers 200."""
    while time.monotonic() < since + timeout:
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return time.monotonic() - since
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} not healthy after {timeout} s")


def container_start(podman: Podman) -> tuple[float, float]:
    """(seconds to the first 200 from /healthz, seconds to a passing HEALTHCHECK)."""
    volume = f"flopwise-bench-{uuid.uuid4().hex[:8]}"
    podman.run("volume", "create", volume)
    container = Container(podman, TAG, env={}, volume=volume)
    try:
        started = time.monotonic()
        container.launch()
        http = wait_http(container.url, started)
        return http, container.wait_healthy(started)
    finally:
        container.remove()
        remove_volume(podman, [volume])


def host_start() -> float:
    """Seconds from spawning ``flopwise serve`` on the host to the first 200 from /healthz."""
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLOPWISE_")}
        env["FLOPWISE_DATA_DIR"] = data
        argv = [sys.executable, "-m", "flopwise.service", "serve", "--port", str(port)]
        started = time.monotonic()
        proc = subprocess.Popen(
            argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            return wait_http(f"http://127.0.0.1:{port}", started)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def image_mb(podman: Podman, image: str) -> float:
    return int(podman.run("image", "inspect", "--format", "{{.Size}}", image).stdout) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--append", action="store_true")
    args = parser.parse_args()
    podman = podman_or_skip()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        build_image(podman, build_context(podman, Path(tmp) / "context"), TAG)
        build_s = time.monotonic() - started
    containers, hosts = [], []
    for _ in range(args.repeat):
        containers.append(container_start(podman))
        hosts.append(host_start())
    http = statistics.median(c[0] for c in containers)
    health = statistics.median(c[1] for c in containers)
    host = statistics.median(hosts)
    load = os.getloadavg()[0]
    base = "stand-in (Debian bookworm, debootstrap)" if stand_in(podman) else "python:3.11-slim"
    text = "\n".join(
        [
            f"## Container: image size and cold start (bench/bench_container.py, {time.strftime('%Y-%m-%d %H:%M')})",
            "",
            f"machine: {os.cpu_count()} CPU(s), {platform.machine()}, Linux {platform.release()}, "
            f"podman (runc, cgroupfs, overlay), load average {load:.1f} at the end",
            "",
            "| figure | container | host baseline | ratio |",
            "|---|---|---|---|",
            f"| cold start to first 200 from /healthz (median of {args.repeat}) | {http:.2f} s | {host:.2f} s | {http / host:.2f}x |",
            f"| cold start to a passing HEALTHCHECK (`podman healthcheck run`) | {health:.2f} s | - | - |",
            f"| service image size | {image_mb(podman, TAG):.0f} MB | base {base}: {image_mb(podman, BASE_IMAGE):.0f} MB | - |",
            "",
            f"build of the image (offline wheelhouse; cached layers when the tree is unchanged): {build_s:.1f} s",
            "",
        ]
    )  # fmt: skip
    print(text)
    podman.run("image", "rm", TAG)
    if args.append:
        with (REPO / "bench" / "RESULTS.md").open("a") as out:
            out.write("\n" + text)


def stand_in(podman: Podman) -> bool:
    """Whether the base image is the Debian stand-in .ci/prepare-container builds."""
    done = podman.run("image", "inspect", "--format", "{{.Config.Env}}", BASE_IMAGE)
    return "/usr/local/python/bin" in done.stdout


if __name__ == "__main__":
    main()

"""Podman for the container test: the image built from the Dockerfile, containers run from it.

``podman_or_skip()`` returns a :class:`Podman` when this machine can build and run
containers, else skips with the reason (fails instead when ``FLOPWISE_REQUIRE_CONTAINER=1``,
as in CI). What it needs comes from ``eval "$(.ci/prepare-container)"``: podman and runc,
``CONTAINERS_CONF`` (runc, cgroupfs, no default ulimits), the base image
``python:3.11-slim`` (pulled or a Debian stand-in) and ``FLOPWISE_CONTAINER_WHEELS``, a
wheelhouse of flopwise's dependencies; the image is built offline from it
(``--build-arg WHEELS``) with a wheel of the working tree's flopwise.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.shared_data import REPO

__all__ = ["Container", "Podman", "build_context", "build_image", "package_index", "podman_or_skip"]

BASE_IMAGE = "docker.io/library/python:3.11-slim"
PREPARE = 'eval "$(.ci/prepare-container)"'
# Copied into the build context: what a checkout holds, without local build output.
CONTEXT_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", "*.egg-info", "build", "dist", "wheels", "flopwise-data",
    ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis",
)  # fmt: skip


@dataclass(frozen=True)
class Podman:
    """``podman`` with runc and cgroupfs (crun fails on this kind of host)."""

    wheels: Path

    def argv(self, *args: str) -> list[str]:
        return ["podman", "--runtime", "runc", "--cgroup-manager=cgroupfs", *args]

    def run(
        self, *args: str, timeout: float = 120.0, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            self.argv(*args), capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and done.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} -> {done.returncode}:\n{done.stderr}")
        return done


def _unavailable(reason: str) -> None:
    if os.environ.get("FLOPWISE_REQUIRE_CONTAINER") == "1":
        pytest.fail(f"{reason} and FLOPWISE_REQUIRE_CONTAINER=1")
    pytest.skip(reason)


def podman_or_skip() -> Podman:
    """A :class:`Podman` that can build and run the image, or skip saying why not."""
    if shutil.which("podman") is None or shutil.which("runc") is None:
        _unavailable(f"podman and runc are not installed ({PREPARE})")
    wheels = os.environ.get("FLOPWISE_CONTAINER_WHEELS")
    if not wheels or not Path(wheels).is_dir() or not os.environ.get("CONTAINERS_CONF"):
        _unavailable(f"FLOPWISE_CONTAINER_WHEELS and CONTAINERS_CONF are not set ({PREPARE})")
    podman = Podman(wheels=Path(str(wheels)))
    info = podman.run("info", "--format", "{{.Host.OCIRuntime.Name}}", check=False)
    if info.returncode != 0:
        _unavailable(f"podman cannot run containers here: {info.stderr.strip()[-300:]}")
    if podman.run("image", "exists", BASE_IMAGE, check=False).returncode != 0:
        _unavailable(f"the base image {BASE_IMAGE} is missing ({PREPARE})")
    return podman


def build_context(podman: Podman, dest: Path) -> Path:
    """The working tree plus a wheelhouse (cached dependencies, flopwise built from it).

    The flopwise wheel is built with a fixed ``SOURCE_DATE_EPOCH``, so an unchanged tree
    gives the same bytes and podman reuses its cached layers.
    """
    shutil.copytree(REPO, dest, symlinks=True, ignore=CONTEXT_IGNORE)
    wheels = dest / "wheels"
    wheels.mkdir()
    for wheel in podman.wheels.glob("*.whl"):
        if not wheel.name.startswith("flopwise-"):
            shutil.copy2(wheel, wheels / wheel.name)
    pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index"]
    subprocess.run(
        [*pip, "--find-links", str(podman.wheels), "--wheel-dir", str(wheels), str(dest)],
        env={**os.environ, "SOURCE_DATE_EPOCH": "315532800"},
        capture_output=True,
        check=True,
        timeout=300,
    )
    shutil.rmtree(dest / "build", ignore_errors=True)
    return dest


def build_image(podman: Podman, context: Path, tag: str, build_arg: str = "WHEELS=wheels") -> str:
    """The Dockerfile's default target; by default offline from the context's wheelhouse."""
    podman.run(
        "build", "--format", "docker", "--network=host", "--build-arg", build_arg,
        "--tag", tag, str(context), timeout=900,
    )  # fmt: skip
    return tag


@contextmanager
def package_index(wheels: Path, root: Path) -> Iterator[tuple[str, Path]]:
    """A PEP 503 index of ``wheels`` served on 127.0.0.1: (its URL, the server's log)."""
    (root / "files").symlink_to(wheels.resolve())
    pages: dict[str, list[str]] = {}
    for wheel in sorted(wheels.glob("*.whl")):
        name = re.sub(r"[-_.]+", "-", wheel.name.split("-")[0]).lower()
        pages.setdefault(name, []).append(f'<a href="../../files/{wheel.name}">{wheel.name}</a>')
    for name, links in pages.items():
        (root / "simple" / name).mkdir(parents=True)
        (root / "simple" / name / "index.html").write_text("\n".join(links))
    port = free_port()
    log = root / "http.log"
    argv = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=root, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/simple/"
    try:
        deadline = time.monotonic() + 30
        while not _answers(url):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield url, log
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Container:
    """One container of the service image on the host network, listening on ``port``."""

    podman: Podman
    image: str
    env: dict[str, str]
    volume: str | None = None
    name: str = ""
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> float:
        """``podman run`` it; the seconds until its HEALTHCHECK first passes."""
        started = time.monotonic()
        self.launch()
        return self.wait_healthy(started)

    def launch(self) -> None:
        """``podman run --detach``, returning at once."""
        self.name = self.name or f"flopwise-test-{uuid.uuid4().hex[:10]}"
        self.port = self.port or free_port()
        env = {**self.env, "FLOPWISE_PORT": str(self.port)}
        args = ["run", "--detach", "--name", self.name, "--network=host"]
        # No systemd here to schedule checks: the test runs them (podman healthcheck run).
        args += ["--health-interval=disable"]
        args += [f"--env={key}={value}" for key, value in env.items()]
        if self.volume:
            args += ["--volume", f"{self.volume}:/data"]
        self.podman.run(*args, self.image)

    def wait_healthy(self, since: float, timeout: float = 120.0) -> float:
        deadline = since + timeout
        while time.monotonic() < deadline:
            if self.podman.run("healthcheck", "run", self.name, check=False).returncode == 0:
                return time.monotonic() - since
            if self.state() != "running":
                raise AssertionError(f"container exited:\n{self.logs()}")
            time.sleep(0.2)
        raise AssertionError(f"not healthy after {timeout} s:\n{self.logs()}")

    def restart(self) -> float:
        """``podman restart`` (SIGTERM, then start again); seconds until healthy."""
        started = time.monotonic()
        self.podman.run("restart", "--time", "10", self.name)
        return self.wait_healthy(started)

    def terminate(self) -> tuple[int, float]:
        """SIGTERM and wait for the exit: (exit status, seconds it took)."""
        started = time.monotonic()
        self.podman.run("kill", "--signal", "TERM", self.name)
        done = self.podman.run("wait", self.name, timeout=30)
        return int(done.stdout.strip()), time.monotonic() - started

    def state(self) -> str:
        done = self.podman.run("inspect", "--format", "{{.State.Status}}", self.name)
        return done.stdout.strip()

    def exec(self, *argv: str) -> str:
        return self.podman.run("exec", self.name, *argv).stdout

    def logs(self) -> str:
        done = self.podman.run("logs", self.name, check=False)
        return done.stdout + done.stderr

    def remove(self) -> None:
        if self.name:
            self.podman.run("rm", "--force", "--volumes", "--time", "0", self.name, check=False)


def remove_volume(podman: Podman, names: Sequence[str]) -> None:
    for name in names:
        podman.run("volume", "rm", "--force", name, check=False)

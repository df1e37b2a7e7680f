"""Whole-system fixtures: real ``flopwise serve`` and ``flopwise worker`` processes.

Reuse them from any e2e test (the calibration e2e test does)::

    def test_something(flopwise_server, e2e_store):
        server = flopwise_server(env={**e2e_store, "FLOPWISE_API_KEY": "k"})
        httpx.get(server.url + "/healthz")
        server.kill()                 # SIGKILL, as a crash
        server = server.restart()     # same port, data directory and environment

``flopwise_server(env=None, *, workers=1, ready_timeout=90)`` starts
``python -m service serve --host 127.0.0.1 --port <free>`` in the repository with
``FLOPWISE_DATA_DIR`` set to a fresh temporary directory (so SQLite lives there) plus
``env``, waits until ``GET /healthz`` answers and returns a :class:`ServerProcess`
(``url``, ``port``, ``proc``, ``log_text()``). ``flopwise_worker(env=None, threads=1)``
starts ``python -m service worker`` on the same store. ``e2e_store`` is parametrised:
``{}`` (embedded SQLite) and ``{"FLOPWISE_DATABASE_URL": <fresh PostgreSQL database>}``
(marked ``postgres``; see ``tests/pg.py``). Every process is stopped at teardown.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.pg import fresh_postgres_database
from tests.shared_data import REPO

__all__ = ["ServerProcess", "WorkerProcess"]

QUICK = {
    "FLOPWISE_JOB_POLL_SECONDS": "0.1",
    "FLOPWISE_LAW_POLL_SECONDS": "0.5",
    "FLOPWISE_REFIT_DEBOUNCE_SECONDS": "0.5",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(data_dir: Path, env: dict[str, str] | None) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("FLOPWISE_")}
    return {
        **base,
        "PYTHONUNBUFFERED": "1",
        "FLOPWISE_DATA_DIR": str(data_dir),
        **QUICK,
        **(env or {}),
    }


@dataclass
class _Process:
    proc: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str]

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: a crash, no shutdown code runs."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM and wait (SIGKILL after 20 s)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc.wait(timeout=30)


@dataclass
class ServerProcess(_Process):
    port: int = 0
    restart_with: Callable[[], ServerProcess] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def restart(self) -> ServerProcess:
        """Stop this server if it runs, start it again with the same port, data and env."""
        self.stop()
        assert self.restart_with is not None
        return self.restart_with()


@dataclass
class WorkerProcess(_Process):
    pass


def _wait_healthy(server: ServerProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(
                f"flopwise serve exited {server.proc.returncode}:\n{server.log_text()}"
            )
        try:
            if httpx.get(server.url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(
        f"flopwise serve did not become healthy in {timeout} s:\n{server.log_text()}"
    )


def _servers(tmp_path: Path) -> tuple[Callable[..., ServerProcess], list[_Process]]:
    """A function that starts ``flopwise serve`` processes under ``tmp_path``, and the
    list of those it started."""
    started: list[_Process] = []
    data_dir = tmp_path / "flopwise-data"

    def start(
        env: dict[str, str] | None = None,
        *,
        workers: int = 1,
        ready_timeout: float = 90.0,
        port: int | None = None,
    ) -> ServerProcess:
        port = port or _free_port()
        full_env = _environment(data_dir, {"FLOPWISE_WORKERS": str(workers), **(env or {})})
        log = tmp_path / f"serve-{port}-{len(started)}.log"
        argv = [
            sys.executable,
            "-m",
            "flopwise.service",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
        with log.open("wb") as out:
            proc = subprocess.Popen(
                argv, cwd=REPO, env=full_env, stdout=out, stderr=subprocess.STDOUT
            )
        server = ServerProcess(proc=proc, log=log, env=full_env, port=port)
        server.restart_with = lambda: start(
            env, workers=workers, ready_timeout=ready_timeout, port=port
        )
        started.append(server)
        _wait_healthy(server, ready_timeout)
        return server

    return start, started


@pytest.fixture
def flopwise_server(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    start, started = _servers(tmp_path)
    yield start
    for process in reversed(started):
        process.stop()


@pytest.fixture(scope="module")
def flopwise_server_module(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., ServerProcess]]:
    """:func:`flopwise_server` shared by the tests of one module."""
    start, started = _servers(tmp_path_factory.mktemp("serve"))
    yield start
    for process in reversed(started):
        process.stop()


@pytest.fixture
def flopwise_worker(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []
    data_dir = tmp_path / "flopwise-data"

    def start(env: dict[str, str] | None = None, *, threads: int = 1) -> WorkerProcess:
        full_env = _environment(data_dir, env)
        log = tmp_path / f"worker-{len(started)}.log"
        argv = [sys.executable, "-m", "flopwise.service", "worker", "--workers", str(threads)]
        with log.open("wb") as out:
            proc = subprocess.Popen(
                argv, cwd=REPO, env=full_env, stdout=out, stderr=subprocess.STDOUT
            )
        worker = WorkerProcess(proc=proc, log=log, env=full_env)
        started.append(worker)
        return worker

    yield start
    for process in reversed(started):
        process.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def e2e_store(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """Environment selecting the store: embedded SQLite, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield {}
    else:
        with fresh_postgres_database() as url:
            yield {"FLOPWISE_DATABASE_URL": url}

"""Slow-header connections cannot starve the server (issue 24): 1,000 connections that
send their headers a fragment at a time, against a server started at the common
1,024-descriptor limit, leave ``/healthz`` answering, and each is closed once its headers
have taken longer than ``FLOPWISE_HEADER_TIMEOUT_SECONDS``."""

from __future__ import annotations

import resource
import selectors
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import _environment, _free_port
from tests.shared_data import REPO

SLOW = 1000
TIMEOUT = 2.0


def _low_descriptor_limit() -> None:  # runs in the child before exec
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 4 * SLOW:
        pytest.skip(f"the hard open-file limit {hard} leaves no room above 1,024")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 4 * SLOW), hard))  # for the test
    port = _free_port()
    env = _environment(tmp_path / "data", {"FLOPWISE_HEADER_TIMEOUT_SECONDS": str(TIMEOUT),
                                           "FLOPWISE_WORKERS": "0"})  # fmt: skip
    argv = [sys.executable, "-m", "flopwise.service", "serve", "--port", str(port)]
    with (tmp_path / "serve.log").open("wb") as log:
        proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                preexec_fn=_low_descriptor_limit)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield port
    proc.terminate()
    proc.wait(timeout=30)


def test_slow_headers_are_closed_and_healthz_keeps_answering(server: int) -> None:
    port = server
    slow = []
    for _ in range(SLOW):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
        slow.append(sock)
    answered = 0
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
        for _ in range(50):
            answered += http.get("/healthz").status_code == 200
    assert answered == 50
    # the server closes every slow connection once its headers are overdue: each socket
    # then reads end-of-file (waited for together, bounded well past TIMEOUT)
    waiting = selectors.DefaultSelector()
    for sock in slow:
        sock.setblocking(False)
        waiting.register(sock, selectors.EVENT_READ)
    closed, deadline = 0, time.monotonic() + TIMEOUT + 30
    while closed < SLOW and time.monotonic() < deadline:
        for key, _ in waiting.select(timeout=1.0):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                data = sock.recv(1)
            except ConnectionResetError:
                data = b""
            if data == b"":
                waiting.unregister(sock)
                sock.close()
                closed += 1
    for key in list(waiting.get_map().values()):
        key.fileobj.close()  # type: ignore[union-attr]
    assert closed == SLOW

"""HTTP throughput and latency of ``flopwise serve``: /v1/allocate against a trivial endpoint.

Starts a real ``flopwise serve`` (SQLite in a temporary directory, no in-process
worker, access log off) and loads it from a separate process at 32 concurrent
connections: ``wrk`` when installed (``apt-get install -y wrk``), otherwise an asyncio
httpx client in a child process. The baseline, measured against the same server in
the same run, is ``GET /healthz`` (a dict from memory). Reports requests/s and p50/p99
latency per endpoint and the ratio allocate/trivial.

Targets (issue 4): allocate >= 0.7x the trivial endpoint's requests/s; p99 < 25 ms
on 2 cores.

Run: ``python bench/bench_http.py [--seconds 10] [--connections 32] [--append]``
(``--append`` adds a section to bench/RESULTS.md). Prints figures; not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
ALLOCATE_BODY = {"gpu_hours": 1e5, "gpu": "h100", "mfu": 0.4, "n_gpus": 64}
DISTINCT: dict[str, object] = {"distinct": True}
"""Marker: every request a different budget, so no answer comes from the cache."""


@dataclass(frozen=True)
class Load:
    name: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    tool: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(data_dir: Path, repo: Path = REPO) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "FLOPWISE_DATA_DIR": str(data_dir), "FLOPWISE_WORKERS": "0"}
    argv = [
        sys.executable,
        "-m",
        "flopwise.service",
        "serve",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(argv, cwd=repo, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if match is None:
        raise ValueError(f"cannot read a wrk latency from {text!r}")
    value, unit = match.groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


DISTINCT_LUA = """
counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"flops": %d.%de20}', 1 + counter % 9, counter)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
"""


def _wrk(url: str, path: str, body: dict[str, object] | None, seconds: int, conns: int) -> Load:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        if body == DISTINCT:
            script.write(DISTINCT_LUA)
        elif body is not None:
            script.write('wrk.method = "POST"\n')
            script.write(f"wrk.body = [[{json.dumps(body)}]]\n")
            script.write('wrk.headers["Content-Type"] = "application/json"\n')
    try:
        argv = [
            "wrk",
            "-t2",
            f"-c{conns}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            script.name,
            url + path,
        ]
        out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors:.*", out)
    errors = int(bad.group(1)) if bad else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(0)))
    name = path + (" (distinct budgets)" if body == DISTINCT else "")
    return Load(name, rps, p50, p99, errors, "wrk")


async def _client_load(
    url: str, path: str, body: str | None, seconds: float, conns: int
) -> dict[str, object]:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=conns, max_keepalive_connections=conns)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        end = time.perf_counter() + seconds

        async def one_connection() -> None:
            nonlocal errors
            while time.perf_counter() < end:
                start = time.perf_counter()
                content = body
                if body == json.dumps(DISTINCT):
                    content = json.dumps(
                        {"flops": 1e20 * (1 + len(latencies) % 9) * (1 + 1e-9 * len(latencies))}
                    )
                if content is None:
                    r = await client.get(path)
                else:
                    headers = {"content-type": "application/json"}
                    r = await client.post(path, content=content, headers=headers)
                latencies.append(time.perf_counter() - start)
                errors += r.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(one_connection() for _ in range(conns)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1e3,
        "p99": latencies[int(0.99 * (len(latencies) - 1))] * 1e3,
        "errors": errors,
    }


def _python_client(
    url: str, path: str, body: dict[str, object] | None, seconds: int, conns: int
) -> Load:
    """The asyncio client in a child process (never in the server's process)."""
    spec = json.dumps({"url": url, "path": path, "body": body, "seconds": seconds, "conns": conns})
    out = subprocess.run(
        [sys.executable, __file__, "--client", spec], capture_output=True, text=True, check=True
    ).stdout
    r = json.loads(out)
    name = path + (" (distinct budgets)" if body == DISTINCT else "")
    return Load(name, r["rps"], r["p50"], r["p99"], r["errors"], "httpx-asyncio")


def _run_client(spec_text: str) -> None:
    spec = json.loads(spec_text)
    body = None if spec["body"] is None else json.dumps(spec["body"])
    result = asyncio.run(
        _client_load(spec["url"], spec["path"], body, spec["seconds"], spec["conns"])
    )
    print(json.dumps(result))


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        names = [
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    try:
        from uvicorn.loops.auto import auto_loop_factory
        from uvicorn.protocols.http.auto import AutoHTTPProtocol

        http = AutoHTTPProtocol.__name__.removesuffix("Protocol")
        made = auto_loop_factory(use_subprocess=False)()
        loop = "uvloop" if "uvloop" in type(made).__module__ else "asyncio"
        made.close()
    except Exception:  # another uvicorn layout: say so rather than guess
        http, loop = "?", "?"
    return (
        f"{os.cpu_count()} CPU(s), {cpu}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, uvicorn http={http} loop={loop}"
    )


def _append(lines: list[str], note: str) -> None:
    """Add the figures as a section of bench/RESULTS.md."""
    stamp = time.strftime("%Y-%m-%d %H:%M")
    head = f"\n## HTTP: /v1/allocate vs /healthz (bench/bench_http.py, {stamp})\n\n"
    table = [line for line in lines if line.startswith("|")]
    prose = [line for line in lines if not line.startswith("|")]
    text = head + "\n\n".join(prose[:2]) + "\n\n" + "\n".join(table) + "\n\n" + prose[2] + "\n"
    if note:
        text += "\n" + note + "\n"
    with (REPO / "bench" / "RESULTS.md").open("a") as fh:
        fh.write(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--tool", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument(
        "--append", action="store_true", help="Append a section to bench/RESULTS.md."
    )
    parser.add_argument("--note", default="", help="A line to add under the appended figures.")
    parser.add_argument("--client", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        _run_client(args.client)
        return
    use_wrk = args.tool == "wrk" or (args.tool == "auto" and shutil.which("wrk"))
    load = _wrk if use_wrk else _python_client
    with tempfile.TemporaryDirectory() as data:
        proc, url = _start_server(Path(data))
        try:
            for path, body in (("/healthz", None), ("/v1/allocate", ALLOCATE_BODY)):
                load(url, path, body, 2, args.connections)  # warm up
            trivial = load(url, "/healthz", None, args.seconds, args.connections)
            allocate = load(url, "/v1/allocate", ALLOCATE_BODY, args.seconds, args.connections)
            distinct = load(url, "/v1/allocate", DISTINCT, args.seconds, args.connections)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    ratio = allocate.requests_per_s / trivial.requests_per_s
    lines = [
        f"machine: {_machine()}",
        f"load: {trivial.tool}, {args.connections} connections, {args.seconds} s per endpoint, one server process",
        "| endpoint | requests/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|",
        *(
            f"| {x.name} | {x.requests_per_s:,.0f} | {x.p50_ms:.2f} | {x.p99_ms:.2f} | {x.errors} |"
            for x in (trivial, allocate, distinct)
        ),
        f"allocate / trivial requests/s: {ratio:.2f} (target >= 0.7); allocate p99 "
        f"{allocate.p99_ms:.1f} ms (target < 25); distinct budgets (every answer computed): "
        f"{distinct.requests_per_s / trivial.requests_per_s:.2f}, p99 {distinct.p99_ms:.1f} ms",
    ]
    print("\n".join(lines))
    if args.append:
        _append(lines, args.note)


if __name__ == "__main__":
    main()

"""``flopwise serve`` (the API with an in-process worker) and ``flopwise worker``.

Both read the ``FLOPWISE_*`` settings; options given here override them.
"""

from __future__ import annotations

import gc
import ipaddress
import logging
import signal
import socket
import threading
from typing import Any

import click

from flopwise.service.cli.app import fail
from flopwise.service.config import Settings

__all__ = ["open_writes_warning", "serve_command", "worker_command"]


LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
LOG_LEVEL = click.option(
    "--log-level",
    type=click.Choice(LOG_LEVELS, case_sensitive=False),
    default="info",
    show_default=True,
    help="Least severe log messages shown.",
)


def _settings(**overrides: Any) -> Settings:
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValueError as exc:
        raise fail(str(exc)) from None


def _store(settings: Settings) -> str:
    """What the banner says the store is (from the URL actually used)."""
    url = settings.sqlalchemy_url
    if url.startswith("sqlite"):
        return "SQLite at " + url.split(":///", 1)[-1]
    return "PostgreSQL" if url.startswith("postgresql") else url.split(":", 1)[0]


def _claim_port(settings: Settings) -> socket.socket:
    """Bind the listening socket first: a busy port fails before any banner or migration."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as exc:
        sock.close()
        raise fail(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


def _banner(settings: Settings) -> None:
    url = settings.base_url
    store = _store(settings)
    workers = f"{settings.workers} refit + {settings.calibration_workers} calibration workers"
    click.echo(f"flopwise: serving on {url} (store: {store}, {workers})")
    click.echo(f"flopwise: try  curl {url}/healthz   or open {url}/docs")
    click.echo(
        f"""flopwise:      curl -X POST {url}/v1/allocate -H 'Content-Type: application/json' -d '{{"flops": 1e21}}'"""
    )


def open_writes_warning(settings: Settings) -> str | None:
    """The warning for a server other machines can reach that takes writes without a key.

    ``None`` when an API key is set or the server binds a loopback address only. A host
    name other than ``localhost`` counts as reachable (the container binds 0.0.0.0).
    """
    if settings.api_key:
        return None
    try:
        loopback = ipaddress.ip_address(settings.host).is_loopback
    except ValueError:
        loopback = settings.host == "localhost"
    if loopback:
        return None
    rule = "!" * 78
    return (
        f"\n{rule}\n"
        f"FLOPWISE_API_KEY is not set and the server listens on {settings.host}:{settings.port}:\n"
        "WRITES ARE OPEN to anyone who can reach this port (POST /v1/runs, /v1/fits, ...).\n"
        'Set FLOPWISE_API_KEY; writes then need "Authorization: Bearer <key>".\n'
        f"{rule}"
    )


@click.command("serve")
@click.option("--host", default=None, help="Interface to bind [FLOPWISE_HOST, 127.0.0.1].")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=None, help="Port [FLOPWISE_PORT, 8000]."
)
@click.option(
    "--workers", type=click.IntRange(min=0), default=None, help="In-process refit workers [1]."
)
@click.option(
    "--allow-calibrations",
    is_flag=True,
    default=None,
    help="Let POST /v1/calibrations run sweeps without an API key (a trusted machine only) "
    "[FLOPWISE_ALLOW_CALIBRATIONS].",
)
@LOG_LEVEL
def serve_command(
    host: str | None,
    port: int | None,
    workers: int | None,
    allow_calibrations: bool | None,
    log_level: str,
) -> None:
    """Serve the HTTP API (SQLite, built-in laws and an in-process worker by default)."""
    # deliberate laziness: the app, uvicorn and the store load only to serve, so the
    # CLI's other commands and every --help start light (tests/service/test_cli_start.py)
    import uvicorn

    from flopwise.service.http_limits import header_timeout_protocol, raise_descriptor_limit
    from flopwise.service.main import create_app

    settings = _settings(
        host=host, port=port, workers=workers, allow_calibrations=allow_calibrations
    )
    listener = _claim_port(settings)
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    _banner(settings)
    warning = open_writes_warning(settings)
    if warning:
        logging.getLogger("flopwise.service").warning(warning)
    app = create_app(settings)
    # Everything imported so far lives as long as the process: keep it out of the cyclic
    # GC's sweeps, which otherwise stall every request for tens of ms now and then.
    gc.freeze()
    descriptors = raise_descriptor_limit()
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=log_level.lower(),
        access_log=False,
        timeout_graceful_shutdown=10,
        http=header_timeout_protocol(settings.header_timeout_seconds),
        limit_concurrency=min(settings.max_connections, max(descriptors - 64, 16)),
    )
    uvicorn.Server(config).run(sockets=[listener])


@click.command("worker")
@click.option("--workers", "refits", type=int, default=1, show_default=True, help="Refit workers.")
@click.option("--threads", "refits", type=int, hidden=True, help="Old name of --workers.")
@click.option(
    "--calibrations",
    type=int,
    default=0,
    show_default=True,
    help="Calibration workers (sweeps run the trainer on this host's devices).",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Serve this process's Prometheus metrics on 127.0.0.1:PORT/metrics (off by default).",
)
@LOG_LEVEL
def worker_command(
    refits: int, calibrations: int, metrics_port: int | None, log_level: str
) -> None:
    """Run job workers against FLOPWISE_DATABASE_URL until stopped (SIGTERM, Ctrl-C)."""
    from functools import partial

    # deliberate laziness: the workers and the store load only to work (light --help)
    from prometheus_client import start_http_server

    from flopwise.service.main import start_workers
    from flopwise.service.metrics import Metrics
    from flopwise.service.registry import LawRegistry
    from flopwise.service.store import jobs as queue
    from flopwise.service.store.db import open_database

    if refits < 0 or calibrations < 0 or refits + calibrations < 1:
        raise fail("--workers and --calibrations: at least one worker, none negative")
    settings = _settings()
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    db = open_database(settings.sqlalchemy_url)
    registry = LawRegistry(db)
    metrics = None
    if metrics_port is not None:  # only recorded when something serves them
        metrics = Metrics(queue_depth=partial(queue.queue_depth, db))
        start_http_server(metrics_port, addr="127.0.0.1", registry=metrics.registry)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    workers = start_workers(
        db, settings, refits=refits, calibrations=calibrations, metrics=metrics, registry=registry
    )
    where = db.engine.url.render_as_string(hide_password=True)
    click.echo(f"flopwise worker: {refits} refit, {calibrations} calibration worker(s) on {where}")
    while not stop.wait(1.0):
        pass
    for worker in workers:
        worker.stop()
    db.dispose()

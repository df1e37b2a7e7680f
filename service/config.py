"""Settings: one ``BaseSettings`` read from the environment (prefix ``FLOPWISE_``).

The embedded defaults run on one machine with nothing else installed: SQLite in
``./flopwise-data``, the built-in laws, one in-process refit worker, no API key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="FLOPWISE_", extra="ignore", frozen=True)

    environment: str = "development"
    """``development`` or ``production``; production refuses to start without an API key."""
    data_dir: Path = Path("./flopwise-data")
    """Where the embedded SQLite database lives."""
    database_url: str | None = None
    """SQLAlchemy URL (``postgresql+psycopg://user@host/db``); default SQLite in ``data_dir``."""
    api_key: str | None = None
    """When set, write endpoints need ``Authorization: Bearer <key>`` (any UTF-8 string)."""
    protect_reads: bool = False
    """When set (with ``api_key``), read endpoints need the key too (``/healthz`` stays open)."""
    allow_calibrations: bool = False
    """Run calibrations without an API key (a trusted laptop); otherwise they need one."""
    max_calibration_hours: float = Field(default=24.0, gt=0, le=24 * 365)
    """Longest ``time_cap_hours`` a calibration may ask for."""
    corpus_root: Path | None = None
    """Directory a calibration's ``corpus`` must lie under (resolved, links followed);
    default ``<data_dir>/corpora``. The built-in corpus (``corpus`` empty) needs none."""
    max_corpus_bytes: int = Field(default=1 << 30, ge=1024, le=1 << 40)
    """Largest ``corpus_bytes`` a calibration may ask for."""
    max_concurrent_calibrations: int = Field(default=1, ge=1, le=64)
    """Calibrations queued or running at once; more are refused with 409."""
    query_deadline_seconds: float = Field(default=20.0, gt=0)
    """A heavy answer (prediction list, frontier, time-optimal or MoE plan, new shape
    tables, overspend, plot, sweep fit) answers within this long of its arrival, else
    503 with Retry-After (``service.executor``)."""
    answer_threads: int = Field(default=2, ge=1, le=64)
    """Threads of the one pool every heavy answer runs on (off the event loop)."""
    answer_queue: int = Field(default=32, ge=1, le=10_000)
    """Heavy answers admitted at once, running or waiting; one more gets 503 at once."""
    body_timeout_seconds: float = Field(default=30.0, gt=0)
    """A request body must arrive within this long, else 408."""
    header_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    """Seconds a request's headers may take to arrive before the connection is closed
    (slow-header connections cannot hold descriptors for ever)."""
    max_connections: int = Field(default=4096, ge=16, le=1_000_000)
    """Concurrent connections and requests served; beyond, new ones get 503 (uvicorn's
    limit_concurrency). ``flopwise serve`` lifts the soft open-file limit to the hard one
    and lowers this below it when the hard limit is smaller."""
    host: str = "127.0.0.1"
    """Interface ``flopwise serve`` binds (the container sets 0.0.0.0). On a loopback
    address the server answers requests whose ``Host`` is a loopback name only (DNS
    rebinding), plus ``allowed_hosts``."""
    allowed_hosts: list[str] = Field(default_factory=list)
    """More host names a loopback-bound server answers (the ``Host`` header's name; any
    port), e.g. behind a local reverse proxy."""
    port: int = Field(default=8000, ge=0, le=65535)
    """Port ``flopwise serve`` binds."""
    public_url: str | None = None
    """How the trainer reaches this server; default ``http://<host>:<port>``."""
    workers: int = Field(default=1, ge=0, le=64)
    """In-process refit workers started by ``flopwise serve`` (0: none)."""
    calibration_workers: int = Field(default=1, ge=0, le=64)
    """In-process workers for calibration sweeps (they run the trainer on this host)."""
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    """Request bodies larger than this are refused with 413."""
    max_runs_per_request: int = Field(default=20_000, ge=1)
    """Observations one ``POST /v1/runs`` may carry."""
    law_poll_seconds: float = Field(default=2.0, gt=0)
    """How often each process looks for newly published law versions."""
    job_lease_seconds: float = Field(default=30.0, gt=0)
    """A claimed job whose lease is not renewed for this long is reclaimed."""
    job_poll_seconds: float = Field(default=0.5, gt=0)
    """How often an idle worker looks for a job."""
    job_max_attempts: int = Field(default=3, ge=1)
    """Tries a refit job gets before it is marked failed."""
    refit_debounce_seconds: float = Field(default=2.0, ge=0)
    """New runs wait this long for more before the refit they queue starts."""
    refit_max_delay_seconds: float = Field(default=60.0, ge=0)
    """A steady stream of runs delays its refit at most this long."""
    refit_form: str = "chinchilla"
    """Form the automatic refit on ingestion fits."""
    refit_method: str = "approach3"
    """Method the automatic refit on ingestion uses."""
    refit_options: dict[str, Any] = Field(default_factory=dict)
    """Options of the automatic refit (JSON object, as ``POST /v1/fits`` takes them)."""
    trainer_command: list[str] | None = None
    """Command that starts the trainer (default ``python -m flopwise.trainer``); JSON list."""

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> Settings:
        if self.environment == "production" and not self.api_key:
            raise ValueError("FLOPWISE_API_KEY must be set when FLOPWISE_ENVIRONMENT=production")
        if self.environment not in ("development", "production"):
            raise ValueError("FLOPWISE_ENVIRONMENT must be development or production")
        return self

    @property
    def corpora(self) -> Path:
        """The directory calibration corpora must lie under, resolved."""
        return (self.corpus_root or self.data_dir / "corpora").resolve()

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL, defaulting to SQLite in the data directory."""
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://") or url.startswith("postgres://"):
                url = "postgresql+psycopg://" + url.split("://", 1)[1]
            return url
        return f"sqlite:///{(self.data_dir / 'flopwise.db').resolve()}"

    @property
    def base_url(self) -> str:
        """Where clients on this host reach the server."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

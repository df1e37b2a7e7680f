"""The trainer's commands as pydantic models: a command's options are its fields.

``pydantic-settings`` turns each model into an argparse parser (:mod:`trainer.cli`):
a field ``time_cap_hours`` is the option ``--time-cap-hours``, its description (with the
unit) and default are the help, and its checks are the model's. ``sweep`` and ``plan``
are :class:`~flopwise.protocol.sweep.SweepRequest` plus where this invocation keeps its
files; ``train``'s options are :class:`~flopwise.trainer.config.TrainConfig`'s plus the
shape. Nothing here imports torch until a command runs.
"""

from __future__ import annotations

import copy
import json
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from flopwise.fitting.counting import ArchSpec
from flopwise.fitting.errors import ArgumentError
from flopwise.protocol.sweep import SweepRequest
from flopwise.trainer.config import Job, ModelConfig, TrainConfig
from flopwise.trainer.executor import SKIPPED
from flopwise.trainer.progress import make_reporter

if TYPE_CHECKING:
    from flopwise.trainer.sweep import SweepConfig, SweepResult

__all__ = ["Command", "CorpusCommand", "PlanCommand", "SweepCommand", "TrainCommand"]


def _whole(text: str) -> int | str:
    """``text`` as an integer when it is one, also written as a float (``2e6``)."""
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() else text


class Command(BaseModel):
    """A trainer command: options are fields, ``run`` does the work and returns the exit
    status. Option values arrive as text (lax validation); a count may be written as a
    float (``--tokens 2e6``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)

    @model_validator(mode="before")
    @classmethod
    def _counts(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        counts = {n for n, f in cls.model_fields.items() if f.annotation in (int, int | None)}
        return {k: _whole(v) if k in counts and isinstance(v, str) else v for k, v in data.items()}

    def run(self) -> int:
        """Do what the command says; the exit status."""
        raise NotImplementedError


class Reporting(BaseModel):
    """Where a command sends its observations, and how it shows progress."""

    service_url: str = Field(
        default="",
        description="flopwise service to post observations to (and refit on); default: "
        "$FLOPWISE_SERVICE_URL.",
    )
    api_key: str = Field(
        default="",
        description="Bearer key for the service's write endpoints; default: $FLOPWISE_API_KEY.",
    )
    out: str = Field(
        default="",
        description="Directory for runs.jsonl (a sweep's law.json and fit.json too) when "
        "there is no service.",
    )
    progress: Literal["bar", "jsonl", "none"] = Field(
        default="bar", description="Progress as bars, JSON lines (one event each) or nothing."
    )

    @property
    def url(self) -> str:
        """The service's URL: the option, else ``$FLOPWISE_SERVICE_URL``."""
        return self.service_url or os.environ.get("FLOPWISE_SERVICE_URL", "")

    @property
    def key(self) -> str:
        """The API key: the option, else ``$FLOPWISE_API_KEY`` (kept off argv by the service)."""
        return self.api_key or os.environ.get("FLOPWISE_API_KEY", "")


def _as_in(model: type[BaseModel], name: str) -> Any:
    """The field ``name`` of ``model``, declared there once: its default, checks and help."""
    return copy.deepcopy(model.model_fields[name])


def _unless_job(name: str, also: str = "Required without --job.") -> Any:
    """``TrainConfig``'s field ``name`` as an option that a ``--job`` file makes needless."""
    return Field(default=None, description=f"{TrainConfig.model_fields[name].description} {also}")


class Shape(BaseModel):
    """The model's shape (``fitting.counting.ArchSpec``; the vocabulary is the data's)."""

    width: int | None = Field(
        default=None, ge=1, description="Residual width, features. Required without --job."
    )
    depth: int | None = Field(
        default=None, ge=1, description="Transformer blocks. Required without --job."
    )
    head_dim: int = Field(default=16, ge=1, description="Features per attention head.")
    n_heads: int = Field(default=0, ge=0, description="Query heads; 0: width / head-dim.")
    n_kv_heads: int = Field(default=0, ge=0, description="Key/value heads; 0: n-heads / 2.")
    ffn_size: int = Field(default=0, ge=0, description="MLP hidden features; 0: 4 x width.")
    ungated: bool = Field(default=False, description="Two-matmul MLP instead of a gated one.")
    tied: bool = Field(default=False, description="Tie the output head to the embedding.")
    positions: Literal["rotary", "learned", "none"] = Field(
        default="rotary", description="Position encoding."
    )
    norm: Literal["rmsnorm", "layernorm"] = Field(default="rmsnorm", description="Norm layers.")
    bias: bool = Field(default=False, description="Biases on every linear layer.")
    seq_len: int = Field(default=128, ge=1, description="Context length, tokens.")

    def arch(self, vocab_size: int) -> ArchSpec:
        """The ``ArchSpec`` these options describe."""
        shape = self.model_dump(include=set(Shape.model_fields) - {"ungated", "tied"})
        return ArchSpec(
            **shape, gated_ffn=not self.ungated, tied_embeddings=self.tied, vocab_size=vocab_size
        )


class TrainCommand(Reporting, Shape, TrainConfig, Command):
    """Train one model; every evaluation point becomes an observation."""

    job: str | None = Field(
        default=None,
        description="A job JSON (as a sweep writes); the shape and training options are ignored.",
    )
    data_dir: str | None = _unless_job("data_dir")  # type: ignore[assignment]
    run_dir: str | None = _unless_job("run_dir", "Default: runs/w<width>-d<depth>-s<seed>.")  # type: ignore[assignment]
    tokens: int | None = _unless_job("tokens")  # type: ignore[assignment]
    evals: int = _as_in(SweepRequest, "evals")
    eval_span: float = _as_in(SweepRequest, "eval_span")

    def to_job(self) -> Job:
        """The job these options (or the ``--job`` file) describe."""
        from flopwise.trainer.data import TokenData  # torch

        if self.job:
            return Job.from_dict(json.loads(Path(self.job).read_text()))
        for name in ("data_dir", "width", "depth", "tokens"):
            if getattr(self, name) is None:
                raise click.UsageError(f"missing --{name.removesuffix('_dir')} (or give --job)")
        assert self.data_dir is not None and self.tokens is not None
        arch = self.arch(TokenData.open(self.data_dir).vocab_size)
        values = self.model_dump(include=set(TrainConfig.model_fields))
        values["run_dir"] = self.run_dir or f"runs/w{arch.width}-d{arch.depth}-s{self.seed}"
        values["eval_tokens"] = self.eval_tokens or _eval_tokens(
            self.tokens, self.evals, self.eval_span
        )
        return Job(model=ModelConfig(arch=arch), train=TrainConfig.model_validate(values))

    def run(self) -> int:
        # deliberate laziness here and in every run(): torch, httpx and the sweep load
        # when a command runs, never for --help (tests/service/test_cli_start.py)
        from flopwise.client import Client
        from flopwise.trainer.sinks import JsonlSink, ServiceSink
        from flopwise.trainer.train import Sink, train

        job = self.to_job()
        client = Client(self.url, api_key=self.key or None) if self.url else None
        sink: Sink | None = ServiceSink(client) if client is not None else None
        if sink is None and self.out:
            sink = JsonlSink(Path(self.out) / "runs.jsonl")
        try:
            result = train(job, report=make_reporter(self.progress), sink=sink)
        finally:
            if isinstance(sink, ServiceSink):
                sink.flush()
            if client is not None:
                client.close()
        if self.progress != "jsonl":
            click.echo(
                f"{result.run}: {result.status} after {result.tokens:,} tokens, "
                f"val loss {result.final_loss}, {len(result.observations)} observations",
                err=self.progress == "none",
            )
        return 0 if result.status == "finished" else 1


def _eval_tokens(tokens: int, evals: int, span: float) -> tuple[int, ...]:
    if evals == 1:
        return (tokens,)
    return tuple(sorted({int(t) for t in np.geomspace(tokens / span, tokens, evals)}))


class SweepFiles(BaseModel):
    """Where a sweep request comes from (besides its options) and where its files go."""

    config: str = Field(
        default="",
        description="A sweep request as JSON (the options' names, with underscores); options "
        "given as well override it.",
    )
    work_dir: str = Field(
        default="",
        description="Sweeps, runs and corpora; default: $FLOPWISE_TRAINER_DIR, else "
        "$FLOPWISE_DATA_DIR/trainer, else ./flopwise-data/trainer.",
    )

    def request(self) -> SweepRequest:
        """The sweep request of these options."""
        return SweepRequest.model_validate(self.model_dump(include=set(SweepRequest.model_fields)))


class PlanCommand(SweepFiles, SweepRequest, Command):
    """Show the sweep a budget buys (shapes, tokens, estimated time); run nothing."""

    as_json: bool = Field(default=False, alias="json", description="Print the plan event as JSON.")

    def run(self) -> int:
        from flopwise.trainer.plan_event import plan_event  # lazy: the sweep loads torch
        from flopwise.trainer.sweep import SweepConfig, prepare

        prepared = prepare(SweepConfig(request=self.request(), work_dir=self.work_dir))
        click.echo(json.dumps(plan_event(prepared)) if self.as_json else prepared.plan.table())
        return 0


class SweepCommand(SweepFiles, Reporting, SweepRequest, Command):
    """Plan a calibration sweep, run it (this host or Slurm), ingest and refit."""

    yes: bool = Field(default=False, description="Run without asking.")
    resume: bool = Field(
        default=False,
        description="Continue this request's earlier sweep (its state says what is done, "
        "pending or queued); fail if there is none.",
    )
    cancel: bool = Field(
        default=False,
        description="Cancel this request's sweep: its queued and running jobs, then exit.",
    )

    def sweep_config(self) -> SweepConfig:
        from flopwise.trainer.sweep import SweepConfig  # lazy: the sweep loads torch

        return SweepConfig(request=self.request(), work_dir=self.work_dir, service_url=self.url,
                           api_key=self.key, out_dir=self.out)  # fmt: skip

    def run(self) -> int:
        from flopwise.trainer.plan_event import plan_event  # lazy: the sweep loads torch
        from flopwise.trainer.sweep import execute, make_executor, prepare

        if self.progress == "jsonl" and not (self.yes or self.cancel):
            raise click.UsageError("--progress jsonl cannot ask for confirmation; add --yes")
        config = self.sweep_config()
        prepared = prepare(config)
        if self.cancel:
            ids = make_executor(prepared, config.request).cancel()
            click.echo(
                f"sweep {prepared.plan.sweep_id}: cancelled {len(ids)} job(s) {' '.join(ids)}"
            )
            return 0
        if self.resume and not prepared.resumed:
            raise ArgumentError(
                "resume", f"no earlier sweep of this request in {prepared.sweep_dir}"
            )
        report = make_reporter(self.progress)
        if self.progress == "jsonl":
            report(plan_event(prepared))
        else:
            click.echo(prepared.plan.table())
        if not self.yes and not click.confirm("Run this sweep?", err=True):
            return 1
        signal.signal(signal.SIGTERM, _terminate)  # stop the trainer processes on the way out
        result = execute(prepared, config, report)
        if self.progress != "jsonl":
            _summary(result)
        ok = result.fit is not None and result.fit.success and not result.outcome.failed
        return 0 if ok else 1


def _terminate(signum: int, frame: object) -> None:
    del frame
    raise SystemExit(128 + signum)


def _summary(result: SweepResult) -> None:
    out = result.outcome
    click.echo(
        f"sweep {result.sweep_id}: {result.finished} runs finished, {len(out.failed)} failed, "
        f"{len(out.skipped)} skipped; {result.observations} observations"
    )
    for run_id, why in out.failed.items():
        click.echo(f"  failed {run_id}: {why}")
    for run_id in out.skipped:
        click.echo(f"  skipped {run_id}: {SKIPPED}")
    fit = result.fit
    if fit is None:
        click.echo("no observations: nothing to fit")
    elif not fit.success:
        click.echo(f"refit failed ({fit.where}): {fit.message}")
    else:
        constants = ", ".join(f"{k}={v:.4g}" for k, v in (fit.constants or {}).items())
        click.echo(f"law {fit.law_id}@{fit.version} ({fit.where}) {constants}".rstrip())
    for warning in fit.warnings if fit is not None else ():
        click.echo(f"  warning: {warning}")


class CorpusCommand(Command):
    """Build a byte-level token corpus from text files (no download)."""

    out: str = Field(description="Directory for train.bin, val.bin and meta.json.")
    source: tuple[str, ...] = Field(
        default=(),
        description="Text file or directory (repeatable); default: the standard library.",
    )
    max_bytes: int = Field(default=16_000_000, ge=1024, description="Size of the corpus, bytes.")
    val_fraction: float = Field(
        default=0.05, description="Share of the documents held out for validation (0-0.5)."
    )
    docstrings_only: bool = Field(default=False, description="Keep only Python docstrings.")

    def run(self) -> int:
        from flopwise.trainer.corpus import CorpusConfig, build_corpus, stdlib_root  # lazy

        missing = [s for s in self.source if not Path(s).exists()]
        if missing:
            raise ArgumentError("source", f"{missing[0]} does not exist")
        config = CorpusConfig(
            sources=self.source or (str(stdlib_root()),),
            max_bytes=self.max_bytes,
            val_fraction=self.val_fraction,
            docstrings_only=self.docstrings_only,
        )
        info = build_corpus(config, self.out)
        click.echo(
            f"{self.out}: {info.train_tokens:,} train and {info.val_tokens:,} val tokens "
            f"from {info.documents} documents ({info.tokenizer})"
        )
        return 0

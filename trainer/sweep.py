"""Calibration sweeps: plan, run every job on the local devices, ingest, refit.

``prepare`` fixes the data, the devices and the plan (kept as ``plan.json`` in the
sweep directory, so re-running the same request resumes the same sweep: finished runs
are skipped, interrupted ones resume from their checkpoints, and every observation
already on disk is sent again to the idempotent sink). ``execute`` runs it and refits.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from flopwise.client import Client
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.hardware import budget_to_flops
from flopwise.fitting.throughput.catalogue import default_for_gpu
from flopwise.fitting.throughput.model import spec_step_seconds
from flopwise.protocol.events import DoneEvent, EvalEvent, RunDoneEvent
from flopwise.protocol.sweep import SweepRequest
from flopwise.trainer import grid, wsd
from flopwise.trainer.checkpoint import read_done, read_observations, write_json_atomic
from flopwise.trainer.config import Job, ModelConfig, TrainConfig
from flopwise.trainer.corpus import CorpusConfig, build_corpus, stdlib_root
from flopwise.trainer.data import TokenData
from flopwise.trainer.devices import LocalDevices, estimated_flops, local_devices
from flopwise.trainer.executor import Executor, JobSpec, LocalExecutor, Outcome
from flopwise.trainer.families import family
from flopwise.trainer.moe_sweep import MOE_FORM
from flopwise.trainer.plan import Plan, PlanConfig, PlannedRun, StepTime, make_plan
from flopwise.trainer.progress import Reporter
from flopwise.trainer.refit import FitOutcome, fit_locally, fit_via_service
from flopwise.trainer.sinks import JsonlSink, ServiceSink
from flopwise.trainer.slurm import SlurmExecutor

__all__ = [
    "Prepared",
    "SweepConfig",
    "SweepResult",
    "default_work_dir",
    "execute",
    "make_executor",
    "plan_config",
    "prepare",
]


def default_work_dir() -> Path:
    """``$FLOPWISE_TRAINER_DIR``, else ``$FLOPWISE_DATA_DIR/trainer`` (the service's data
    directory), else ``./flopwise-data/trainer``."""
    if os.environ.get("FLOPWISE_TRAINER_DIR"):
        return Path(os.environ["FLOPWISE_TRAINER_DIR"])
    return Path(os.environ.get("FLOPWISE_DATA_DIR", "./flopwise-data")) / "trainer"


@dataclass(frozen=True, kw_only=True)
class SweepConfig:
    """A sweep request (``protocol.sweep.SweepRequest``, the one declaration of
    every sweep option) and where this invocation keeps its files and sends its runs."""

    request: SweepRequest
    """What to plan and where to run it."""
    work_dir: str = ""
    """Where sweeps, runs and the default corpus live; empty means default_work_dir()."""
    service_url: str = ""
    """flopwise service to post runs to and refit on; empty writes JSONL and fits here."""
    api_key: str = ""
    """Bearer key for the service's write endpoints."""
    out_dir: str = ""
    """runs.jsonl, law.json and fit.json without a service; default the sweep directory."""

    def __post_init__(self) -> None:
        if self.service_url and not self.service_url.startswith(("http://", "https://")):
            raise ArgumentError("service_url", "must start with http:// or https://")
        if self.request.corpus and not Path(self.request.corpus).exists():
            raise ArgumentError("corpus", f"{self.request.corpus} does not exist")


def plan_config(request: SweepRequest) -> PlanConfig:
    """The planner's view of a request (before the host fills in slots and speed)."""
    flops = budget_to_flops(
        flops=request.flops,
        gpu_hours=request.gpu_hours,
        gpu_name=request.gpu if request.gpu_hours is not None else None,
        mfu=request.mfu,
    )
    return PlanConfig(
        dataset=request.dataset,
        flops=flops,
        time_cap_hours=request.time_cap_hours,
        throughput=1.0,
        family=request.family,
        n_sizes=request.sizes,
        compute_ratio=request.compute_ratio,
        tokens_per_param=request.tokens_per_param,
        aspects=request.aspects,
        aspect_spread=request.aspect_spread,
        n_evals=request.evals,
        eval_span=request.eval_span,
        lr_base=request.lr_base,
        seed=request.seed,
        max_runs=request.max_runs,
        wsd_branches=request.wsd_branches,
        cooldown_fraction=request.cooldown_fraction,
        cooldown_shape=request.cooldown_shape,
        lr_grid=request.lr_grid,
        batch_grid=request.batch_grid,
        experts=request.experts,
        top_k=request.top_k,
        granularities=request.granularities,
    )


@dataclass(frozen=True)
class Prepared:
    """A planned sweep, ready to run."""

    plan: Plan
    sweep_dir: Path
    data_dir: Path
    devices: LocalDevices
    threads: int
    resumed: bool
    """The plan was read back from an earlier, interrupted invocation."""


@dataclass(frozen=True)
class SweepResult:
    """How a sweep ended."""

    sweep_id: str
    outcome: Outcome
    finished: int
    """Runs of the plan finished, in this invocation or an earlier one."""
    observations: int
    fit: FitOutcome | None
    records: list[dict[str, Any]] = field(default_factory=list)


def _data(config: SweepConfig, work: Path) -> Path:
    """The corpus directory: given, or built (once) from text files."""
    given = Path(config.request.corpus) if config.request.corpus else None
    if given is not None and (given / "train.bin").exists():
        return given
    source = str(given.resolve()) if given is not None else str(stdlib_root())
    corpus = CorpusConfig(sources=(source,), max_bytes=config.request.corpus_bytes)
    key = hashlib.sha1(f"{source}:{config.request.corpus_bytes}".encode()).hexdigest()[:10]
    out = work / "corpus" / f"{Path(source).name or 'text'}-{key}"
    build_corpus(corpus, out)
    return out


def _devices(request: SweepRequest) -> LocalDevices:
    """This host's devices, or the slots a Slurm sweep keeps busy at once. A GPU-hour
    budget asks for GPUs: with none here it is refused unless the CPU was asked for."""
    if request.executor == "local":
        devices = local_devices(request.device, request.cpu_jobs)
        if request.gpu_hours is not None and devices.kind != "cuda" and request.device != "cpu":
            raise ArgumentError(
                "gpu_hours",
                f"a budget of {request.gpu_hours:g} GPU-hours on {request.gpu}, but this "
                "machine has no GPU: the sweep would plan for its CPU. Run it where the GPUs "
                "are, give --flops, or pass --device cpu to plan for this CPU anyway",
            )
        return devices
    if request.device == "cpu":
        return LocalDevices("cpu", [f"slurm{i}" for i in range(request.slurm_max_jobs)], "cpu")
    slots = request.slurm_max_jobs * request.slurm_gpus_per_node
    return LocalDevices("cuda", [f"slurm{i}" for i in range(slots)], request.gpu or "h100")


def prepare(config: SweepConfig) -> Prepared:
    """Devices, data and plan (read back when this request was planned before)."""
    request = config.request
    work = Path(config.work_dir) if config.work_dir else default_work_dir()
    devices = _devices(request)
    threads = request.threads or max(1, (os.cpu_count() or 1) // len(devices.slots))
    data_dir = _data(config, work)
    vocab = TokenData.open(data_dir).vocab_size
    planned = replace(plan_config(request), slots=len(devices.slots), vocab_size=vocab)
    sweep_dir = work / "sweeps" / f"{planned.dataset}-{planned.request_hash()}"
    plan_path = sweep_dir / "plan.json"
    if plan_path.exists():
        return Prepared(
            Plan.from_dict(json.loads(plan_path.read_text())),
            sweep_dir,
            data_dir,
            devices,
            threads,
            resumed=True,
        )
    speed = request.throughput or estimated_flops(devices, threads)
    if request.wsd_branches:  # the trunks and branches together spend the budget
        factor = wsd.cost_factor(request.wsd_branches, request.cooldown_fraction)
        planned = replace(planned, flops=planned.flops / factor)
    plan = make_plan(replace(planned, throughput=speed), step_time=_step_time(request, devices))
    if request.wsd_branches:
        plan = wsd.branch_plan(plan, request.wsd_branches, request.cooldown_fraction)
    return Prepared(plan, sweep_dir, data_dir, devices, threads, resumed=False)


def _step_time(request: SweepRequest, devices: LocalDevices) -> StepTime | None:
    """A GPU's fitted throughput model for the estimates, unless a speed was given."""
    model = default_for_gpu(devices.name) if devices.kind == "cuda" else None
    if model is None or request.throughput:
        return None
    return partial(spec_step_seconds, model)


def make_executor(prepared: Prepared, request: SweepRequest) -> Executor:
    """The executor the request names (the only place that chooses between them)."""
    if request.executor == "slurm":
        return SlurmExecutor(prepared.sweep_dir, request, gpus=prepared.devices.kind == "cuda",
                             threads=prepared.threads, slots=len(prepared.devices.slots))  # fmt: skip
    return LocalExecutor(prepared.devices.slots, prepared.devices.kind, prepared.threads,
                         request.retries)  # fmt: skip


def _job(prepared: Prepared, config: SweepConfig, run: PlannedRun) -> Job:
    plan = prepared.plan
    steps = run.tokens // (run.batch_size * run.arch.seq_len)
    train = TrainConfig(
        data_dir=str(prepared.data_dir),
        run_dir=str(prepared.sweep_dir / "runs" / run.run_id),
        run_id=run.run_id,
        **wsd.wsd_settings(plan, prepared.sweep_dir / "runs", run),
        tokens=run.tokens,
        batch_size=run.batch_size,
        lr=run.lr,
        warmup_tokens=plan.warmup_tokens,
        eval_tokens=run.eval_tokens,
        checkpoint_every=max(1, steps // 16),
        seed=plan.config.seed,
        device="cuda" if prepared.devices.kind == "cuda" else "cpu",
        compile=config.request.compile,
        threads=prepared.threads if prepared.devices.kind == "cpu" else 0,
        log_every=max(1, min(50, steps // 100)),
        tags={
            "sweep": plan.sweep_id,
            "aspect": run.aspect,
            "size": str(run.size),
            "family": plan.family,
            **({"grid_of": run.grid_of} if run.grid_of else {}),
            **wsd.wsd_tags(plan, run),
        },
    )
    model = ModelConfig(arch=run.arch, experts=run.experts, top_k=run.top_k,
                        expert_ffn_size=run.expert_ffn_size)  # fmt: skip
    return Job(model=model, train=train)


class _Ingest:
    """Sends observations to the sink and keeps the sweep's counters."""

    def __init__(self, prepared: Prepared, config: SweepConfig, report: Reporter) -> None:
        self.prepared, self.report = prepared, report
        self.total = len(prepared.plan.runs)
        self.branches = {r.run_id for r in prepared.plan.runs if r.branch_of}
        self.done = 0
        self.client = (
            Client(config.service_url, api_key=config.api_key or None)
            if config.service_url
            else None
        )
        out = Path(config.out_dir) if config.out_dir else prepared.sweep_dir
        self.out_dir = out
        self.jsonl = None if self.client else JsonlSink(out / "runs.jsonl")
        self.service = ServiceSink(self.client, refit=False) if self.client else None

    def send(self, records: list[dict[str, Any]], flush: bool) -> None:
        sink = self.service or self.jsonl
        for record in records:
            if sink is not None:
                sink(record)
        if flush and self.service is not None:
            self.service.flush()

    def resync(self, run_id: str) -> list[dict[str, Any]]:
        """Send a run's records again (and a finished WSD branch's final point to the
        sweep's own dataset, ``trainer.wsd.grid_record``)."""
        run_dir = self.prepared.sweep_dir / "runs" / run_id
        records = read_observations(run_dir)
        grid = []
        if run_id in self.branches and records and read_done(run_dir) is not None:
            grid = [wsd.grid_record(records[-1], self.prepared.plan.config.dataset)]
        self.send(records + grid, flush=True)
        return records

    def on_event(self, run_id: str, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "eval":
            self.send([event["record"]], flush=False)
            params = event["record"]["params"]
            self.report(
                EvalEvent(
                    run=run_id, tokens=event["tokens"], loss=event["loss"], params=params
                ).to_dict()
            )
        elif kind in ("start", "progress"):
            self.report(event)

    def on_exit(self, run_id: str, status: str, reason: str | None) -> None:
        records = self.resync(run_id)  # resync flushes the service sink
        self.done += status == "done"
        done = read_done(self.prepared.sweep_dir / "runs" / run_id) or {}
        planned = {r.run_id: r.est_seconds for r in self.prepared.plan.runs}
        clock = records[-1].get("seconds_per_step") if records else None
        self.report(
            RunDoneEvent(
                run=run_id,
                status=status,
                reason=reason,
                done=self.done,
                total=self.total,
                est_seconds=planned.get(run_id),
                # training time by the run's own step clock, beside the plan's estimate
                measured_seconds=clock * done["steps"] if clock and "steps" in done else None,
            ).to_dict()
        )


def execute(prepared: Prepared, config: SweepConfig, report: Reporter) -> SweepResult:
    """Run the prepared sweep (skipping finished runs), then refit; see the module docstring."""
    plan = prepared.plan
    prepared.sweep_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(prepared.sweep_dir / "plan.json", plan.to_dict())
    ingest = _Ingest(prepared, config, report)
    jobs = []
    for run in plan.runs:
        run_dir = prepared.sweep_dir / "runs" / run.run_id
        ingest.resync(run.run_id)
        if read_done(run_dir) is not None:
            ingest.done += 1
            continue
        run_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(run_dir / "job.json", _job(prepared, config, run).to_dict())
        jobs.append(JobSpec(run.run_id, run_dir, run.n_devices, run.est_seconds))
    deadline = time.monotonic() + plan.config.time_cap_hours * 3600.0
    executor = make_executor(prepared, config.request)
    outcome = wsd.run_phases(executor, jobs, ingest.branches, deadline=deadline,
                         on_event=ingest.on_event, on_exit=ingest.on_exit)  # fmt: skip
    records = [
        r for run in plan.runs for r in read_observations(prepared.sweep_dir / "runs" / run.run_id)
    ]
    dataset = _file_best(ingest, plan) if any(r.grid_of for r in plan.runs) else None
    fit = _refit(ingest, plan, dataset or plan.config.dataset) if records else None
    if fit is not None:
        report(fit.to_dict())
    done = DoneEvent(sweep_id=plan.sweep_id, finished=ingest.done, failed=outcome.failed,
                     skipped=outcome.skipped, observations=len(records))  # fmt: skip
    report(done.to_dict())
    if ingest.client is not None:
        ingest.client.close()
    return SweepResult(plan.sweep_id, outcome, ingest.done, len(records), fit, records)


def _file_best(ingest: _Ingest, plan: Plan) -> str:
    """A grid sweep's loss-law data: each model's best finished grid point, its every
    evaluation filed again under ``grid.best_dataset`` (``trainer.grid``)."""
    runs_dir = ingest.prepared.sweep_dir / "runs"
    finished = {
        r.run_id: read_observations(runs_dir / r.run_id)
        for r in plan.runs
        if (read_done(runs_dir / r.run_id) or {}).get("status") == "finished"
    }
    target = grid.best_dataset(plan.config.dataset)
    models = {r.run_id: r.grid_of for r in plan.runs}
    best = grid.best_runs(finished, models)
    ingest.send([{**rec, "dataset": target} for run in best for rec in finished[run]], True)
    return target


def _refit(ingest: _Ingest, plan: Plan, dataset: str) -> FitOutcome:
    arch = family(plan.family).with_vocab(plan.config.vocab_size).arch
    form = MOE_FORM if plan.config.experts else "chinchilla"  # trainer.moe_sweep
    if ingest.client is not None:
        return fit_via_service(ingest.client, dataset, arch, form=form)
    assert ingest.jsonl is not None
    return fit_locally(ingest.jsonl.records(), dataset, ingest.out_dir, arch, form=form)

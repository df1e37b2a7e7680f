"""The training loop: one job, one process per device, resumable at any instant.

``train(job)`` builds the model from its ``ArchSpec``, trains it with AdamW under
Gemstones' LR rule and schedule, measures the validation loss at the job's token
counts and turns each measurement into an :class:`~trainer.observation.Observation`
(timed: seconds per step, tokens per second, MFU). Before an observation is reported
the checkpoint that contains it is on disk, so a run killed at any instant resumes
from its last checkpoint and never reports a point twice or loses one.

Under torchrun each process takes its slice of every global batch (DDP averages the
gradients), so a run gives the same result on one device or several.
"""

from __future__ import annotations

import contextlib
import json
import math
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from flopwise.protocol.events import (
    EvalEvent,
    MessageEvent,
    ProgressEvent,
    RunDoneEvent,
    StartEvent,
)
from flopwise.trainer.checkpoint import (
    Checkpoint,
    keep_checkpoint,
    read_done,
    read_observations,
    restore,
    run_lock,
    save_checkpoint,
    write_done,
    write_json_atomic,
    write_observations,
)
from flopwise.trainer.config import Job
from flopwise.trainer.data import TokenData, batch_offsets, gather, val_offsets
from flopwise.trainer.ddp import (
    DistContext,
    all_reduce_sum,
    barrier,
    init_distributed,
    replicas_agree,
    shutdown,
)
from flopwise.trainer.evaluation import autocast, evaluate
from flopwise.trainer.metrics import StepClock, device_gpu_name, mfu, peak_flops
from flopwise.trainer.moe import build_model
from flopwise.trainer.moe_sweep import moe_tags, run_size, trainable_params
from flopwise.trainer.observation import Observation
from flopwise.trainer.optim import lr_multiplier, make_optimizer, run_lr
from flopwise.trainer.progress import Reporter
from flopwise.trainer.tasks import score_tasks, task_set

__all__ = ["RunResult", "Sink", "train"]

Sink = Callable[[dict[str, Any]], None]
"""Receives each observation record (service client, JSONL file, ...)."""


@dataclass(frozen=True)
class RunResult:
    """How a run ended."""

    run: str
    status: Literal["finished", "diverged"]
    steps: int
    tokens: int
    final_loss: float | None
    """Last validation loss (None when the run diverged before any evaluation)."""
    observations: tuple[dict[str, Any], ...]
    resumed_from_step: int
    """0 for a fresh run; the checkpoint's step when resumed."""


def _ignore(event: dict[str, Any]) -> None:
    del event


def train(job: Job, *, report: Reporter = _ignore, sink: Sink | None = None) -> RunResult:
    """Run (or resume, or skip when finished) one training job; see the module docstring."""
    ctx = init_distributed(job.train.device)
    run_dir = Path(job.train.run_dir)

    def waiting() -> None:
        report(MessageEvent(text=f"{run_dir}: another process trains this run; waiting").to_dict())

    try:
        lock = run_lock(run_dir, waiting) if ctx.is_main else contextlib.nullcontext()
        with lock:
            barrier(ctx)
            return _Run(job, ctx, report, sink).run()
    finally:
        shutdown(ctx)


class _Run:
    """The state of one run in one process (model, optimizer, data, clocks)."""

    def __init__(self, job: Job, ctx: DistContext, report: Reporter, sink: Sink | None) -> None:
        cfg, spec = job.train, job.model.arch
        self.job, self.cfg, self.spec, self.ctx = job, cfg, spec, ctx
        self.report = report if ctx.is_main else _ignore
        self.sink = sink if ctx.is_main else None
        self.run_dir = Path(cfg.run_dir)
        if cfg.batch_size % ctx.world_size:
            raise ValueError(
                f"batch_size {cfg.batch_size} is not divisible by {ctx.world_size} processes"
            )
        self.per_rank = cfg.batch_size // ctx.world_size
        self.micro = cfg.micro_batch_size or self.per_rank
        if self.per_rank % self.micro:
            raise ValueError(
                f"micro_batch_size {self.micro} does not divide the per-process batch "
                f"{self.per_rank}"
            )
        self.accum = self.per_rank // self.micro
        self.tokens_per_step = cfg.batch_size * spec.seq_len
        self.total_steps = math.ceil(cfg.tokens / self.tokens_per_step)
        self.eval_steps = {
            min(self.total_steps, max(1, round(t / self.tokens_per_step))) for t in cfg.eval_tokens
        } | {self.total_steps}
        self.warmup, self.cooldown, self.peak_lr, self.schedule = run_lr(
            cfg, spec.width, spec.depth, self.total_steps, self.tokens_per_step
        )
        self.bf16 = cfg.precision == "bfloat16" or (
            cfg.precision == "auto" and ctx.device.type == "cuda"
        )
        self.params, self.flops_per_token = run_size(spec, job.model.moe)
        self.gpu = device_gpu_name(ctx.device)
        self.records: list[dict[str, Any]] = []

    # -- set-up ---------------------------------------------------------------------

    def _build(self) -> int:
        """Data, model, optimizer; load the checkpoint if there is one. Returns its step."""
        cfg = self.cfg
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        if self.ctx.device.type == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        self.data = TokenData.open(cfg.data_dir)
        self.data.check(self.spec.seq_len, self.spec.vocab_size)
        self.val = val_offsets(self.data.val.size, self.spec.seq_len, cfg.eval_sequences)
        self.tasks = task_set(self.data.val, cfg.task_items, self.spec.seq_len)
        torch.manual_seed(cfg.seed)
        self.raw = build_model(self.job.model).to(self.ctx.device)
        counted = trainable_params(self.spec, self.job.model.moe)
        if self.raw.num_params() != counted:  # the model and the counter must agree
            raise RuntimeError(f"model has {self.raw.num_params()} params, counter {counted}")
        self.optimizer = make_optimizer(self.raw, cfg, self.peak_lr, self.ctx.device)
        step, self.records, self.train_seconds = restore(
            self.run_dir, self.job.identity(), self.cfg.branch_from, self.raw, self.optimizer
        )
        if cfg.compile:
            self.raw.compile()  # in place: forward compiled, state_dict keys unchanged
        self.model: nn.Module = self.raw
        if self.ctx.distributed:
            ids = [self.ctx.device.index] if self.ctx.device.type == "cuda" else None
            moe = self.job.model.moe is not None  # an expert no token chose has no gradient
            self.model = DistributedDataParallel(self.raw, device_ids=ids,
                                                 find_unused_parameters=moe)  # fmt: skip
        return step

    # -- the loop -------------------------------------------------------------------

    def run(self) -> RunResult:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        done = read_done(self.run_dir)
        if done is not None:  # finished before: nothing to do
            return self._already_done(done)
        start = self._build()
        if self.ctx.is_main:
            write_json_atomic(self.run_dir / "job.json", self.job.to_dict())
            for record in self.records:  # sinks are idempotent: resend what may be lost
                self._emit(record, resend=True)
        self.report(self._start_event(start))
        status = self._loop(start)
        if not replicas_agree(self.raw, self.ctx):
            raise RuntimeError("DDP replicas diverged: processes hold different weights")
        return self._finish(status, start)

    def _already_done(self, done: dict[str, Any]) -> RunResult:
        path = self.run_dir / "job.json"
        if path.exists() and Job.from_dict(json.loads(path.read_text())).identity() != (
            self.job.identity()
        ):
            raise ValueError(f"run_dir: {self.run_dir} holds a different job (finished)")
        self.records = read_observations(self.run_dir)
        steps = int(done["steps"])
        return self._reported(self._result(done["status"], steps, steps))

    def _loop(self, start: int) -> Literal["finished", "diverged"]:
        clock = StepClock(self.ctx.device)
        for step in range(start, self.total_steps):
            loss = self._step(step)
            done = step + 1
            clock.step_done(first=step == start)
            if done % self.cfg.log_every == 0 or done in self.eval_steps:
                # the mean over processes, so that every process sees the same divergence
                train_loss = float(all_reduce_sum(loss, self.ctx)) / self.ctx.world_size
                if not math.isfinite(train_loss):
                    return "diverged"
                self.report(self._progress_event(done, train_loss, clock))
            if done in self.eval_steps:
                clock.pause()
                if not self._eval_point(done, clock):
                    return "diverged"
                clock.resume()
            elif self.cfg.checkpoint_every and done % self.cfg.checkpoint_every == 0:
                clock.pause()
                self._save(done, clock)
                clock.resume()
        return "finished"

    def _step(self, step: int) -> torch.Tensor:
        """One optimizer step over the global batch; returns this process's mean loss."""
        mult = lr_multiplier(
            step, self.total_steps, self.warmup, self.cooldown, self.cfg.cooldown_shape
        )
        for group in self.optimizer.param_groups:
            group["lr"] = self.peak_lr * mult
        offsets = batch_offsets(
            self.data.train.size, self.spec.seq_len, self.cfg.batch_size, self.cfg.seed, step
        )
        mine = offsets[self.ctx.rank * self.per_rank : (self.ctx.rank + 1) * self.per_rank]
        total = torch.zeros((), device=self.ctx.device)
        for m in range(self.accum):
            x, y = gather(
                self.data.train,
                mine[m * self.micro : (m + 1) * self.micro],
                self.spec.seq_len,
                self.ctx.device,
            )
            last = m == self.accum - 1
            no_sync = getattr(self.model, "no_sync", None)
            sync = contextlib.nullcontext() if last or no_sync is None else no_sync()
            with sync:
                with autocast(self.ctx.device, self.bf16):
                    loss = self.model(x, y) / self.accum
                loss.backward()
            total += loss.detach()
        if self.cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.raw.parameters(), self.cfg.grad_clip)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return total

    # -- evaluation points, checkpoints, results ------------------------------------

    def _eval_point(self, step: int, clock: StepClock) -> bool:
        loss = evaluate(
            self.raw,
            self.data.val,
            self.val,
            self.spec.seq_len,
            self.micro,
            self.ctx,
            self.bf16,
        )
        if not math.isfinite(loss):
            return False
        tasks = (self.tasks, self.micro, self.ctx, self.bf16, self.data.tokenizer)
        metrics = score_tasks(self.raw, *tasks)
        record = self._observation(step, loss, clock, metrics).record()
        self.records.append(record)
        self._save(step, clock)
        self._emit(record)
        return True

    def _observation(
        self, step: int, loss: float, clock: StepClock, metrics: dict[str, float]
    ) -> Observation:
        seconds_per_step = clock.seconds_per_step()
        tokens_per_second = self.tokens_per_step / seconds_per_step if seconds_per_step else 0.0
        tokens = step * self.tokens_per_step
        mult = lr_multiplier(
            step - 1, self.total_steps, self.warmup, self.cooldown, self.cfg.cooldown_shape
        )
        cooling = self.cooldown > 0 and step > self.total_steps - self.cooldown
        tags = {
            "seed": str(self.cfg.seed),
            "schedule": "cooldown" if cooling else "constant",
            "host": socket.gethostname(),  # the node that measured seconds_per_step
            "batch_tokens": str(self.tokens_per_step),  # the global batch, tokens
            "sequence_length": str(self.spec.seq_len),
        }
        return Observation(
            dataset=self.cfg.dataset,
            run=self.cfg.name,
            width=self.spec.width,
            depth=self.spec.depth,
            params=self.params,
            tokens=tokens,
            flops=self.flops_per_token * tokens,
            loss=loss,
            seconds_per_step=seconds_per_step,
            tokens_per_second=tokens_per_second,
            mfu=mfu(
                self.flops_per_token, tokens_per_second, peak_flops(self.gpu), self.ctx.world_size
            ),
            n_gpus=self.ctx.world_size,
            gpu=self.gpu,
            step=step,
            lr=self.peak_lr * mult,
            schedule=self.schedule,
            tags={**tags, **moe_tags(self.job.model.moe), **self.cfg.tags},
            metrics=metrics,
        )

    def _emit(self, record: dict[str, Any], resend: bool = False) -> None:
        if not resend:
            event = EvalEvent(run=record["run"], tokens=record["tokens"], loss=record["loss"],
                              record=record)  # fmt: skip
            self.report(event.to_dict())
        if self.sink is not None:
            self.sink(record)

    def _save(self, step: int, clock: StepClock) -> None:
        if self.ctx.is_main:
            ckpt = Checkpoint(
                step=step,
                model=self.raw.state_dict(),
                optimizer=self.optimizer.state_dict(),
                observations=self.records,
                identity=self.job.identity(),
                train_seconds=self.train_seconds + clock.total,
            )
            save_checkpoint(self.run_dir, ckpt)
            write_observations(self.run_dir, self.records)
            if step * self.tokens_per_step in self.cfg.keep_checkpoints:
                keep_checkpoint(self.run_dir, step * self.tokens_per_step)
        barrier(self.ctx)

    def _finish(self, status: Literal["finished", "diverged"], start: int) -> RunResult:
        steps = self.total_steps if status == "finished" else start
        if self.ctx.is_main:
            final = self.records[-1]["loss"] if self.records else None
            write_done(
                self.run_dir,
                {
                    "status": status,
                    "steps": steps,
                    "tokens": steps * self.tokens_per_step,
                    "final_loss": final,
                    "observations": len(self.records),
                },
            )
        barrier(self.ctx)
        return self._reported(self._result(status, steps, start))

    def _reported(self, result: RunResult) -> RunResult:
        self.report(RunDoneEvent(run=result.run, status=result.status, tokens=result.tokens,
                                 loss=result.final_loss).to_dict())  # fmt: skip
        return result

    def _result(self, status: str, steps: int, start: int) -> RunResult:
        return RunResult(
            run=self.cfg.name,
            status="diverged" if status == "diverged" else "finished",
            steps=steps,
            tokens=steps * self.tokens_per_step,
            final_loss=self.records[-1]["loss"] if self.records else None,
            observations=tuple(self.records),
            resumed_from_step=start,
        )

    def _start_event(self, start: int) -> dict[str, Any]:
        return StartEvent(
            run=self.cfg.name,
            params=self.params,
            width=self.spec.width,
            depth=self.spec.depth,
            tokens=start * self.tokens_per_step,
            total_tokens=self.total_steps * self.tokens_per_step,
            resumed_from_step=start,
            lr=self.peak_lr,
            device=str(self.ctx.device),
            world_size=self.ctx.world_size,
        ).to_dict()

    def _progress_event(self, step: int, train_loss: float, clock: StepClock) -> dict[str, Any]:
        spt = clock.seconds_per_step()
        return ProgressEvent(
            run=self.cfg.name,
            tokens=step * self.tokens_per_step,
            train_loss=train_loss,
            tokens_per_second=self.tokens_per_step / spt if spt else 0.0,
        ).to_dict()

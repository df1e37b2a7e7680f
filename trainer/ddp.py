"""Processes and devices: one process per device, DDP when torchrun starts several.

torchrun (``python -m torch.distributed.run``) sets ``RANK``, ``LOCAL_RANK`` and
``WORLD_SIZE``; :func:`init_distributed` then joins the process group, NCCL on GPUs and
gloo on CPUs, and binds the process to ``cuda:LOCAL_RANK``. Without those variables
the run is a single process and nothing distributed is touched.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

__all__ = ["DistContext", "all_reduce_sum", "init_distributed", "resolve_device", "shutdown"]


@dataclass(frozen=True)
class DistContext:
    """Where this process sits: its rank among ``world_size`` and its device."""

    rank: int
    local_rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Rank 0 writes checkpoints, observations and progress."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def resolve_device(preference: str, local_rank: int = 0) -> torch.device:
    """``auto`` picks CUDA when present; ``cuda`` without a GPU raises ``ValueError``."""
    if preference == "cpu" or (preference == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ValueError("device: cuda was asked for but no CUDA device is available")
    return torch.device("cuda", local_rank % torch.cuda.device_count())


def init_distributed(preference: str) -> DistContext:
    """Join torchrun's process group when there is one; otherwise a single process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(preference, local_rank)
    if world > 1 and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, device_id=device if backend == "nccl" else None)
    return DistContext(rank=rank, local_rank=local_rank, world_size=world, device=device)


def all_reduce_sum(values: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Sum a tensor over all processes (identity for one process)."""
    if ctx.distributed:
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def replicas_agree(model: torch.nn.Module, ctx: DistContext) -> bool:
    """Whether every process holds the same weights (a DDP sanity check; cheap)."""
    if not ctx.distributed:
        return True
    with torch.no_grad():
        digest = torch.stack([p.double().sum() for p in model.parameters()]).to(ctx.device)
        gathered = [torch.empty_like(digest) for _ in range(ctx.world_size)]
        dist.all_gather(gathered, digest)
    return all(torch.equal(gathered[0], g) for g in gathered[1:])


def barrier(ctx: DistContext) -> None:
    """Wait for every process."""
    if ctx.distributed:
        dist.barrier()


def shutdown(ctx: DistContext) -> None:
    """Leave the process group and stop its threads while Python can still run them.

    DDP's reducer keeps the process group alive from inside reference cycles, so without
    the collection here the group outlives :func:`dist.destroy_process_group` and its
    worker threads still release finished work (and the tensors it holds) while the
    interpreter shuts down: a thread that then needs the GIL aborts the process
    ("terminate called without an active exception"). Collecting first lets destroying
    the group join those threads.
    """
    if ctx.distributed and dist.is_initialized():
        gc.collect()
        dist.destroy_process_group()

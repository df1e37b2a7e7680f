"""Validation loss on the fixed held-out set, shared across processes.

The set is :func:`trainer.data.val_offsets`: the same windows of ``val.bin`` at every
evaluation of every run, so losses are comparable along a run and across runs. Each
process scores every ``world_size``-th window; the token-weighted sum is all-reduced.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from flopwise.trainer.data import gather
from flopwise.trainer.ddp import DistContext, all_reduce_sum

__all__ = ["autocast", "evaluate"]


def autocast(device: torch.device, bf16: bool) -> contextlib.AbstractContextManager[object]:
    """bf16 autocast when asked (the default on CUDA); float32 otherwise."""
    if bf16:
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


@torch.no_grad()
def evaluate(
    model: nn.Module,
    tokens: np.ndarray,
    offsets: np.ndarray,
    seq_len: int,
    micro_batch: int,
    ctx: DistContext,
    bf16: bool,
) -> float:
    """Mean next-token cross-entropy (nats/token) over the windows at ``offsets``."""
    was_training = model.training
    model.eval()
    mine = offsets[ctx.rank :: ctx.world_size]
    totals = torch.zeros(2, dtype=torch.float64, device=ctx.device)  # (loss sum, tokens)
    for start in range(0, len(mine), micro_batch):
        x, y = gather(tokens, mine[start : start + micro_batch], seq_len, ctx.device)
        with autocast(ctx.device, bf16):
            logits = model(x)  # (B, T, V)
        loss = F.cross_entropy(logits.float().flatten(0, 1), y.flatten(), reduction="sum")
        totals[0] += loss.double()
        totals[1] += y.numel()
    all_reduce_sum(totals, ctx)
    model.train(was_training)
    return float(totals[0] / totals[1])

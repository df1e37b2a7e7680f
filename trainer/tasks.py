"""A built-in ranked-classification task, so a calibration sweep yields metrics besides
its loss and the service can fit downstream links to them (docs/laws.md §20).

No permissively licensed multiple-choice set fits the trainer's corpora (a byte-level
model trained for minutes on the Python standard library scores chance on ARC or
HellaSwag), so the task is synthetic and built from the corpus itself, in the format
of the OLMo ladder's ranked-classification evaluations (Bhagia et al. 2024): each item
is a context from the held-out split and ``choices`` continuations of equal length, the
true one and others cut from elsewhere in the split; the model ranks them by the summed
log-probability of the continuation given the context. Two metrics per evaluation:

- ``continuation_acc``: the share of items whose true continuation ranks first;
- ``continuation_bpb``: bits per byte of the true continuation (with the byte
  tokenizer a token is a byte), or ``continuation_loss``, nats per token, for corpora
  of other tokenizers.

The items are a pure function of the held-out tokens and a seed, so every evaluation of
every run scores the same items.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from flopwise.trainer.ddp import DistContext, all_reduce_sum
from flopwise.trainer.evaluation import autocast

__all__ = ["TASK", "TaskSet", "build_tasks", "score_tasks", "task_set"]

TASK = "continuation"
"""The task's name: its metrics are ``continuation_acc`` and ``continuation_bpb``."""
BYTE_TOKENIZER = "bytes-utf8"


@dataclass(frozen=True, eq=False)
class TaskSet:
    """Items of the ranked-classification task: every choice is context + continuation."""

    sequences: np.ndarray
    """(items, choices, context + continuation) token ids."""
    answer: np.ndarray
    """(items,) index of the true continuation."""
    context: int
    """Tokens of context before each continuation."""

    @property
    def continuation(self) -> int:
        return self.sequences.shape[2] - self.context


def build_tasks(
    val: np.ndarray,
    *,
    items: int,
    seq_len: int,
    choices: int = 4,
    continuation: int = 16,
    seed: int = 0,
) -> TaskSet:
    """``items`` items from the held-out tokens ``val``: contexts of up to 64 tokens
    (within ``seq_len``), ``choices`` continuations of ``continuation`` tokens each."""
    context = min(64, seq_len - continuation)
    span = context + continuation
    if items < 1 or context < 1 or val.size < span * items * choices:
        raise ValueError(f"data: val.bin is too short for {items} task items of {span} tokens")
    rng = np.random.default_rng(seed)
    slots = len(val) // span
    starts = rng.choice(slots, size=(items, choices), replace=False) * span
    windows = np.stack([np.asarray(val[s : s + span], dtype=np.int64) for s in starts.ravel()])
    windows = windows.reshape(items, choices, span)
    answer = rng.integers(0, choices, size=items)
    own = windows[np.arange(items), answer, :context]  # each item keeps its answer's context
    windows[:, :, :context] = own[:, None, :]
    return TaskSet(windows, answer, context)


def task_set(val: np.ndarray, items: int, seq_len: int) -> TaskSet | None:
    """The items a run scores at each evaluation (the same for every run), or ``None``
    when ``items`` is 0 or the held-out split is too short for them."""
    if items < 1 or seq_len < 32 or val.size < seq_len * items * 4:
        return None
    return build_tasks(val, items=items, seq_len=seq_len)


@torch.no_grad()
def score_tasks(
    model: nn.Module,
    tasks: TaskSet | None,
    micro_batch: int,
    ctx: DistContext,
    bf16: bool,
    tokenizer: str,
) -> dict[str, float]:
    """The task's metrics for ``model``: accuracy and the true continuation's loss (none
    without items)."""
    if tasks is None:
        return {}
    was_training = model.training
    model.eval()
    n_items, n_choices, span = tasks.sequences.shape
    mine = np.arange(n_items)[ctx.rank :: ctx.world_size]
    totals = torch.zeros(3, dtype=torch.float64, device=ctx.device)  # correct, nats, tokens
    per_batch = max(1, micro_batch // n_choices)
    for start in range(0, len(mine), per_batch):
        idx = mine[start : start + per_batch]
        seqs = torch.from_numpy(tasks.sequences[idx].reshape(-1, span)).to(ctx.device)
        with autocast(ctx.device, bf16):
            logits = model(seqs[:, :-1])
        logp = F.log_softmax(logits.float(), dim=-1).gather(-1, seqs[:, 1:, None])[..., 0]
        nats = -logp[:, tasks.context - 1 :].sum(dim=1).view(len(idx), n_choices)
        truth = torch.from_numpy(tasks.answer[idx]).to(ctx.device)
        totals[0] += (nats.argmin(dim=1) == truth).sum().double()
        totals[1] += nats.gather(1, truth[:, None]).sum().double()
        totals[2] += len(idx) * tasks.continuation
    all_reduce_sum(totals, ctx)
    model.train(was_training)
    per_token = float(totals[1] / totals[2])
    loss = (f"{TASK}_bpb", per_token / math.log(2.0))
    if tokenizer != BYTE_TOKENIZER:
        loss = (f"{TASK}_loss", per_token)
    return {f"{TASK}_acc": float(totals[0]) / n_items, loss[0]: loss[1]}

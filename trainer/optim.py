"""Learning rate and optimizer: Gemstones' shape-aware LR, warmup-stable-decay, AdamW.

* Peak LR (McLeish et al. 2025, docs/laws.md §8.2): ``lr = lr_base / (width x sqrt(depth))``
  with ``lr_base = 5``; when ``width / depth > 256`` the authors scale as if
  ``depth = ceil(width / 100)`` (their stability patch for very shallow models).
* Schedule: linear warmup from 0, then constant (Gemstones), with an optional
  cooldown to 0 over the last part of the run, linear or 1-sqrt (Hägele et al. 2024,
  docs/laws.md §10.1): warmup-stable-decay.
* AdamW (0.9, 0.95), weight decay 0.1 on matrices and embeddings only: never on norm
  gains or biases (every 1-D parameter). Fused (one kernel over all tensors).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from flopwise.fitting.schedules import Schedule, gemstones_lr
from flopwise.trainer.config import TrainConfig

__all__ = [
    "gemstones_lr",
    "lr_multiplier",
    "make_optimizer",
    "run_lr",
    "run_schedule",
    "schedule_steps",
]


def schedule_steps(config: TrainConfig, total_steps: int, tokens_per_step: int) -> tuple[int, int]:
    """(warmup steps, cooldown steps) of a run of ``total_steps``."""
    warmup = min(math.ceil(config.warmup_tokens / tokens_per_step), total_steps)
    cooldown = round(config.cooldown_fraction * total_steps)
    return warmup, cooldown


def lr_multiplier(step: int, total_steps: int, warmup: int, cooldown: int, shape: str) -> float:
    """Factor on the peak LR at optimizer step ``step`` (0-based): warmup, hold, decay."""
    if step < warmup:
        return (step + 1) / warmup
    start = total_steps - cooldown
    if cooldown and step >= start:
        t = (step - start + 1) / cooldown  # progress within the cooldown, in (0, 1]
        return 1.0 - (math.sqrt(t) if shape == "1-sqrt" else t)
    return 1.0


def run_schedule(
    peak: float, total_steps: int, warmup: int, cooldown: int, shape: str, tokens_per_step: int
) -> Schedule:
    """The schedule :func:`lr_multiplier` follows, as data in tokens (what a run's
    observations carry, docs/laws.md §21): constant, or wsd with its cooldown."""
    return Schedule(
        "wsd" if cooldown else "constant",
        peak,
        warmup_tokens=float(warmup * tokens_per_step),
        decay_tokens=float(cooldown * tokens_per_step) if cooldown else None,
        total_tokens=float(total_steps * tokens_per_step),
        cooldown=shape,
    )


def run_lr(
    config: TrainConfig, width: int, depth: int, total_steps: int, tokens_per_step: int
) -> tuple[int, int, float, dict[str, Any]]:
    """A run's warmup and cooldown steps, peak LR (the explicit one, else Gemstones'
    rule) and its schedule as its observations carry it."""
    warmup, cooldown = schedule_steps(config, total_steps, tokens_per_step)
    peak = config.lr or gemstones_lr(width, depth, config.lr_base)
    schedule = run_schedule(
        peak, total_steps, warmup, cooldown, config.cooldown_shape, tokens_per_step
    )
    return warmup, cooldown, peak, schedule.to_dict()


def make_optimizer(
    model: nn.Module, config: TrainConfig, lr: float, device: torch.device
) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices/embeddings (dim >= 2) only."""
    decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(
        groups,
        lr=lr,
        betas=(config.beta1, config.beta2),
        eps=1e-8,
        fused=device.type in ("cuda", "cpu"),  # one kernel for all tensors (4x on tiny CPU models)
    )
